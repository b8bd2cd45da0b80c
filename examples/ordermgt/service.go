package ordermgt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ecommercev1 "github.com/polyrpc/polyrpc/examples/ordermgt/gen/ecommerce/v1"
)

// DefaultBatchSize is how many orders for one destination make a shipment.
const DefaultBatchSize = 3

// Service implements ecommercev1.OrderManagementServer on a Store. It is
// plain grpc-go code: nothing in it knows which engine serves it.
type Service struct {
	ecommercev1.UnimplementedOrderManagementServer

	store     *Store
	batchSize int
	// streamDelay slows down every message SearchOrders sends, to make
	// deadlines easy to watch.
	streamDelay time.Duration
	shipments   atomic.Int64
}

// NewService returns the service for store. batchSize <= 0 means
// DefaultBatchSize; streamDelay is a pause before each SearchOrders result.
func NewService(store *Store, batchSize int, streamDelay time.Duration) *Service {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	return &Service{store: store, batchSize: batchSize, streamDelay: streamDelay}
}

func (s *Service) AddOrder(_ context.Context, req *ecommercev1.AddOrderRequest) (*ecommercev1.AddOrderResponse, error) {
	if err := validateOrder(req.GetOrder(), false); err != nil {
		return nil, err
	}
	return &ecommercev1.AddOrderResponse{Id: s.store.Add(req.GetOrder())}, nil
}

func (s *Service) GetOrder(_ context.Context, req *ecommercev1.GetOrderRequest) (*ecommercev1.GetOrderResponse, error) {
	o, ok := s.store.Get(req.GetId())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "order %q not found", req.GetId())
	}
	return &ecommercev1.GetOrderResponse{Order: o}, nil
}

func (s *Service) SearchOrders(req *ecommercev1.SearchOrdersRequest, stream ecommercev1.OrderManagement_SearchOrdersServer) error {
	ctx := stream.Context()
	for _, o := range s.store.Search(req.GetQuery()) {
		if s.streamDelay > 0 {
			t := time.NewTimer(s.streamDelay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		// Stop as soon as the caller's deadline passes or it goes away.
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		if err := stream.Send(&ecommercev1.SearchOrdersResponse{Order: o}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) UpdateOrders(stream ecommercev1.OrderManagement_UpdateOrdersServer) error {
	var ids []string
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&ecommercev1.UpdateOrdersResponse{Ids: ids})
		}
		if err != nil {
			return err // includes an expired deadline
		}
		if err := validateOrder(req.GetOrder(), true); err != nil {
			return err
		}
		if !s.store.Update(req.GetOrder()) {
			return status.Errorf(codes.NotFound, "order %q not found", req.GetOrder().GetId())
		}
		ids = append(ids, req.GetOrder().GetId())
	}
}

func (s *Service) ProcessOrders(stream ecommercev1.OrderManagement_ProcessOrdersServer) error {
	ctx := stream.Context()
	batches := make(map[string]*ecommercev1.CombinedShipment)
	var destinations []string // first come, first shipped
	ship := func(dest string) error {
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		sh := batches[dest]
		for i, o := range sh.Orders {
			if shipped, ok := s.store.Ship(o.GetId()); ok {
				sh.Orders[i] = shipped
			}
		}
		delete(batches, dest)
		for i, d := range destinations {
			if d == dest {
				destinations = append(destinations[:i], destinations[i+1:]...)
				break
			}
		}
		return stream.Send(&ecommercev1.ProcessOrdersResponse{Shipment: sh})
	}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err // includes an expired deadline
		}
		o, ok := s.store.Get(req.GetOrderId())
		if !ok {
			return status.Errorf(codes.NotFound, "order %q not found", req.GetOrderId())
		}
		dest := o.GetDestination()
		sh, ok := batches[dest]
		if !ok {
			sh = &ecommercev1.CombinedShipment{
				Id:          fmt.Sprintf("shp-%d", s.shipments.Add(1)),
				Destination: dest,
			}
			batches[dest] = sh
			destinations = append(destinations, dest)
		}
		sh.Orders = append(sh.Orders, o)
		if len(sh.Orders) >= s.batchSize {
			if err := ship(dest); err != nil {
				return err
			}
		}
	}
	for len(destinations) > 0 {
		if err := ship(destinations[0]); err != nil {
			return err
		}
	}
	return nil
}

// validateOrder returns INVALID_ARGUMENT with a google.rpc.BadRequest detail
// that lists every problem with o, or nil.
func validateOrder(o *ecommercev1.Order, update bool) error {
	var violations []*errdetails.BadRequest_FieldViolation
	bad := func(field, desc string) {
		violations = append(violations, &errdetails.BadRequest_FieldViolation{
			Field:       "order." + field,
			Description: desc,
		})
	}
	switch {
	case o == nil:
		violations = append(violations, &errdetails.BadRequest_FieldViolation{
			Field: "order", Description: "an order is required",
		})
	default:
		if update && o.GetId() == "" {
			bad("id", "the id of the order to update is required")
		}
		if len(o.GetItems()) == 0 {
			bad("items", "an order needs at least one item")
		}
		for i, item := range o.GetItems() {
			if item == "" {
				bad(fmt.Sprintf("items[%d]", i), "an item needs a name")
			}
		}
		if o.GetPrice() < 0 {
			bad("price", "the price must not be negative")
		}
		if o.GetDestination() == "" {
			bad("destination", "a destination is required")
		}
	}
	if len(violations) == 0 {
		return nil
	}
	st, err := status.New(codes.InvalidArgument, "invalid order").
		WithDetails(&errdetails.BadRequest{FieldViolations: violations})
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return st.Err()
}
