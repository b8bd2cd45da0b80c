package openapicheck_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/polyrpc/polyrpc"
	ordermgt "github.com/polyrpc/polyrpc/examples/ordermgt"
	ecommercev1 "github.com/polyrpc/polyrpc/examples/ordermgt/gen/ecommerce/v1"
	restpb "github.com/polyrpc/polyrpc/golden/rpc/rest"
	"github.com/polyrpc/polyrpc/internal/gen/doc"
	"github.com/polyrpc/polyrpc/internal/openapicheck"
)

// TestRESTExchangesValidate sends REST calls to every binding of
// golden/rpc/rest whose variables match one path segment each. Bindings
// with multi-segment variables ({string_value=strprefix/*},
// {name=shelves/*/books/*}, {name=**}) are checked by
// TestRESTSegmentsExchangesValidate: the default document describes such a
// variable as one {name} parameter with a pattern, and OpenAPI path
// parameters (and so libopenapi-validator's path matching) stop at a slash. Client and bidi
// streaming methods have no REST operation.
func TestRESTExchangesValidate(t *testing.T) {
	base := server(t)
	v, _ := document(t, base)
	const ct = "application/json"
	e := base + "/v1/example/a_bit_of_everything"
	exchange(t, v, "POST", e, ct, everything, 200)
	exchange(t, v, "GET", e+"/u1", "", "", 200)
	exchange(t, v, "GET", e+"/missing", "", "", 404)
	exchange(t, v, "HEAD", e+"/u1", "", "", 200)
	exchange(t, v, "PUT", e+"/u1", ct, `{"int64Value":"7","enumValue":"ONE"}`, 200)
	q := url.Values{
		"uuid": {"q"}, "int64Value": {"-5"}, "uint64Value": {"18446744073709551615"}, "doubleValue": {"2.5"},
		"enumValue": {"ONE"}, "repeatedStringValue": {"a", "b"}, "repeatedInt64Value": {"1", "2"},
		"timestampValue": {"2024-01-02T03:04:05Z"}, "durationValue": {"3s"}, "boolWrapper": {"true"},
		"singleNested.amount": {"3"}, "singleNested.ok": {"TRUE"},
	}
	exchange(t, v, "GET", e+"/params/get/nested-name?"+q.Encode(), "", "", 200)
	exchange(t, v, "GET", e+"/params/get/nested_enum/TRUE?uuid=x", "", "", 200)
	exchange(t, v, "POST", e+"/params/post/s1?uuid=x&int32Value=3", ct, `{"name":"n","amount":2}`, 200)
	// POST {uuid}:custom is left out: libopenapi-validator's router takes
	// "u1:custom" as a value of {uuid}, finds no POST there and stops
	// (GET /v1/orders:search, a literal with a verb, is checked below).
	exchange(t, v, "GET", base+"/v2/example/errorwithdetails", "", "", 500)
	exchange(t, v, "GET", base+"/responsebody/r1", "", "", 200)
	exchange(t, v, "GET", base+"/responsebodies/r1", "", "", 200)
	m := base + "/v1/messages"
	exchange(t, v, "GET", m+"/m1?userId=u&sub.subfield=s", "", "", 200)
	exchange(t, v, "GET", base+"/v1/users/u1/messages/m1", "", "", 200)
	exchange(t, v, "GET", m+"/m1/sf", "", "", 200)
	exchange(t, v, "PATCH", m+"/m1", ct, `{"text":"t"}`, 200)
	exchange(t, v, "PATCH", base+"/v1/star/messages/m1", ct, `{"text":"t","name":"n"}`, 200)
	// Requests that break the document are refused with a status the
	// document describes.
	refused(t, v, "GET", e+"/params/get/x?int64Value=abc", "", "", 400)
	refused(t, v, "PUT", e+"/u1", ct, `{"int64Value":"7"`, 400)
	refused(t, v, "GET", e+"/params/get/x?enumValue=THREE", "", "", 400)
}

// TestOrderServiceExchangesValidate runs the order service of
// examples/ordermgt: REST and Connect, Connect GET for its
// NO_SIDE_EFFECTS method, and its server-streaming REST search as
// newline-delimited JSON, each line checked against the response schema.
func TestOrderServiceExchangesValidate(t *testing.T) {
	s := polyrpc.NewServer()
	ordermgt.Register(s, ordermgt.NewService(ordermgt.NewStore(), 2, 0))
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp := doc.Generate(request(t, ecommercev1.File_ecommerce_v1_order_management_proto, "format=openapi,base_url="+ts.URL))
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	spec := []byte(resp.File[0].GetContent())
	v, err := openapicheck.Document(spec)
	if err != nil {
		t.Fatal(err)
	}
	const ct = "application/json"
	order := `{"order":{"items":["Google Pixel","Apple Watch"],"price":450.5,"destination":"Mountain View"}}`
	b := exchange(t, v, "POST", ts.URL+"/ecommerce.v1.OrderManagement/AddOrder", ct, order, 200, "Connect-Protocol-Version", "1")
	var added struct{ ID string }
	if err := json.Unmarshal(b, &added); err != nil || added.ID == "" {
		t.Fatalf("AddOrder: %s", b)
	}
	exchange(t, v, "POST", ts.URL+"/v1/orders", ct, `{"items":["Apple Watch"],"price":1,"destination":"Cupertino"}`, 200)
	exchange(t, v, "POST", ts.URL+"/v1/orders", ct, `{"items":[],"price":-1}`, 400)
	exchange(t, v, "GET", ts.URL+"/v1/orders/"+added.ID, "", "", 200)
	exchange(t, v, "GET", ts.URL+"/v1/orders/nope", "", "", 404)
	q := url.Values{"encoding": {"json"}, "message": {`{"id":"` + added.ID + `"}`}, "connect": {"v1"}}
	exchange(t, v, "GET", ts.URL+"/ecommerce.v1.OrderManagement/GetOrder?"+q.Encode(), "", "", 200)
	exchange(t, v, "POST", ts.URL+"/ecommerce.v1.OrderManagement/GetOrder", ct, `{"id":"nope"}`, 404)

	// The stream: NDJSON, one response message per line.
	hreq, _ := http.NewRequest("GET", ts.URL+"/v1/orders:search?query=watch", nil)
	hresp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer hresp.Body.Close()
	if ok, errs := v.ValidateHttpRequestSync(hreq); !ok {
		t.Errorf("search request: %v", errs[0])
	}
	if got := hresp.Header.Get("Content-Type"); got != "application/x-ndjson" {
		t.Fatalf("search: content type %q", got)
	}
	lines := 0
	sc := bufio.NewScanner(hresp.Body)
	for sc.Scan() {
		lines++
		line := append([]byte(nil), sc.Bytes()...)
		// Each line is checked as the response of the method would be.
		one := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-ndjson"}}}
		if err := openapicheck.Exchange(v, hreq, nil, one, line); err != nil {
			t.Errorf("line %d: %v", lines, err)
		}
	}
	if lines != 2 {
		t.Errorf("search: %d lines, want 2", lines)
	}
	// A line that breaks the schema is caught.
	bad := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-ndjson"}}}
	if err := openapicheck.Exchange(v, hreq, nil, bad, []byte(`{"order":"not an object"}`)); err == nil {
		t.Error("a bad stream line validates")
	}
	if !bytes.Contains(spec, []byte(`"/v1/orders:search"`)) || strings.Contains(string(spec), `"/ecommerce.v1.OrderManagement/SearchOrders"`) {
		t.Error("streaming method: REST path expected, Connect path not")
	}
}

// TestRESTSegmentsExchangesValidate checks the bindings with multi-segment
// variables against a document written with openapi_paths=segments, whose
// path parameters match one segment each.
func TestRESTSegmentsExchangesValidate(t *testing.T) {
	base := server(t)
	resp := doc.Generate(request(t, restpb.File_rest_rest_proto, "format=openapi,openapi_paths=segments,base_url="+base))
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	v, err := openapicheck.Document([]byte(resp.File[0].GetContent()))
	if err != nil {
		t.Fatal(err)
	}
	const ct = "application/json"
	exchange(t, v, "GET", base+"/v1/shelves/s1/books/b1", "", "", 200)
	exchange(t, v, "GET", base+"/v1/projects/p1/topics/t1", "", "", 200)
	// POST .../{topic}:cancel is left out, as {uuid}:custom above.
	exchange(t, v, "GET", base+"/v1/example/a_bit_of_everything/u1", "", "", 200)
	exchange(t, v, "POST", base+"/v1/example/a_bit_of_everything/1.5/2.5/-3/separator/4/5/6/7/true/strprefix/s/8/9/-10/11/-12/ncv/ONE?uuid=x", ct, "", 200)
	refused(t, v, "POST", base+"/v1/example/a_bit_of_everything/1.5/2.5/-3/separator/4/abc/6/7/true/strprefix/s/8/9/-10/11/-12/ncv/ONE", ct, "", 400)
}
