package rpc

import (
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
)

const fanoutPackage = protogen.GoImportPath("github.com/polyrpc/polyrpc/fanout")

// fanOut emits, for the fanout option, the XxxFanOutClient interface, its
// implementation and NewXxxFanOutClient. Each method is one call into
// package fanout with a method expression of XxxClient, so the generated
// code holds no logic of its own. Client-streaming and bidirectional methods
// have no fan-out form (there is no single request to send to every
// target); the interface's comment names them.
func (e *emitter) fanOut(n serviceNames, s *protogen.Service, deprecated bool) {
	g, v := e.g, e.v
	var methods, skipped []*protogen.Method
	for _, m := range s.Methods {
		if m.Desc.IsStreamingClient() {
			skipped = append(skipped, m)
		} else {
			methods = append(methods, m)
		}
	}

	g.P("// ", n.FanOutClient, " calls the unary and server-streaming methods of")
	g.P("// ", s.GoName, " on several targets at once; see ", n.NewFanOutClient, ".")
	if len(skipped) > 0 {
		names := make([]string, len(skipped))
		for i, m := range skipped {
			names[i] = m.GoName
		}
		verb, it := "streams its requests, so it has", "it"
		if len(skipped) > 1 {
			verb, it = "stream their requests, so they have", "them"
		}
		g.P("//")
		list := names[len(names)-1]
		if len(names) > 1 {
			list = strings.Join(names[:len(names)-1], ", ") + " and " + list
		}
		g.P("// ", list, " ", verb, " no fan-out form:")
		g.P("// call ", it, " on the ", n.Client, " of each target.")
	}
	if deprecated {
		g.P("//")
		g.P(deprecationComment)
	}
	g.AnnotateSymbol(n.FanOutClient, protogen.Annotation{Location: s.Location})
	g.P("type ", n.FanOutClient, " interface {")
	for _, m := range methods {
		g.AnnotateSymbol(n.FanOutClient+"."+m.GoName, protogen.Annotation{Location: m.Location})
		if methodDeprecated(m) {
			g.P(deprecationComment)
		}
		g.P(goComment(string(m.Comments.Leading)), e.fanOutSignature(m))
	}
	g.P("}")
	g.P()

	g.P("type ", n.FanOutClientImpl, " struct {")
	g.P("t *", fanoutPackage.Ident("Targets"), "[", n.Client, "]")
	g.P("}")
	g.P()

	g.P("// ", n.NewFanOutClient, " returns a client that calls each unary and")
	g.P("// server-streaming method of ", s.GoName, " on every client of targets at once,")
	g.P("// each named by its key. A unary method returns one fanout.Result per")
	g.P("// target, sorted by target name; a server-streaming method returns one")
	g.P("// fanout.Stream merging the targets' replies, each fanout.Message naming its")
	g.P("// target, and a target that fails yields an entry with its error while the")
	g.P("// others go on. The opts (fanout.Concurrency, fanout.TargetTimeout) limit")
	g.P("// the calls in flight and give each target call its own deadline.")
	g.P("//")
	g.P("// It fails if targets is empty, or if a name is empty or a client nil.")
	if deprecated {
		g.P("//")
		g.P(deprecationComment)
	}
	g.P("func ", n.NewFanOutClient, "(", v.targets, " map[string]", n.Client, ", ", v.opts, " ...", fanoutPackage.Ident("Option"), ") (", n.FanOutClient, ", error) {")
	g.P(v.c, ", ", v.err, " := ", fanoutPackage.Ident("NewTargets"), "(", v.targets, ", ", v.opts, "...)")
	g.P("if ", v.err, " != nil {")
	g.P("return nil, ", v.err)
	g.P("}")
	g.P("return &", n.FanOutClientImpl, "{", v.c, "}, nil")
	g.P("}")
	g.P()

	for _, m := range methods {
		run := "Unary"
		if m.Desc.IsStreamingServer() {
			run = "ServerStream"
		}
		if methodDeprecated(m) {
			g.P(deprecationComment)
		}
		g.P("func (", v.c, " *", n.FanOutClientImpl, ") ", e.fanOutSignature(m), " {")
		g.P("return ", fanoutPackage.Ident(run), "(", v.ctx, ", ", v.c, ".t, ", v.in, ", ", n.Client, ".", m.GoName, ", ", v.opts, "...)")
		g.P("}")
		g.P()
	}
}

// fanOutSignature is the signature of a method of XxxFanOutClient.
func (e *emitter) fanOutSignature(m *protogen.Method) string {
	g, v := e.g, e.v
	out := g.QualifiedGoIdent(m.Output.GoIdent)
	s := m.GoName + "(" + v.ctx + " " + g.QualifiedGoIdent(contextPackage.Ident("Context")) +
		", " + v.in + " *" + g.QualifiedGoIdent(m.Input.GoIdent) +
		", " + v.opts + " ..." + g.QualifiedGoIdent(grpcPackage.Ident("CallOption")) + ") "
	if m.Desc.IsStreamingServer() {
		return s + "(*" + g.QualifiedGoIdent(fanoutPackage.Ident("Stream")) + "[*" + out + "], error)"
	}
	return s + "[]" + g.QualifiedGoIdent(fanoutPackage.Ident("Result")) + "[*" + out + "]"
}
