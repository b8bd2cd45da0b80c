// Package gateway is the gateway example: rpcproxy (configured by
// rpcproxy.yaml) in front of the order management service on grpc-go's
// grpc.Server, and a page (page/, served by ./web) that calls the service
// from a browser through it.
package gateway

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed page
var page embed.FS

// Page serves the page: plain HTML and JavaScript that call the order
// service through rpcproxy with the Connect protocol (JSON over fetch, no
// generated code). The gateway's URL is the "api" query parameter, by
// default http://localhost:8080.
func Page() http.Handler {
	sub, _ := fs.Sub(page, "page")
	return http.FileServerFS(sub)
}
