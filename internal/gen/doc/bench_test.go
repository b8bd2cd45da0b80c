package doc

import (
	"fmt"
	"strings"
	"testing"
)

// largeProtos makes n files of 40 messages with 15 commented fields and a
// service of 10 methods each, every file importing the one before.
func largeProtos(n int) (map[string]string, []string) {
	srcs := map[string]string{}
	var names []string
	for i := 0; i < n; i++ {
		var b strings.Builder
		fmt.Fprintf(&b, "syntax = \"proto3\";\n\n// Package big%d is a generated test package.\npackage big.v%d;\n\n", i, i)
		if i > 0 {
			fmt.Fprintf(&b, "import \"big/f%d.proto\";\n\n", i-1)
		}
		fmt.Fprintf(&b, "// Service%d does things.\nservice Service%d {\n", i, i)
		for m := 0; m < 10; m++ {
			fmt.Fprintf(&b, "  // Method%d does thing %d.\n  rpc Method%d(Msg%d) returns (Msg%d);\n", m, m, m, m, m+1)
		}
		b.WriteString("}\n")
		for m := 0; m < 40; m++ {
			fmt.Fprintf(&b, "// Msg%d is message %d with **bold** and `code`.\nmessage Msg%d {\n", m, m, m)
			for f := 0; f < 15; f++ {
				switch {
				case f == 3 && m > 0:
					fmt.Fprintf(&b, "  // Field f%d refers to Msg%d.\n  Msg%d f%d = %d;\n", f, m-1, m-1, f, f+1)
				case f == 4:
					fmt.Fprintf(&b, "  // Field f%d is a map.\n  map<string, int32> f%d = %d;\n", f, f, f+1)
				case f == 5 && i > 0:
					fmt.Fprintf(&b, "  // Field f%d is imported.\n  big.v%d.Msg%d f%d = %d;\n", f, i-1, m, f, f+1)
				default:
					fmt.Fprintf(&b, "  // Field f%d of message %d; it holds a value.\n  optional string f%d = %d;\n", f, m, f, f+1)
				}
			}
			b.WriteString("}\n")
		}
		name := fmt.Sprintf("big/f%d.proto", i)
		srcs[name] = b.String()
		names = append(names, name)
	}
	return srcs, names
}

// BenchmarkGenerate documents 20 files (800 messages, 12,000 fields) as
// one HTML page.
func BenchmarkGenerate(b *testing.B) {
	for _, format := range []string{"html", "markdown", "json"} {
		b.Run(format, func(b *testing.B) {
			srcs, names := largeProtos(20)
			req := compileSources(b, srcs, "format="+format, names...)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if resp := Generate(req); resp.Error != nil {
					b.Fatal(resp.GetError())
				}
			}
		})
	}
}
