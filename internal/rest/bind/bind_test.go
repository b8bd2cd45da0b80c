package bind_test

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	restpb "github.com/polyrpc/polyrpc/golden/rpc/rest"
	"github.com/polyrpc/polyrpc/internal/rest/bind"
)

type abe = restpb.ABitOfEverything

// The cases follow Vanguard v0.4.0's parameter tests (params_test.go,
// TestSetParameter), as query parameters.
func TestQueryValues(t *testing.T) {
	b64 := []byte("abc123!?$*&()'-=@~")
	cases := []struct {
		field, value string
		want         *abe
		wantErr      string
	}{
		{field: "double_value", value: strconv.FormatFloat(math.MaxFloat64, 'f', -1, 64), want: &abe{DoubleValue: math.MaxFloat64}},
		{field: "double_value", value: "Infinity", want: &abe{DoubleValue: math.Inf(1)}},
		{field: "double_value", value: "-Infinity", want: &abe{DoubleValue: math.Inf(-1)}},
		{field: "float_value", value: strconv.FormatFloat(math.MaxFloat32, 'f', -1, 32), want: &abe{FloatValue: math.MaxFloat32}},
		{field: "float_value", value: strconv.FormatFloat(math.MaxFloat64, 'f', -1, 64), wantErr: `float_value: invalid value "1797693134862315700000000000000000000000000000000000000000000000..." for type float`},
		{field: "float_value", value: "-Infinity", want: &abe{FloatValue: float32(math.Inf(-1))}},
		{field: "int32_value", value: strconv.FormatInt(math.MaxInt32, 10), want: &abe{Int32Value: math.MaxInt32}},
		{field: "int32_value", value: strconv.FormatInt(math.MaxInt64, 10), wantErr: `int32_value: invalid value "9223372036854775807" for type int32`},
		{field: "int64_value", value: strconv.FormatInt(math.MaxInt64, 10), want: &abe{Int64Value: math.MaxInt64}},
		{field: "uint32_value", value: strconv.FormatUint(math.MaxUint32, 10), want: &abe{Uint32Value: math.MaxUint32}},
		{field: "uint64_value", value: strconv.FormatUint(math.MaxUint64, 10), want: &abe{Uint64Value: math.MaxUint64}},
		{field: "sint32_value", value: strconv.FormatInt(math.MaxInt32, 10), want: &abe{Sint32Value: math.MaxInt32}},
		{field: "sint64_value", value: strconv.FormatInt(math.MaxInt64, 10), want: &abe{Sint64Value: math.MaxInt64}},
		{field: "fixed64_value", value: "18446744073709551615", want: &abe{Fixed64Value: math.MaxUint64}},
		{field: "sfixed32_value", value: "-2147483648", want: &abe{Sfixed32Value: math.MinInt32}},
		{field: "bool_value", value: "true", want: &abe{BoolValue: true}},
		{field: "bool_value", value: "false", want: &abe{}},
		{field: "string_value", value: "hello world", want: &abe{StringValue: "hello world"}},
		{field: "bytes_value", value: base64.StdEncoding.EncodeToString(b64), want: &abe{BytesValue: b64}},
		{field: "bytes_value", value: base64.URLEncoding.EncodeToString(b64), want: &abe{BytesValue: b64}},
		{field: "bytes_value", value: base64.RawURLEncoding.EncodeToString(b64[:17]), want: &abe{BytesValue: b64[:17]}},
		{field: "timestamp_value", value: "2021-01-01T00:00:00Z", want: &abe{TimestampValue: timestamppb.New(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))}},
		{field: "duration_value", value: "1s", want: &abe{DurationValue: durationpb.New(time.Second)}},
		{field: "duration_value", value: "3.000000001s", want: &abe{DurationValue: durationpb.New(3*time.Second + 1)}},
		{field: "field_mask_value", value: "singleNested.amount,string_value", want: &abe{FieldMaskValue: &fieldmaskpb.FieldMask{Paths: []string{"single_nested.amount", "string_value"}}}},
		{field: "bool_wrapper", value: "true", want: &abe{BoolWrapper: wrapperspb.Bool(true)}},
		{field: "int64_wrapper", value: strconv.FormatInt(math.MaxInt64, 10), want: &abe{Int64Wrapper: wrapperspb.Int64(math.MaxInt64)}},
		{field: "int64_wrapper", value: "9223372036854775808", wantErr: `int64_wrapper: invalid value "9223372036854775808" for type int64`},
		{field: "double_wrapper", value: "-Infinity", want: &abe{DoubleWrapper: wrapperspb.Double(math.Inf(-1))}},
		{field: "string_wrapper", value: "", want: &abe{StringWrapper: wrapperspb.String("")}},
		{field: "enum_value", value: "ONE", want: &abe{EnumValue: restpb.NumericEnum_ONE}},
		{field: "enum_value", value: "1", want: &abe{EnumValue: restpb.NumericEnum_ONE}},
		// An open enum takes unknown numbers, as in the binary format.
		{field: "enum_value", value: "7", want: &abe{EnumValue: 7}},
		{field: "enum_value", value: "one", wantErr: `enum_value: invalid value "one" for enum rest.v1.NumericEnum`},
		{field: "single_nested.ok", value: "TRUE", want: &abe{SingleNested: &restpb.ABitOfEverything_Nested{Ok: restpb.ABitOfEverything_Nested_TRUE}}},
		{field: "singleNested.amount", value: "3", want: &abe{SingleNested: &restpb.ABitOfEverything_Nested{Amount: 3}}},
		{field: "nonConventionalNameValue", value: "x", want: &abe{NonConventionalNameValue: "x"}},
		{field: "double_value", value: "0x1p3", wantErr: "double_value: invalid value"},
		{field: "double_value", value: "1_000", wantErr: "double_value: invalid value"},
		{field: "int32_value", value: "", wantErr: `int32_value: invalid value "" for type int32`},
	}
	for _, c := range cases {
		t.Run(c.field+"="+c.value, func(t *testing.T) {
			m := &abe{}
			err := bind.Query(m.ProtoReflect(), c.field+"="+strings.ReplaceAll(c.value, "+", "%2B"), nil)
			if c.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, m, protocmp.Transform()); diff != "" {
				t.Error(diff)
			}
		})
	}
	// NaN compares unequal to itself.
	m := &abe{}
	if err := bind.Query(m.ProtoReflect(), "double_value=NaN&float_value=NaN", nil); err != nil || !math.IsNaN(m.DoubleValue) || !math.IsNaN(float64(m.FloatValue)) {
		t.Errorf("NaN: %v %v", m, err)
	}
}

func TestMaskPaths(t *testing.T) {
	md := (&abe{}).ProtoReflect().Descriptor()
	for body, want := range map[string][]string{
		`{"string_value":"x","singleNested":{"amount":2,"ok":"TRUE"}}`: {"single_nested.amount", "single_nested.ok", "string_value"},
		`{"single_nested":{}}`: {"single_nested"},
		`{"single_nested":null,"timestamp_value":"2021-01-01T00:00:00Z"}`: {"single_nested", "timestamp_value"},
		`{"mapped_string_value":{"a":"b"},"unknown":1}`:                   {"mapped_string_value"},
		`{"recursive":{"recursive":{"int32Value":1}}}`:                    {"recursive.recursive.int32_value"},
		``: nil,
	} {
		got, err := bind.MaskPaths([]byte(body), md)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		// Fields in declaration order: sort for the comparison.
		if !cmp.Equal(sorted(got), sorted(want)) {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
	if _, err := bind.MaskPaths([]byte(`{"a":`), md); err == nil {
		t.Error("malformed JSON: no error")
	}
	deep := strings.Repeat(`{"recursive":`, 100) + "{}" + strings.Repeat("}", 100)
	if _, err := bind.MaskPaths([]byte(deep), md); err != nil {
		t.Errorf("deep body: %v", err)
	}
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestBody(t *testing.T) {
	m := &abe{}
	fd := m.ProtoReflect().Descriptor().Fields().ByName("repeated_int64_value")
	if err := bind.Body(m.ProtoReflect(), fd, []byte(`["1", 2]`), "application/json"); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(m, &abe{RepeatedInt64Value: []int64{1, 2}}) {
		t.Errorf("got %v", m)
	}
	err := bind.Body(m.ProtoReflect(), fd, []byte(`[1, "x"]`), "application/json")
	if err == nil || !strings.HasPrefix(err.Error(), "repeated_int64_value: malformed JSON body") {
		t.Errorf("error %v", err)
	}
}
