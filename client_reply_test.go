package polyrpc_test

import (
	"testing"

	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// TestClientConnReplyTypes checks that a reply replaces the caller's message
// whatever its type: the generated type (moved), a dynamic message of the
// same type (merged) and another type of the same shape (re-decoded).
func TestClientConnReplyTypes(t *testing.T) {
	_, h := polyrpc.NewHandler(&testpb.TestService_ServiceDesc, testService{})
	base, hc := rpctest.Start(t, h, rpctest.H2C)
	cc := polyrpc.NewClientConn(hc, base)
	method := testpb.TestService_UnaryCall_FullMethodName
	req := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hi")}}

	for range 2 {
		reply := &testpb.SimpleResponse{Username: "stale", ServerId: "stale"}
		if err := cc.Invoke(t.Context(), method, req, reply); err != nil {
			t.Fatal(err)
		}
		if string(reply.GetPayload().GetBody()) != "hi" || reply.GetUsername() != "" || reply.GetOauthScope() != method {
			t.Errorf("generated reply = %v", reply)
		}
	}

	desc := (&testpb.SimpleResponse{}).ProtoReflect().Descriptor()
	dyn := dynamicpb.NewMessage(desc)
	dyn.Set(desc.Fields().ByName("username"), dyn.Get(desc.Fields().ByName("oauth_scope")))
	if err := cc.Invoke(t.Context(), method, req, dyn); err != nil {
		t.Fatal(err)
	}
	if got := dyn.Get(desc.Fields().ByName("oauth_scope")).String(); got != method {
		t.Errorf("dynamic reply oauth_scope = %q", got)
	}
	if dyn.Has(desc.Fields().ByName("username")) {
		t.Errorf("dynamic reply kept username %q", dyn.Get(desc.Fields().ByName("username")))
	}
	body := dyn.Get(desc.Fields().ByName("payload")).Message()
	if got := body.Get(body.Descriptor().Fields().ByName("body")).Bytes(); string(got) != "hi" {
		t.Errorf("dynamic reply body = %q", got)
	}

	// StreamingOutputCallResponse has SimpleResponse's field 1, payload.
	other := &testpb.StreamingOutputCallResponse{}
	if err := cc.Invoke(t.Context(), method, req, other); err != nil {
		t.Fatal(err)
	}
	if string(other.GetPayload().GetBody()) != "hi" {
		t.Errorf("reply of another type = %v", other)
	}
}
