package routing

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

func testOrder() *order.Order {
	price := decimal.MustParse("12.50")
	return &order.Order{
		ID: "ord_01", Channel: order.ChannelEDI, Source: order.Source{Standard: "X12"},
		PONumber: "4500012345",
		Lines:    []order.Line{{LineNo: "1", Quantity: decimal.MustParse("24"), Unit: "EA", UnitPrice: &price}},
	}
}

func TestDeliveryKey(t *testing.T) {
	if got, want := DeliveryKey("ord_01", 3), "ord_01.r3"; got != want {
		t.Errorf("DeliveryKey = %q, want %q", got, want)
	}
}

func TestNewDeliveryAndValidate(t *testing.T) {
	p, err := RenderJSON(testOrder())
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDelivery(testOrder(), 2, p)
	if err != nil {
		t.Fatalf("NewDelivery: %v", err)
	}
	if got, want := d.Key, "ord_01.r2"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if got, want := d.Attempt, 1; got != want {
		t.Errorf("Attempt = %d, want %d", got, want)
	}
	tests := []struct {
		name   string
		change func(d *Delivery)
		want   []string
	}{
		{"valid", func(*Delivery) {}, nil},
		{"empty key", func(d *Delivery) { d.Key = "" }, []string{`key "" is not "ord_01.r2"`}},
		{"zero revision", func(d *Delivery) { d.Revision = 0 }, []string{"revision 0", `is not "ord_01.r0"`}},
		{"no order", func(d *Delivery) { d.Order = nil }, []string{"order is nil"}},
		{"other order", func(d *Delivery) { o := *d.Order; o.ID = "ord_02"; d.Order = &o }, []string{`order id "ord_02" differs`}},
		{"no format or type", func(d *Delivery) { d.Payload = Payload{} }, []string{"format is empty", "content type is empty"}},
		{"no order id", func(d *Delivery) { d.OrderID, d.Key = "", ".r2" }, []string{"order id is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := d
			tt.change(&d)
			err := d.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrPermanent) {
				t.Fatalf("Validate = %v, want ErrPermanent", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to contain %q", err, w)
				}
			}
		})
	}
	if _, err := NewDelivery(nil, 1, p); !errors.Is(err, ErrPermanent) {
		t.Errorf("NewDelivery(nil) = %v, want ErrPermanent", err)
	}
}

// TestValidatePayload: a delivery to a payload backend may come without
// the order; everything else is checked as by Validate.
func TestValidatePayload(t *testing.T) {
	p, err := RenderJSON(testOrder())
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDelivery(testOrder(), 2, p)
	if err != nil {
		t.Fatal(err)
	}
	bare := d
	bare.Order = nil
	if err := bare.ValidatePayload(); err != nil {
		t.Errorf("ValidatePayload without the order = %v, want nil", err)
	}
	if err := bare.Validate(); err == nil {
		t.Errorf("Validate without the order = nil, want an error")
	}
	other := d
	o := *d.Order
	o.ID = "ord_02"
	other.Order = &o
	if err := other.ValidatePayload(); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "differs") {
		t.Errorf("ValidatePayload of another order = %v, want its id differing", err)
	}
	bare.Payload.Format = ""
	if err := bare.ValidatePayload(); !errors.Is(err, ErrPermanent) {
		t.Errorf("ValidatePayload without a format = %v, want ErrPermanent", err)
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("HTTP 422")
	err := Permanent(base)
	if !errors.Is(err, ErrPermanent) || !errors.Is(err, base) {
		t.Errorf("Permanent(base) = %v, want both ErrPermanent and base", err)
	}
	if got := Permanent(err); got != err {
		t.Errorf("Permanent(permanent) = %v, want it unchanged", got)
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	if errors.Is(base, ErrPermanent) {
		t.Error("a plain error is permanent")
	}
}

func TestRenderJSON(t *testing.T) {
	p, err := RenderJSON(testOrder())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Format, FormatJSON; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	if got, want := p.ContentType, "application/json"; got != want {
		t.Errorf("ContentType = %q, want %q", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal(p.Body, &m); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if got, want := m["po_number"], "4500012345"; got != want {
		t.Errorf("po_number = %v, want %v", got, want)
	}
	line := m["lines"].([]any)[0].(map[string]any)
	if got, want := line["unit_price"], "12.50"; got != want {
		t.Errorf("unit_price = %#v, want the string %q", got, want)
	}
	if _, err := RenderJSON(nil); !errors.Is(err, ErrPermanent) {
		t.Errorf("RenderJSON(nil) = %v, want ErrPermanent", err)
	}
}

func TestFormatExtension(t *testing.T) {
	tests := []struct {
		f    Format
		want string
	}{
		{FormatJSON, ".json"}, {FormatCSV, ".csv"}, {FormatX12850, ".x12"}, {FormatEDIFACTOrders, ".edi"}, {"xml", ".dat"},
	}
	for _, tt := range tests {
		if got := tt.f.Extension(); got != tt.want {
			t.Errorf("%q.Extension() = %q, want %q", tt.f, got, tt.want)
		}
	}
}

type fakeBackend struct {
	name   string
	closed *[]string
	err    error
}

func (f fakeBackend) Name() string { return f.name }
func (f fakeBackend) Deliver(context.Context, Delivery) (Receipt, error) {
	return Receipt{}, nil
}
func (f fakeBackend) Close(context.Context) error {
	*f.closed = append(*f.closed, f.name)
	return f.err
}

var _ Backend = fakeBackend{}

func TestRegistry(t *testing.T) {
	var closed []string
	var r Registry
	r.Add(fakeBackend{name: "erp", closed: &closed})
	r.Add(fakeBackend{name: "wms", closed: &closed, err: errors.New("boom")})
	if _, ok := r.Backend("erp"); !ok {
		t.Error(`Backend("erp") not found`)
	}
	if _, ok := r.Backend("x"); ok {
		t.Error(`Backend("x") found`)
	}
	if got, want := r.Names(), []string{"erp", "wms"}; !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	err := r.Close(context.Background())
	if err == nil || !strings.Contains(err.Error(), "closing backend wms: boom") {
		t.Errorf("Close = %v, want the wms error", err)
	}
	if got, want := closed, []string{"wms", "erp"}; !slices.Equal(got, want) {
		t.Errorf("closed = %v, want %v (reverse order)", got, want)
	}
}

func TestRegistryPanics(t *testing.T) {
	var closed []string
	tests := []struct {
		name string
		add  func(r *Registry)
	}{
		{"duplicate", func(r *Registry) {
			r.Add(fakeBackend{name: "a", closed: &closed})
			r.Add(fakeBackend{name: "a", closed: &closed})
		}},
		{"empty name", func(r *Registry) { r.Add(fakeBackend{closed: &closed}) }},
		{"nil", func(r *Registry) { r.Add(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.add(&Registry{})
		})
	}
}
