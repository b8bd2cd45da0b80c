package polyrpc_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/polyrpc/polyrpc"
)

// Pages on https://app.example.com may call the server; the browser asks
// first with a preflight request.
func ExampleCORS() {
	s := polyrpc.NewServer()
	healthgrpc.RegisterHealthServer(s, health.NewServer())
	h := polyrpc.CORS(s, polyrpc.CORSOptions{
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedHeaders: []string{"authorization"}, // request metadata the pages send
		ExposedHeaders: []string{"x-request-id"},  // response metadata the pages read
	})

	req := httptest.NewRequest(http.MethodOptions, "/grpc.health.v1.Health/Check", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	fmt.Println(rec.Header().Get("Access-Control-Allow-Origin"))
	fmt.Println(rec.Header().Get("Access-Control-Allow-Headers"))
	// Output:
	// 204
	// https://app.example.com
	// authorization,connect-protocol-version,content-type
}
