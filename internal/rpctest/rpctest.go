// Package rpctest starts HTTP test servers for polyrpc's tests: HTTP/1.1,
// cleartext HTTP/2 (h2c) and HTTP/2 over TLS, each with a matching client.
package rpctest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Transport names an HTTP version and security.
type Transport string

// The transports Start knows.
const (
	HTTP1 Transport = "http1"
	H2C   Transport = "h2c"
	H2TLS Transport = "h2tls"
)

// Transports lists every transport.
var Transports = []Transport{HTTP1, H2C, H2TLS}

// HTTP2 reports whether the transport is HTTP/2, which bidirectional
// streaming needs.
func (t Transport) HTTP2() bool { return t != HTTP1 }

// Start serves h on loopback with the transport and returns the base URL and
// a client for it. The server is closed when the test ends.
func Start(tb testing.TB, h http.Handler, t Transport) (string, *http.Client) {
	tb.Helper()
	srv := httptest.NewUnstartedServer(h)
	var client *http.Client
	switch t {
	case HTTP1:
		srv.Start()
		client = srv.Client()
		tr := client.Transport.(*http.Transport)
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP1(true)
	case H2C:
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
		protocols := new(http.Protocols)
		protocols.SetUnencryptedHTTP2(true)
		client = &http.Client{Transport: &http.Transport{Protocols: protocols}}
	case H2TLS:
		srv.EnableHTTP2 = true
		srv.StartTLS()
		client = srv.Client()
	default:
		tb.Fatalf("unknown transport %q", t)
	}
	tb.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return srv.URL, client
}
