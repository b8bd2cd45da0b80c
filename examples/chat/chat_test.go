package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/polyrpc/polyrpc"
	chatv1 "github.com/polyrpc/polyrpc/examples/chat/gen/chat/v1"
)

func TestHubDropsSlowReader(t *testing.T) {
	hub := NewHub(10, 4)
	_, slow, leaveSlow := hub.Subscribe("r", 0)
	defer leaveSlow()
	_, fast, leaveFast := hub.Subscribe("r", 0)
	defer leaveFast()

	// Publish 100 notes, each once the reading subscriber has taken the
	// previous one; the other subscriber never reads.
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := range 100 {
			hub.Publish("r", "a", "hello")
			select {
			case n := <-fast.Notes:
				if n.GetSeq() != uint64(i+1) {
					t.Errorf("reader got seq %d, want %d", n.GetSeq(), i+1)
				}
			case <-fast.Dropped:
				t.Error("the reading subscriber was dropped")
				return
			}
		}
	}()
	select {
	case <-published:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	select {
	case <-slow.Dropped:
	default:
		t.Fatal("the slow subscriber was not dropped")
	}
	if len(slow.Notes) != 4 {
		t.Errorf("slow subscriber queued %d notes, want its buffer of 4", len(slow.Notes))
	}
	if n := hub.Subscribers("r"); n != 1 {
		t.Errorf("Subscribers = %d, want 1", n)
	}
}

func TestHubBacklogAndHistory(t *testing.T) {
	hub := NewHub(3, 8)
	for _, text := range []string{"one", "two", "three", "four"} {
		hub.Publish("r", "a", text)
	}
	hub.Publish("other", "a", "elsewhere")
	var texts []string
	for _, n := range hub.History("r") {
		texts = append(texts, n.GetText())
	}
	if strings.Join(texts, ",") != "two,three,four" {
		t.Errorf("History = %q, want the last three", texts)
	}
	backlog, sub, leave := hub.Subscribe("r", 3)
	defer leave()
	if len(backlog) != 1 || backlog[0].GetSeq() != 4 {
		t.Errorf("backlog after seq 3 = %v, want seq 4 only", backlog)
	}
	hub.Publish("r", "a", "five")
	if n := <-sub.Notes; n.GetSeq() != 5 || n.GetText() != "five" {
		t.Errorf("got %v, want note 5", n)
	}
}

func TestHubForgetsEmptyRooms(t *testing.T) {
	hub := NewHub(3, 8)
	for i := range 100 {
		_, _, leave := hub.Subscribe(fmt.Sprintf("room-%d", i), 0)
		leave()
	}
	_, _, leave := hub.Subscribe("kept", 0)
	hub.Publish("kept", "a", "hello")
	leave()
	hub.mu.Lock()
	n := len(hub.rooms)
	hub.mu.Unlock()
	if n != 1 {
		t.Errorf("hub keeps %d rooms, want only the one with history", n)
	}
	if h := hub.History("kept"); len(h) != 1 {
		t.Errorf("History(kept) = %v, want its note", h)
	}
}

func newTestServer(t *testing.T) (*httptest.Server, *Hub) {
	t.Helper()
	hub := NewHub(100, 64)
	srv := httptest.NewUnstartedServer(newHandler(hub))
	srv.EnableHTTP2 = true // the page uses HTTP/1.1; the Go clients below too, or h2
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, hub
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestChatStream follows a room from Go over every protocol, and checks that
// the stream ends on the server (no subscriber, no goroutine left) when the
// caller goes away.
func TestChatStream(t *testing.T) {
	srv, hub := newTestServer(t)
	for name, opts := range map[string][]connect.ClientOption{
		"connect": nil,
		"grpc":    {connect.WithGRPC()},
		"grpcweb": {connect.WithGRPCWeb()},
	} {
		t.Run(name, func(t *testing.T) {
			room := "room-" + name
			client := chatv1.NewChatServiceClient(polyrpc.NewClientConn(srv.Client(), srv.URL, opts...))
			if _, err := client.SendNote(context.Background(), &chatv1.SendNoteRequest{Room: room, Author: "ann", Text: "before"}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, err := client.ChatStream(ctx, &chatv1.ChatStreamRequest{Room: room})
			if err != nil {
				t.Fatal(err)
			}
			// The headers arrive before any note: we are subscribed.
			if _, err := stream.Header(); err != nil {
				t.Fatal(err)
			}
			if n := hub.Subscribers(room); n != 1 {
				t.Fatalf("Subscribers = %d after the headers, want 1", n)
			}
			if _, err := client.SendNote(context.Background(), &chatv1.SendNoteRequest{Room: room, Author: "bob", Text: "after"}); err != nil {
				t.Fatal(err)
			}
			for i, want := range []string{"ann: before", "bob: after"} {
				resp, err := stream.Recv()
				if err != nil {
					t.Fatal(err)
				}
				n := resp.GetNote()
				if got := n.GetAuthor() + ": " + n.GetText(); got != want || n.GetSeq() != uint64(i+1) || n.GetRoom() != room {
					t.Errorf("note %d = %v, want %q", i, n, want)
				}
			}
			cancel()
			waitFor(t, "the stream to end on the server", func() bool { return hub.Subscribers(room) == 0 })
		})
	}
}

// TestSlowReaderOverHTTP follows a room with two clients: one reads, the
// other stops reading. Notes are sent one at a time, each as soon as the
// reader has it. When the connection of the idle client is full, the hub
// drops it without slowing anybody down; the reader is never dropped, and
// the idle client finds RESOURCE_EXHAUSTED after the notes already on their way.
func TestSlowReaderOverHTTP(t *testing.T) {
	// Small socket buffers on both ends, so that a client that does not
	// read fills its connection after a few notes, whatever the system's
	// defaults and autotuning.
	const socketBuffer = 16 << 10
	hub := NewHub(100, 64)
	srv := httptest.NewUnstartedServer(newHandler(hub))
	srv.Listener = smallBuffers{srv.Listener, socketBuffer}
	srv.Start()
	defer srv.Close()
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetReadBuffer(socketBuffer)
			}
			return c, err
		},
	}
	defer transport.CloseIdleConnections()
	client := chatv1.NewChatServiceClient(polyrpc.NewClientConn(&http.Client{Transport: transport}, srv.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	follow := func() chatv1.ChatService_ChatStreamClient {
		stream, err := client.ChatStream(ctx, &chatv1.ChatStreamRequest{Room: "busy"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Header(); err != nil {
			t.Fatal(err)
		}
		return stream
	}
	idle, reader := follow(), follow()
	got := make(chan error)
	go func() {
		for {
			_, err := reader.Recv()
			select {
			case got <- err:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	text := strings.Repeat("x", 1000)
	start := time.Now()
	sent := 0
	for hub.Subscribers("busy") == 2 {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the idle subscriber was not dropped after %d notes in %v", sent, time.Since(start))
		}
		hub.Publish("busy", "ann", text)
		sent++
		if err := <-got; err != nil {
			t.Fatalf("the reader failed after %d notes: %v", sent, err)
		}
	}
	t.Logf("the idle subscriber was dropped after %d notes (%v)", sent, time.Since(start).Round(time.Millisecond))
	if n := hub.Subscribers("busy"); n != 1 {
		t.Fatalf("Subscribers = %d, want the reader only", n)
	}
	if sent <= 64 {
		t.Errorf("dropped after %d notes: before its buffer of 64 could have filled", sent)
	}
	received := 0
	for {
		_, err := idle.Recv()
		if err != nil {
			if status.Code(err) != codes.ResourceExhausted {
				t.Fatalf("after %d notes: got %v, want ResourceExhausted", received, err)
			}
			break
		}
		received++
	}
	if received == 0 || received >= sent {
		t.Errorf("the idle client received %d of %d notes before the error", received, sent)
	}
}

// smallBuffers gives every accepted connection a small send buffer.
type smallBuffers struct {
	net.Listener
	size int
}

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(l.size)
	}
	return c, err
}

// TestHistoryGET fetches the history the way the page does: a plain GET.
func TestHistoryGET(t *testing.T) {
	srv, hub := newTestServer(t)
	hub.Publish("lobby", "ann", "hi <b>there</b>")
	q := url.Values{"connect": {"v1"}, "encoding": {"json"}, "message": {`{"room":"lobby"}`}}
	resp, err := http.Get(srv.URL + "/chat.v1.ChatService/History?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", resp.Status, body)
	}
	var got struct {
		Notes []struct {
			Seq, Room, Author, Text, SentAt string
		}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Notes) != 1 || got.Notes[0].Seq != "1" || got.Notes[0].Text != "hi <b>there</b>" || got.Notes[0].SentAt == "" {
		t.Errorf("History = %s", body)
	}
}

func TestSendNoteInvalid(t *testing.T) {
	srv, _ := newTestServer(t)
	client := chatv1.NewChatServiceClient(polyrpc.NewClientConn(srv.Client(), srv.URL))
	_, err := client.SendNote(context.Background(), &chatv1.SendNoteRequest{Room: "r", Text: strings.Repeat("x", 1001)})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	if strings.Join(fields, ",") != "author,text" {
		t.Errorf("field violations = %q, want author and text", fields)
	}
}

// TestPages checks what the server serves besides the API.
func TestPages(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, tc := range []struct {
		path, contentType string
		contains          []string
	}{
		{"/", "text/html", []string{`<script src="chat.js">`, `<ol id="notes">`}},
		{"/chat.js", "text/javascript", []string{"application/connect+json", "0x02"}},
		{"/docs/", "text/html", []string{"chat.v1.ChatService", "SendNote", "ChatStream", "History"}},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) {
			t.Errorf("GET %s: %s, Content-Type %q", tc.path, resp.Status, resp.Header.Get("Content-Type"))
		}
		for _, s := range tc.contains {
			if !strings.Contains(string(body), s) {
				t.Errorf("GET %s: body lacks %q", tc.path, s)
			}
		}
	}
}

func TestDisplayAddr(t *testing.T) {
	for _, tc := range []struct{ asked, bound, want string }{
		{"localhost:8080", "127.0.0.1:8080", "localhost:8080"},
		{"127.0.0.1:0", "127.0.0.1:41234", "127.0.0.1:41234"},
		{":8080", "[::]:8080", "localhost:8080"},
	} {
		bound, err := net.ResolveTCPAddr("tcp", tc.bound)
		if err != nil {
			t.Fatal(err)
		}
		if got := displayAddr(tc.asked, bound); got != tc.want {
			t.Errorf("displayAddr(%q, %q) = %q, want %q", tc.asked, tc.bound, got, tc.want)
		}
	}
}
