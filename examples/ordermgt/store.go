// Package ordermgt is the order management example: an in-memory order
// store, the OrderManagement service on top of it, the interceptors every
// real service needs, and the client scenario that exercises all of it.
//
// The same service runs on a polyrpc.Server (gRPC, gRPC-Web and Connect on
// one port, HTTP/1.1 and h2c) or on a native grpc.Server; see Serve.
package ordermgt

import (
	"fmt"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	ecommercev1 "github.com/polyrpc/polyrpc/examples/ordermgt/gen/ecommerce/v1"
)

// Store keeps orders in memory. It is safe for concurrent use; it hands out
// and takes in copies, so callers never share an order with the store.
type Store struct {
	mu     sync.RWMutex
	orders map[string]*ecommercev1.Order
	ids    []string // insertion order, for stable search results
	next   int
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{orders: make(map[string]*ecommercev1.Order)}
}

// Add stores a copy of o under a new id, marks it pending and returns the id.
func (s *Store) Add(o *ecommercev1.Order) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := fmt.Sprintf("ord-%d", s.next)
	c := proto.CloneOf(o)
	c.Id = id
	c.Status = ecommercev1.OrderStatus_ORDER_STATUS_PENDING
	s.orders[id] = c
	s.ids = append(s.ids, id)
	return id
}

// Get returns a copy of the order with the given id.
func (s *Store) Get(id string) (*ecommercev1.Order, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.orders[id]
	if !ok {
		return nil, false
	}
	return proto.CloneOf(o), true
}

// Search returns copies of the orders with an item that contains query,
// ignoring case, in the order they were added.
func (s *Store) Search(query string) []*ecommercev1.Order {
	q := strings.ToLower(query)
	s.mu.RLock()
	defer s.mu.RUnlock()
	var found []*ecommercev1.Order
	for _, id := range s.ids {
		o := s.orders[id]
		for _, item := range o.GetItems() {
			if strings.Contains(strings.ToLower(item), q) {
				found = append(found, proto.CloneOf(o))
				break
			}
		}
	}
	return found
}

// Update replaces the order with o's id, keeping its status. It reports
// whether such an order existed.
func (s *Store) Update(o *ecommercev1.Order) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.orders[o.GetId()]
	if !ok {
		return false
	}
	c := proto.CloneOf(o)
	c.Status = old.Status
	s.orders[c.Id] = c
	return true
}

// Ship marks the order with the given id as shipped and returns a copy.
func (s *Store) Ship(id string) (*ecommercev1.Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return nil, false
	}
	o.Status = ecommercev1.OrderStatus_ORDER_STATUS_SHIPPED
	return proto.CloneOf(o), true
}
