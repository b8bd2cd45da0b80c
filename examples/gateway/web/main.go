// Command web serves the page of the gateway example, which calls the
// order management service through rpcproxy from a browser.
//
//	go run ./examples/gateway/web   # then open http://localhost:8081/
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/polyrpc/polyrpc/examples/gateway"
)

func main() {
	addr := flag.String("addr", "localhost:8081", "listen address")
	flag.Parse()
	fmt.Printf("gateway example: open http://%s/ (it calls rpcproxy at http://localhost:8080)\n", *addr)
	srv := &http.Server{Addr: *addr, Handler: gateway.Page(), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
