package polyrpc

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	connectcors "connectrpc.com/cors"
	"github.com/rs/cors"
	"golang.org/x/net/http/httpguts"
)

// CORSOptions configures [CORS].
type CORSOptions struct {
	// AllowedOrigins are the origins of the pages that may call, each as a
	// browser sends it in the Origin header: scheme, host and, when it is not
	// the scheme's default, port, such as "https://app.example.com" or
	// "http://localhost:5173". Origins are compared without regard to case.
	// One "*" in the host stands for any run of characters, as in
	// "https://*.example.com". "*" alone allows every origin; it cannot be
	// combined with AllowCredentials.
	//
	// With no origins, no page on another origin may call: CORS returns the
	// handler unchanged.
	AllowedOrigins []string

	// AllowedHeaders are the keys of request metadata that pages may send
	// (such as "authorization" or "x-request-id"), besides the headers of
	// the protocols themselves, which are always allowed.
	AllowedHeaders []string

	// AllowedMethods are HTTP methods pages may use besides GET and POST,
	// which the Connect and gRPC-Web protocols need and are always allowed:
	// the methods of REST bindings (google.api.http), such as "PUT",
	// "PATCH" and "DELETE". Methods are case-sensitive tokens, as in HTTP.
	AllowedMethods []string

	// ExposedHeaders are the keys of response metadata that pages may read:
	// what the service sets with grpc.SetHeader, grpc.SendHeader and
	// grpc.SetTrailer. Each key is exposed both as itself and with the
	// "Trailer-" prefix under which the Connect protocol sends the trailers
	// of unary calls. The headers of the protocols themselves (grpc-status,
	// grpc-message, grpc-status-details-bin, and the encodings) are always
	// exposed. gRPC-Web trailers and the trailers of Connect streams travel
	// in the body and need no entry.
	ExposedHeaders []string

	// AllowCredentials lets pages send cookies, HTTP authentication and TLS
	// client certificates (fetch with credentials: "include") and read the
	// answers. Off by default.
	AllowCredentials bool

	// MaxAge is how long a browser may keep the answer to a preflight
	// request and skip the next ones. Zero means two hours (the most
	// Chromium keeps); a negative value asks browsers not to keep it.
	MaxAge time.Duration
}

// corsRequestHeaders are the request headers of the Connect, gRPC-Web and
// gRPC protocols that a page may need to send, besides those of
// connectrpc.com/cors: the compression headers of requests.
var corsRequestHeaders = []string{
	"Connect-Accept-Encoding",
	"Connect-Content-Encoding",
	"Content-Encoding",
	"Grpc-Accept-Encoding",
	"Grpc-Encoding",
}

// corsResponseHeaders are the response headers a page may need to read,
// besides those of connectrpc.com/cors: the compression headers of
// responses, which browser clients read to decode streamed messages.
var corsResponseHeaders = []string{
	"Connect-Accept-Encoding",
	"Connect-Content-Encoding",
	"Grpc-Accept-Encoding",
	"Grpc-Encoding",
}

// CORS wraps h, a [Server] or a handler from [NewHandler], so that pages on
// the origins given in opts may call it from a browser with the Connect and
// gRPC-Web protocols (cross-origin resource sharing). It answers the
// browser's preflight requests (OPTIONS with Access-Control-Request-Method)
// itself and adds the CORS headers to the answers of calls from allowed
// origins; requests from other origins are served as before, without CORS
// headers, so the browser withholds the answer from the page.
//
//	handler := polyrpc.CORS(s, polyrpc.CORSOptions{
//		AllowedOrigins: []string{"https://app.example.com"},
//		AllowedHeaders: []string{"authorization"},
//		ExposedHeaders: []string{"x-request-id"},
//	})
//
// The work is done by github.com/rs/cors, with the methods and headers that
// connectrpc.com/cors lists for the protocols. CORS panics if an origin or
// a header name or a method is malformed, or if AllowCredentials is
// combined with "*".
func CORS(h http.Handler, opts CORSOptions) http.Handler {
	if len(opts.AllowedOrigins) == 0 {
		return h
	}
	for _, origin := range opts.AllowedOrigins {
		if err := checkOrigin(origin); err != nil {
			panic("polyrpc: CORS: " + err.Error())
		}
		if origin == "*" && opts.AllowCredentials {
			panic(`polyrpc: CORS: the origin "*" cannot be combined with AllowCredentials`)
		}
	}
	allowed := append(connectcors.AllowedHeaders(), corsRequestHeaders...)
	for _, name := range opts.AllowedHeaders {
		if err := checkHeaderName(name); err != nil {
			panic("polyrpc: CORS: AllowedHeaders: " + err.Error())
		}
		allowed = append(allowed, name)
	}
	exposed := append(connectcors.ExposedHeaders(), corsResponseHeaders...)
	for _, name := range opts.ExposedHeaders {
		if err := checkHeaderName(name); err != nil {
			panic("polyrpc: CORS: ExposedHeaders: " + err.Error())
		}
		exposed = append(exposed, name, "Trailer-"+name)
	}
	methods := connectcors.AllowedMethods()
	for _, m := range opts.AllowedMethods {
		if !httpguts.ValidHeaderFieldName(m) || m == "*" || m == http.MethodOptions || m == http.MethodConnect || m == http.MethodTrace {
			panic(fmt.Sprintf("polyrpc: CORS: AllowedMethods: %q is not a method pages may be allowed", m))
		}
		if !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	maxAge := int(opts.MaxAge / time.Second)
	switch {
	case opts.MaxAge == 0:
		maxAge = 7200
	case opts.MaxAge < 0:
		maxAge = -1 // rs/cors: "Access-Control-Max-Age: 0"
	case maxAge == 0:
		maxAge = 1
	}
	return cors.New(cors.Options{
		AllowedOrigins:   append([]string(nil), opts.AllowedOrigins...),
		AllowedMethods:   methods,
		AllowedHeaders:   allowed,
		ExposedHeaders:   exposed,
		AllowCredentials: opts.AllowCredentials,
		MaxAge:           maxAge,
	}).Handler(h)
}

// checkOrigin reports whether origin is "*" or an origin as browsers send
// it, with at most one "*" in the host.
func checkOrigin(origin string) error {
	if origin == "*" {
		return nil
	}
	bad := func(why string) error {
		return fmt.Errorf("origin %q %s; want scheme://host[:port], such as \"https://app.example.com\"", origin, why)
	}
	if strings.Count(origin, "*") > 1 {
		return bad("has more than one \"*\"")
	}
	scheme, host, ok := strings.Cut(origin, "://")
	if !ok || scheme == "" {
		return bad("has no scheme")
	}
	if strings.Contains(scheme, "*") {
		return bad("has a \"*\" in the scheme")
	}
	if host == "" || strings.ContainsAny(host, "/?#@\\ \t") {
		return bad("is not a scheme and host alone")
	}
	u, err := url.Parse(strings.Replace(origin, "*", "x", 1))
	if err != nil || u.Host == "" || u.Opaque != "" || u.Path != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return bad("is not a scheme and host alone")
	}
	if port := u.Port(); strings.Contains(port, "x") {
		return bad("has a \"*\" in the port")
	}
	return nil
}

// checkHeaderName reports whether name is a header name other than "*".
func checkHeaderName(name string) error {
	if name == "*" || !httpguts.ValidHeaderFieldName(name) {
		return fmt.Errorf("%q is not a header name", name)
	}
	return nil
}
