package order

import (
	"fmt"

	"github.com/govalues/decimal"
)

// Channel is how an order reached the gateway.
type Channel string

// The channels of the contract.
const (
	ChannelEDI   Channel = "edi"
	ChannelEmail Channel = "email"
	ChannelFax   Channel = "fax"
	ChannelWeb   Channel = "web"
	ChannelPhone Channel = "phone"
)

// Purpose is what the sender wants done with the purchase order
// (X12 BEG01, EDIFACT BGM 1225).
type Purpose string

// The purposes of the contract.
const (
	PurposeOriginal Purpose = "original"
	PurposeCancel   Purpose = "cancel"
	PurposeReplace  Purpose = "replace"
	PurposeChange   Purpose = "change"
)

// Status is where an order stands in the gateway.
type Status string

// The statuses of the contract.
const (
	StatusReceived  Status = "received"
	StatusReview    Status = "review"
	StatusHeld      Status = "held"
	StatusAccepted  Status = "accepted"
	StatusRejected  Status = "rejected"
	StatusRouted    Status = "routed"
	StatusDelivered Status = "delivered"
	StatusFailed    Status = "failed"
)

// Party roles used by the mappers; other roles keep the sender's raw code.
const (
	RoleBuyer    = "buyer"
	RoleShipTo   = "ship_to"
	RoleBillTo   = "bill_to"
	RoleSupplier = "supplier"
	RoleShipFrom = "ship_from"
)

// Party id schemes; other schemes keep the sender's raw code.
const (
	SchemeGLN    = "GLN"
	SchemeDUNS   = "DUNS"
	SchemeBuyer  = "buyer"
	SchemeSeller = "seller"
)

// Order is the canonical purchase order.
type Order struct {
	ID                string             `json:"id,omitempty"`
	Channel           Channel            `json:"channel"`
	Source            Source             `json:"source"`
	Purpose           Purpose            `json:"purpose,omitempty"`
	OrderType         string             `json:"order_type,omitempty"`
	PONumber          string             `json:"po_number"`
	PODate            Date               `json:"po_date,omitzero"`
	Currency          string             `json:"currency,omitempty"`
	RequestedDelivery Date               `json:"requested_delivery,omitzero"`
	Notes             []string           `json:"notes,omitempty"`
	References        []Reference        `json:"references,omitempty"`
	Parties           []Party            `json:"parties,omitempty"`
	Lines             []Line             `json:"lines"`
	Totals            *Totals            `json:"totals,omitempty"`
	CustomerID        string             `json:"customer_id,omitempty"`
	Status            Status             `json:"status,omitempty"`
	Holds             []Hold             `json:"holds,omitempty"`
	Unresolved        []string           `json:"unresolved,omitempty"`
	Provenance        Provenance         `json:"provenance,omitempty"`
	Confidence        map[string]float64 `json:"confidence,omitempty"`
	Boxes             map[string]Box     `json:"boxes,omitempty"`
}

// Source says where the order came from: the standard, the envelope and
// the file, mail or request.
type Source struct {
	Standard           string `json:"standard"`
	Version            string `json:"version,omitempty"`
	SenderID           string `json:"sender_id,omitempty"`
	SenderQualifier    string `json:"sender_qualifier,omitempty"`
	ReceiverID         string `json:"receiver_id,omitempty"`
	ReceiverQualifier  string `json:"receiver_qualifier,omitempty"`
	InterchangeControl string `json:"interchange_control,omitempty"`
	GroupControl       string `json:"group_control,omitempty"`
	MessageControl     string `json:"message_control,omitempty"`
	Test               bool   `json:"test"`
	File               string `json:"file,omitempty"`
	MessageID          string `json:"message_id,omitempty"`
	RequestID          string `json:"request_id,omitempty"`
}

// Reference is a further reference the sender gave (EDIFACT RFF, X12 REF):
// a contract number, a promotion, the sender's own order number.
type Reference struct {
	Qualifier string `json:"qualifier"`
	Value     string `json:"value"`
}

// Party is a business party of the order in a role.
type Party struct {
	Role     string   `json:"role"`
	ID       string   `json:"id,omitempty"`
	IDScheme string   `json:"id_scheme,omitempty"`
	Name     string   `json:"name,omitempty"`
	Address  *Address `json:"address,omitempty"`
}

// Address is a postal address.
type Address struct {
	Lines      []string `json:"lines,omitempty"`
	City       string   `json:"city,omitempty"`
	Region     string   `json:"region,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	Country    string   `json:"country,omitempty"`
}

// Line is one ordered item.
type Line struct {
	LineNo            string           `json:"line_no"`
	Quantity          decimal.Decimal  `json:"quantity"`
	Unit              string           `json:"unit,omitempty"`
	UnitPrice         *decimal.Decimal `json:"unit_price,omitempty"`
	PriceBasis        string           `json:"price_basis,omitempty"`
	Amount            *decimal.Decimal `json:"amount,omitempty"`
	GTIN              string           `json:"gtin,omitempty"`
	BuyerPart         string           `json:"buyer_part,omitempty"`
	SupplierPart      string           `json:"supplier_part,omitempty"`
	ManufacturerPart  string           `json:"manufacturer_part,omitempty"`
	Description       string           `json:"description,omitempty"`
	SKU               string           `json:"sku,omitempty"`
	RequestedDelivery Date             `json:"requested_delivery,omitzero"`
	// References are the line's other item ids that none of the fields
	// above holds, each with the sender's qualifier (X12 PO1 pairs such
	// as PR RO, a second SK): ids, never free text for a person.
	References []Reference `json:"references,omitempty"`
	Notes      []string    `json:"notes,omitempty"`
}

// Totals are the control totals as declared by the sender (X12 CTT/AMT,
// EDIFACT CNT/MOA), not computed by the gateway.
type Totals struct {
	LineCount    *int             `json:"line_count,omitempty"`
	QuantityHash *decimal.Decimal `json:"quantity_hash,omitempty"`
	Amount       *decimal.Decimal `json:"amount,omitempty"`
}

// Hold is a rule's reason to stop an order for a human decision.
type Hold struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Box is where on a captured page a field was read, in pixels of the page
// image the extractor worked on.
type Box struct {
	Page int     `json:"page"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	W    float64 `json:"w"`
	H    float64 `json:"h"`
}

// SetProvenance records where the value at path was read.
func (o *Order) SetProvenance(path, where string) {
	o.Provenance.Set(path, where)
}

// LinePath returns the field path of a line's field, "lines[i].field".
func LinePath(i int, field string) string { return fmt.Sprintf("lines[%d].%s", i, field) }

// PartyPath returns the field path of a party's field, "parties[i].field".
func PartyPath(i int, field string) string { return fmt.Sprintf("parties[%d].%s", i, field) }

// Party returns the first party in role, or nil.
func (o *Order) Party(role string) *Party {
	for i := range o.Parties {
		if o.Parties[i].Role == role {
			return &o.Parties[i]
		}
	}
	return nil
}

// LinesTotal returns the sum of quantity x unit price over the lines that
// have a price, and false when a line has no price or the sum overflows.
func (o *Order) LinesTotal() (decimal.Decimal, bool) {
	var sum decimal.Decimal
	for _, l := range o.Lines {
		if l.UnitPrice == nil {
			return decimal.Decimal{}, false
		}
		v, err := l.Quantity.Mul(*l.UnitPrice)
		if err != nil {
			return decimal.Decimal{}, false
		}
		if sum, err = sum.Add(v); err != nil {
			return decimal.Decimal{}, false
		}
	}
	return sum, true
}
