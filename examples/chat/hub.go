package main

import (
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/polyrpc/polyrpc/examples/chat/gen/chat/v1"
)

// Hub keeps the rooms: the recent notes of each and who follows it.
//
// Publishing never waits for a subscriber. Each subscriber has a buffered
// channel; one that is full belongs to a reader that has fallen behind, and
// the hub drops that subscriber instead of slowing down everybody else. The
// dropped reader can follow the room again from the last note it saw.
type Hub struct {
	historySize int // notes kept per room
	bufferSize  int // notes queued per subscriber before it is dropped

	mu    sync.Mutex
	rooms map[string]*room
}

type room struct {
	seq     uint64
	history []*chatv1.Note // oldest first, at most historySize
	subs    map[*Subscriber]struct{}
}

// Subscriber receives the notes of one room.
type Subscriber struct {
	// Notes delivers new notes in order. Notes are shared: read, never modify.
	Notes <-chan *chatv1.Note
	// Dropped is closed when the hub gave up on this subscriber because it
	// fell too far behind.
	Dropped <-chan struct{}

	notes   chan *chatv1.Note
	dropped chan struct{}
}

// NewHub returns a hub that keeps historySize notes per room and queues up
// to bufferSize notes for each subscriber.
func NewHub(historySize, bufferSize int) *Hub {
	return &Hub{historySize: historySize, bufferSize: bufferSize, rooms: make(map[string]*room)}
}

func (h *Hub) room(name string) *room {
	r, ok := h.rooms[name]
	if !ok {
		r = &room{subs: make(map[*Subscriber]struct{})}
		h.rooms[name] = r
	}
	return r
}

// Publish adds a note to a room and hands it to every subscriber.
func (h *Hub) Publish(roomName, author, text string) *chatv1.Note {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.room(roomName)
	r.seq++
	n := &chatv1.Note{Seq: r.seq, Room: roomName, Author: author, Text: text, SentAt: timestamppb.New(time.Now())}
	r.history = append(r.history, n)
	if len(r.history) > h.historySize {
		r.history = r.history[len(r.history)-h.historySize:]
	}
	for s := range r.subs {
		select {
		case s.notes <- n:
		default: // a slow reader: drop it rather than wait
			delete(r.subs, s)
			close(s.dropped)
		}
	}
	return n
}

// History returns the notes a room still keeps, oldest first.
func (h *Hub) History(roomName string) []*chatv1.Note {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.rooms[roomName]; ok {
		return append([]*chatv1.Note(nil), r.history...)
	}
	return nil
}

// Subscribe starts following a room. It returns the kept notes with a seq
// larger than afterSeq, and a subscriber that receives every later note;
// taken together, nothing is missed and nothing repeats. Call leave when done.
func (h *Hub) Subscribe(roomName string, afterSeq uint64) (backlog []*chatv1.Note, s *Subscriber, leave func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.room(roomName)
	for _, n := range r.history {
		if n.Seq > afterSeq {
			backlog = append(backlog, n)
		}
	}
	s = &Subscriber{notes: make(chan *chatv1.Note, h.bufferSize), dropped: make(chan struct{})}
	s.Notes, s.Dropped = s.notes, s.dropped
	r.subs[s] = struct{}{}
	return backlog, s, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(r.subs, s)
		if len(r.subs) == 0 && len(r.history) == 0 && h.rooms[roomName] == r {
			delete(h.rooms, roomName) // nothing to keep: following a room costs nothing after
		}
	}
}

// Subscribers returns how many streams follow a room right now.
func (h *Hub) Subscribers(roomName string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.rooms[roomName]; ok {
		return len(r.subs)
	}
	return 0
}
