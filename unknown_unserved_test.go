package polyrpc_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
	"github.com/polyrpc/polyrpc/proxy"
)

// TestUnknownServiceUnserved: a Connect unary call that the
// unknown-service handler refuses with Unimplemented without reading the
// request is a call to a method the server does not have (HTTP 404, as
// connect-go's mux answers); once the handler has read the request,
// Unimplemented is the method's own answer (HTTP 501).
func TestUnknownServiceUnserved(t *testing.T) {
	handler := func(_ any, ss grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(ss)
		if strings.HasSuffix(method, "/Read") {
			if err := ss.RecvMsg(proxy.NewFrame(nil)); err != nil {
				return err
			}
		}
		return status.Error(codes.Unimplemented, "not here")
	}
	s := polyrpc.NewServer(polyrpc.ForceServerCodecV2(proxy.Codec()), polyrpc.UnknownServiceHandler(handler))
	for _, tr := range rpctest.Transports {
		base, hc := rpctest.Start(t, s, tr)
		for method, want := range map[string]int{"/a.B/Refuse": http.StatusNotFound, "/a.B/Read": http.StatusNotImplemented} {
			res, err := hc.Post(base+method, "application/proto", strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode != want || !strings.Contains(string(body), "unimplemented") {
				t.Errorf("%s: POST %s: %d %s, want %d", tr, method, res.StatusCode, body, want)
			}
		}
	}
}
