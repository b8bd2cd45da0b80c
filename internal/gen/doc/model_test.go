package doc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// index of a JSON run by full name.
type modelIndex struct {
	messages map[string]*model.Message
	enums    map[string]*model.Enum
	fields   map[string]*model.Field
	methods  map[string]*model.Method
	services map[string]*model.Service
	values   map[string]*model.EnumValue
}

func indexModel(doc *model.Document) *modelIndex {
	x := &modelIndex{map[string]*model.Message{}, map[string]*model.Enum{}, map[string]*model.Field{}, map[string]*model.Method{}, map[string]*model.Service{}, map[string]*model.EnumValue{}}
	for _, f := range doc.Files {
		for _, s := range f.Services {
			x.services[s.FullName] = s
			for _, m := range s.Methods {
				x.methods[m.FullName] = m
			}
		}
		for _, m := range f.Messages {
			x.messages[m.FullName] = m
			for _, fl := range m.Fields {
				x.fields[fl.FullName] = fl
			}
			for _, fl := range m.Extensions {
				x.fields[fl.FullName] = fl
			}
		}
		for _, fl := range f.Extensions {
			x.fields[fl.FullName] = fl
		}
		for _, e := range f.Enums {
			x.enums[e.FullName] = e
			for _, v := range e.Values {
				x.values[v.FullName] = v
			}
		}
	}
	return x
}

func TestModel(t *testing.T) {
	x := indexModel(jsonDoc(t, "format=json", goldenFiles...))

	t.Run("hide", func(t *testing.T) {
		for _, name := range []string{"acme.shop.v1.DebugRequest", "acme.shop.v1.DebugResponse"} {
			if x.messages[name] != nil {
				t.Errorf("%s is documented, but only hidden elements use it", name)
			}
		}
		if x.methods["acme.shop.v1.Shop.Debug"] != nil {
			t.Error("hidden method documented")
		}
		if x.fields["acme.shop.v1.Product.debug"] != nil {
			t.Error("hidden field documented")
		}
		if x.values["acme.shop.v1.Product.Availability.AVAILABILITY_TEST"] != nil {
			t.Error("hidden enum value documented")
		}
		if x.messages["acme.shop.v1.Product"] == nil || x.methods["acme.shop.v1.Shop.GetProduct"] == nil {
			t.Error("visible elements missing")
		}
	})
	t.Run("proto3 optional is not a oneof", func(t *testing.T) {
		f := x.fields["acme.shop.v1.Product.discount_units"]
		if f.Label != "optional" || f.Presence != "explicit" || f.Oneof != "" {
			t.Errorf("discount_units: label %q presence %q oneof %q", f.Label, f.Presence, f.Oneof)
		}
		var oneofs []string
		for _, o := range x.messages["acme.shop.v1.Product"].Oneofs {
			oneofs = append(oneofs, o.Name)
		}
		if diff := cmp.Diff([]string{"delivery"}, oneofs); diff != "" {
			t.Errorf("oneofs (synthetic ones must not appear): %s", diff)
		}
		if f := x.fields["acme.shop.v1.Product.name"]; f.Label != "" || f.Presence != "implicit" {
			t.Errorf("plain proto3 field: label %q presence %q", f.Label, f.Presence)
		}
	})
	t.Run("oneof members", func(t *testing.T) {
		for _, n := range []string{"shipping", "download_url"} {
			if f := x.fields["acme.shop.v1.Product."+n]; f.Oneof != "delivery" || f.Label != "" {
				t.Errorf("%s: oneof %q label %q", n, f.Oneof, f.Label)
			}
		}
	})
	t.Run("maps", func(t *testing.T) {
		f := x.fields["acme.shop.v1.Product.prices"]
		want := model.TypeRef{Name: "map<string, acme.common.v1.Money>", Kind: "map", FullName: "acme.common.v1.Money",
			Key:   &model.TypeRef{Name: "string", Kind: "scalar"},
			Value: &model.TypeRef{Name: "acme.common.v1.Money", Kind: "message", FullName: "acme.common.v1.Money"}}
		if diff := cmp.Diff(want, f.Type); diff != "" || f.Label != "map" {
			t.Errorf("prices type (-want +got):\n%s label %q", diff, f.Label)
		}
		for name := range x.messages {
			if strings.HasSuffix(name, "Entry") {
				t.Errorf("map entry message %s documented", name)
			}
		}
	})
	t.Run("editions presence", func(t *testing.T) {
		for name, want := range map[string][2]string{
			"editions.v1.Settings.name":   {"", "implicit"},
			"editions.v1.Settings.limit":  {"optional", "explicit"},
			"editions.v1.Settings.owner":  {"required", "required"},
			"editions.v1.Settings.levels": {"repeated", "repeated"},
		} {
			f := x.fields[name]
			if got := [2]string{f.Label, f.Presence}; got != want {
				t.Errorf("%s: label/presence %v, want %v", name, got, want)
			}
		}
		if d := x.fields["editions.v1.Settings.retries"].Default; d != "3" {
			t.Errorf("retries default %q", d)
		}
		if diff := cmp.Diff(model.Option{Name: "field_presence", Value: "IMPLICIT", JSON: json.RawMessage(`"IMPLICIT"`)}, indexFiles(t)["editions/v1/editions.proto"].Features[0], compactJSON); diff != "" {
			t.Errorf("resolved features: %s", diff)
		}
		if !x.enums["editions.v1.Mode"].Closed || x.enums["acme.common.v1.Currency"].Closed {
			t.Error("closed enum flags wrong")
		}
	})
	t.Run("proto2 defaults", func(t *testing.T) {
		for name, want := range map[string]string{
			"legacy.v1.Item.quantity": "10",
			"legacy.v1.Item.price":    "1.5",
			"legacy.v1.Item.active":   "true",
			"legacy.v1.Item.label":    `"n/a \"boxed\""`,
			"legacy.v1.Item.code":     `"\001ab"`,
			"legacy.v1.Item.color":    "COLOR_RED",
		} {
			if got := x.fields[name].Default; got != want {
				t.Errorf("%s default %q, want %q", name, got, want)
			}
		}
	})
	t.Run("deprecation everywhere", func(t *testing.T) {
		if !x.services["acme.shop.v1.LegacyShop"].Deprecated || !x.methods["acme.shop.v1.Shop.ListLegacy"].Deprecated ||
			!x.messages["acme.shop.v1.Review"].Deprecated || !x.fields["acme.shop.v1.Product.sku"].Deprecated ||
			!x.values["acme.shop.v1.Product.Availability.AVAILABILITY_DISCONTINUED"].Deprecated ||
			!x.fields["legacy.v1.supplier_id"].Deprecated {
			t.Error("a deprecated element is not marked")
		}
	})
	t.Run("enums", func(t *testing.T) {
		v := x.values["acme.common.v1.Currency.CURRENCY_DOLLAR"]
		if v.Number != 2 || v.AliasOf != "CURRENCY_USD" {
			t.Errorf("alias: %+v", v)
		}
		if diff := cmp.Diff([]model.Option{{Name: "(acme.common.v1.label)", Value: `"€"`, JSON: json.RawMessage(`"€"`)}}, x.values["acme.common.v1.Currency.CURRENCY_EUR"].Options, compactJSON); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("methods", func(t *testing.T) {
		kinds := map[string]string{}
		for _, n := range []string{"GetProduct", "WatchPrices", "UploadReviews", "Chat"} {
			kinds[n] = x.methods["acme.shop.v1.Shop."+n].Streaming
		}
		want := map[string]string{"GetProduct": "unary", "WatchPrices": "server_streaming", "UploadReviews": "client_streaming", "Chat": "bidi_streaming"}
		if diff := cmp.Diff(want, kinds); diff != "" {
			t.Error(diff)
		}
		chat := x.methods["acme.shop.v1.Shop.Chat"]
		for _, p := range chat.Protocols {
			if diff := cmp.Diff([]string{"HTTP/2"}, p.HTTP); diff != "" {
				t.Errorf("bidi over %s: %s", p.Name, diff)
			}
		}
		get := x.methods["acme.shop.v1.Shop.GetProduct"]
		wantProtocols := []model.Protocol{
			{Name: "Connect", HTTP: []string{"HTTP/1.1", "HTTP/2"}},
			{Name: "gRPC", HTTP: []string{"HTTP/2"}},
			{Name: "gRPC-Web", HTTP: []string{"HTTP/1.1", "HTTP/2"}},
		}
		if diff := cmp.Diff(wantProtocols, get.Protocols); diff != "" {
			t.Errorf("unary protocols (-want +got):\n%s", diff)
		}
		if get.Procedure != "/acme.shop.v1.Shop/GetProduct" || get.Idempotency != "NO_SIDE_EFFECTS" {
			t.Errorf("GetProduct: %s %s", get.Procedure, get.Idempotency)
		}
		if want := "http://localhost:8080/acme.shop.v1.Shop/GetProduct?encoding=json&message=%7B%22id%22%3A%22my-id%22%2C%22shop%22%3A%22123e4567-e89b-12d3-a456-426614174000%22%7D"; get.ConnectGet != want {
			t.Errorf("connect GET %s", get.ConnectGet)
		}
		wantGet := []model.HTTPRule{
			{Method: "GET", Path: "/v1/products/{id}", URL: "http://localhost:8080/v1/products/{id}",
				PathParams: []model.PathParam{{Name: "id", Field: "acme.shop.v1.GetProductRequest.id", Pattern: "*"}}},
			{Method: "GET", Path: "/v1/shops/{shop}/products/{id}", URL: "http://localhost:8080/v1/shops/{shop}/products/{id}", Additional: true,
				PathParams: []model.PathParam{{Name: "shop", Field: "acme.shop.v1.GetProductRequest.shop", Pattern: "*"}, {Name: "id", Field: "acme.shop.v1.GetProductRequest.id", Pattern: "*"}}},
		}
		if diff := cmp.Diff(wantGet, get.HTTPRules); diff != "" {
			t.Error(diff)
		}
		up := x.methods["acme.shop.v1.Shop.UpdateProduct"]
		wantUp := []model.HTTPRule{{Method: "PATCH", Path: "/v1/products/{product.id}", Body: "product", URL: "http://localhost:8080/v1/products/{product.id}",
			BodyField: "acme.shop.v1.UpdateProductRequest.product", PathParams: []model.PathParam{{Name: "product.id", Field: "acme.shop.v1.Product.id", Pattern: "*"}}}}
		if diff := cmp.Diff(wantUp, up.HTTPRules); diff != "" {
			t.Error(diff)
		}
		if up.ConnectGet != "" || up.Idempotency != "IDEMPOTENT" {
			t.Errorf("UpdateProduct: %q %q", up.ConnectGet, up.Idempotency)
		}
		if diff := cmp.Diff([]model.Option{{Name: "(acme.common.v1.rate_limit)", Value: "2.5", JSON: json.RawMessage(`2.5`)}}, up.Options, compactJSON); diff != "" {
			t.Error(diff)
		}
		// Recursive types end: Review.replies is left out of the sample.
		if r := x.methods["acme.shop.v1.Shop.UploadReviews"].SampleRequest; strings.Contains(r, "replies") {
			t.Errorf("recursive sample: %s", r)
		}
	})
	t.Run("custom options and validation", func(t *testing.T) {
		want := []model.Option{
			{Name: "(acme.common.v1.owner).team", Value: `"payments"`, JSON: json.RawMessage(`"payments"`)},
			{Name: "(acme.common.v1.owner).contacts", Value: `["pay@acme.test", "oncall@acme.test"]`, JSON: json.RawMessage(`["pay@acme.test","oncall@acme.test"]`)},
		}
		if diff := cmp.Diff(want, x.messages["acme.common.v1.Money"].Options, compactJSON); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]string{"length ≥ 1", "length ≤ 64"}, x.fields["acme.shop.v1.GetProductRequest.id"].Rules); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]string{"at least 1 items", "at most 10 items", "unique", `each item: matches "^[a-z]+$"`}, x.fields["acme.shop.v1.Product.tags"].Rules); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]string{"CEL product.discount: this.discount_units < this.price.units (discount must be below the price)"}, x.messages["acme.shop.v1.Product"].Rules); diff != "" {
			t.Error(diff)
		}
		for _, o := range x.fields["acme.shop.v1.Product.contact_email"].Options {
			if strings.Contains(o.Name, "buf.validate") {
				t.Errorf("validation rules also listed as options: %v", o)
			}
		}
	})
	t.Run("well-known types link to their reference", func(t *testing.T) {
		if u := x.fields["acme.shop.v1.Product.created_at"].Type.URL; u != "https://protobuf.dev/reference/protobuf/google.protobuf/#timestamp" {
			t.Errorf("timestamp url %q", u)
		}
		if u := x.fields["acme.shop.v1.Product.price"].Type.URL; u != "" {
			t.Errorf("non-WKT url %q", u)
		}
	})
}

func indexFiles(t *testing.T) map[string]*model.File {
	out := map[string]*model.File{}
	for _, f := range jsonDoc(t, "format=json", goldenFiles...).Files {
		out[f.Name] = f
	}
	return out
}

// compactJSON compares option values as JSON, whatever their spacing.
var compactJSON = cmp.Transformer("compactJSON", func(r json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, r); err != nil {
		return "invalid JSON: " + string(r)
	}
	return b.String()
})
