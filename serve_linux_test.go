package polyrpc_test

import (
	"context"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/polyrpc/polyrpc"
)

// TestServeTCPKeepAlive: accepted connections get TCP keepalive, also from
// a listener that does not set it.
func TestServeTCPKeepAlive(t *testing.T) {
	conns := make(chan net.Conn, 1)
	s := polyrpc.NewServer(polyrpc.HTTPServer(func(hs *http.Server) {
		hs.ConnState = func(c net.Conn, state http.ConnState) {
			if state == http.StateNew {
				conns <- c
			}
		}
	}))
	lis, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	defer s.Stop()
	c, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Serve sorts a connection by its first bytes before net/http sees it.
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\n")); err != nil {
		t.Fatal(err)
	}
	var server net.Conn
	select {
	case server = <-conns:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted")
	}
	tc, ok := server.(*net.TCPConn)
	if !ok {
		t.Fatalf("accepted %T", server)
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var on, idle int
	var sockErr error
	err = raw.Control(func(fd uintptr) {
		on, sockErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		if sockErr == nil {
			idle, sockErr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
		}
	})
	if err != nil || sockErr != nil {
		t.Fatal(err, sockErr)
	}
	if on != 1 || idle != 15 {
		t.Errorf("SO_KEEPALIVE = %d, TCP_KEEPIDLE = %d; want 1, 15", on, idle)
	}
}
