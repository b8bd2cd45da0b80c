package ordermgt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	ecommercev1 "github.com/polyrpc/polyrpc/examples/ordermgt/gen/ecommerce/v1"
)

// sampleOrders is what the scenario buys.
var sampleOrders = []*ecommercev1.Order{
	{Items: []string{"Google Pixel 9", "Google Pixel Buds"}, Description: "Phone and earbuds", Price: 899, Destination: "San Jose, CA"},
	{Items: []string{"Apple Watch S10"}, Description: "Watch", Price: 399, Destination: "Mountain View, CA"},
	{Items: []string{"Google Home Mini", "Google Nest Hub"}, Description: "Smart home", Price: 400, Destination: "Mountain View, CA"},
	{Items: []string{"Amazon Echo"}, Description: "Speaker", Price: 99, Destination: "San Jose, CA"},
	{Items: []string{"Apple iPhone 16", "Google Pixel Charger"}, Description: "Phone and charger", Price: 829, Destination: "San Jose, CA"},
	{Items: []string{"Kindle"}, Description: "E-reader", Price: 120, Destination: "Seattle, WA"},
}

// Scenario tells the whole order management story through client and
// reports each step on w: an unauthenticated call, orders added, an invalid
// order rejected with field violations, lookups, a search stream, a stream of
// updates and, if bidi is true, shipping in batches over a bidirectional
// stream. ctx must carry the bearer token as outgoing metadata.
//
// It returns an error as soon as the service does something unexpected, so
// it doubles as an end-to-end check.
func Scenario(ctx context.Context, client ecommercev1.OrderManagementClient, w io.Writer, bidi bool) error {
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	// 1. Without the token, the auth interceptor turns the call away.
	noToken := metadata.NewOutgoingContext(ctx, metadata.MD{})
	_, err := client.GetOrder(noToken, &ecommercev1.GetOrderRequest{Id: "ord-1"})
	if status.Code(err) != codes.Unauthenticated {
		return fmt.Errorf("GetOrder without a token: got %v, want code Unauthenticated", err)
	}
	say("GetOrder without a token: %s: %s", status.Code(err), status.Convert(err).Message())

	// 2. Unary: add the orders.
	ids := make([]string, len(sampleOrders))
	for i, o := range sampleOrders {
		resp, err := client.AddOrder(ctx, &ecommercev1.AddOrderRequest{Order: o})
		if err != nil {
			return fmt.Errorf("AddOrder: %w", err)
		}
		ids[i] = resp.GetId()
		say("AddOrder: %-6s %-18s %s", ids[i], o.GetDestination(), strings.Join(o.GetItems(), ", "))
	}

	// 3. Invalid input comes back as INVALID_ARGUMENT with a BadRequest detail.
	_, err = client.AddOrder(ctx, &ecommercev1.AddOrderRequest{Order: &ecommercev1.Order{Price: -1}})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		return fmt.Errorf("AddOrder of an invalid order: got %v, want code InvalidArgument", err)
	}
	var violations []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				violations = append(violations, v.GetField()+": "+v.GetDescription())
			}
		}
	}
	if len(violations) != 3 {
		return fmt.Errorf("AddOrder of an invalid order: got field violations %q, want 3 (items, price, destination)", violations)
	}
	say("AddOrder of an invalid order: %s: %s", st.Code(), st.Message())
	for _, v := range violations {
		say("  - %s", v)
	}

	// 4. Unary lookups.
	got, err := client.GetOrder(ctx, &ecommercev1.GetOrderRequest{Id: ids[0]})
	if err != nil {
		return fmt.Errorf("GetOrder %s: %w", ids[0], err)
	}
	if want := sampleOrders[0]; !slices.Equal(got.GetOrder().GetItems(), want.GetItems()) || got.GetOrder().GetStatus() != ecommercev1.OrderStatus_ORDER_STATUS_PENDING {
		return fmt.Errorf("GetOrder %s: got %v", ids[0], got.GetOrder())
	}
	say("GetOrder %s: %s, %.2f, %s", ids[0], got.GetOrder().GetDescription(), got.GetOrder().GetPrice(), got.GetOrder().GetStatus())
	_, err = client.GetOrder(ctx, &ecommercev1.GetOrderRequest{Id: "no-such-order"})
	if status.Code(err) != codes.NotFound {
		return fmt.Errorf("GetOrder of a missing order: got %v, want code NotFound", err)
	}
	say("GetOrder no-such-order: %s: %s", status.Code(err), status.Convert(err).Message())

	// 5. Server streaming: search.
	search, err := client.SearchOrders(ctx, &ecommercev1.SearchOrdersRequest{Query: "google"})
	if err != nil {
		return fmt.Errorf("SearchOrders: %w", err)
	}
	var found []string
	for {
		resp, err := search.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("SearchOrders: %w", err)
		}
		found = append(found, resp.GetOrder().GetId())
		say("SearchOrders google: %-6s %s", resp.GetOrder().GetId(), strings.Join(resp.GetOrder().GetItems(), ", "))
	}
	for _, i := range []int{0, 2, 4} {
		if !slices.Contains(found, ids[i]) {
			return fmt.Errorf("SearchOrders google: got %q, missing %s", found, ids[i])
		}
	}

	// 6. Client streaming: update two orders.
	update, err := client.UpdateOrders(ctx)
	if err != nil {
		return fmt.Errorf("UpdateOrders: %w", err)
	}
	changed := []*ecommercev1.Order{proto.CloneOf(sampleOrders[1]), proto.CloneOf(sampleOrders[3])}
	changed[0].Id, changed[0].Items, changed[0].Price = ids[1], append(changed[0].Items, "Apple Watch Band"), 449
	changed[1].Id, changed[1].Description = ids[3], "Speaker, gift wrapped"
	for _, o := range changed {
		if err := update.Send(&ecommercev1.UpdateOrdersRequest{Order: o}); err != nil {
			return fmt.Errorf("UpdateOrders send: %w", err)
		}
	}
	updated, err := update.CloseAndRecv()
	if err != nil {
		return fmt.Errorf("UpdateOrders: %w", err)
	}
	if want := []string{ids[1], ids[3]}; !slices.Equal(updated.GetIds(), want) {
		return fmt.Errorf("UpdateOrders: got ids %q, want %q", updated.GetIds(), want)
	}
	say("UpdateOrders: updated %s", strings.Join(updated.GetIds(), ", "))

	if !bidi {
		say("ProcessOrders: skipped, bidirectional streaming needs HTTP/2")
		return nil
	}

	// 7. Bidirectional streaming: send order ids while shipments come back.
	process, err := client.ProcessOrders(ctx)
	if err != nil {
		return fmt.Errorf("ProcessOrders: %w", err)
	}
	sendErr := make(chan error, 1)
	go func() {
		for _, id := range ids {
			if err := process.Send(&ecommercev1.ProcessOrdersRequest{OrderId: id}); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- process.CloseSend()
	}()
	shipped := 0
	shipments := 0
	for {
		resp, err := process.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("ProcessOrders: %w", err)
		}
		sh := resp.GetShipment()
		var orderIDs []string
		for _, o := range sh.GetOrders() {
			if o.GetDestination() != sh.GetDestination() || o.GetStatus() != ecommercev1.OrderStatus_ORDER_STATUS_SHIPPED {
				return fmt.Errorf("ProcessOrders: shipment %s to %s holds %v", sh.GetId(), sh.GetDestination(), o)
			}
			orderIDs = append(orderIDs, o.GetId())
		}
		shipped += len(orderIDs)
		shipments++
		say("ProcessOrders: shipment %s to %-18s %s", sh.GetId(), sh.GetDestination(), strings.Join(orderIDs, ", "))
	}
	if err := <-sendErr; err != nil {
		return fmt.Errorf("ProcessOrders send: %w", err)
	}
	if shipped != len(ids) {
		return fmt.Errorf("ProcessOrders: shipped %d orders, want %d", shipped, len(ids))
	}
	say("ProcessOrders: shipped %d orders in %d shipments", shipped, shipments)
	return nil
}
