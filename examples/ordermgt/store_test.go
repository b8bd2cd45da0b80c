package ordermgt

import (
	"fmt"
	"sync"
	"testing"

	ecommercev1 "github.com/polyrpc/polyrpc/examples/ordermgt/gen/ecommerce/v1"
)

// TestStoreConcurrent hammers the store from many goroutines; run with
// -race to check the locking too.
func TestStoreConcurrent(t *testing.T) {
	s := NewStore()
	const workers, each = 8, 100
	ids := make(chan string, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				o := &ecommercev1.Order{Items: []string{fmt.Sprintf("item %d/%d", w, i)}, Destination: "Oslo"}
				id := s.Add(o)
				ids <- id
				got, ok := s.Get(id)
				if !ok || got.GetItems()[0] != o.GetItems()[0] {
					t.Errorf("Get(%s) = %v, %v", id, got, ok)
				}
				got.Description = "updated"
				if !s.Update(got) {
					t.Errorf("Update(%s) = false", id)
				}
				s.Search("item")
				if i%2 == 0 {
					s.Ship(id)
				}
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %s handed out twice", id)
		}
		seen[id] = true
	}
	all := s.Search("item")
	if len(all) != workers*each {
		t.Fatalf("store holds %d orders, want %d", len(all), workers*each)
	}
	shipped := 0
	for _, o := range all {
		if o.GetDescription() != "updated" {
			t.Errorf("order %s lost its update", o.GetId())
		}
		if o.GetStatus() == ecommercev1.OrderStatus_ORDER_STATUS_SHIPPED {
			shipped++
		}
	}
	if shipped != workers*each/2 {
		t.Errorf("%d orders shipped, want %d", shipped, workers*each/2)
	}
}

// TestStoreCopies checks that callers never share an order with the store.
func TestStoreCopies(t *testing.T) {
	s := NewStore()
	o := &ecommercev1.Order{Items: []string{"Desk"}, Destination: "Lyon"}
	id := s.Add(o)
	o.Items[0] = "changed by the caller"
	got, _ := s.Get(id)
	if got.GetItems()[0] != "Desk" {
		t.Errorf("the store shares the order passed to Add")
	}
	got.Items[0] = "changed again"
	if again, _ := s.Get(id); again.GetItems()[0] != "Desk" {
		t.Errorf("the store shares the order returned by Get")
	}
}
