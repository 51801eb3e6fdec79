package normalize

import (
	"errors"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/normalize/order"
)

// FromEDIFACTOrders maps an EDIFACT ORDERS message to the canonical order.
func FromEDIFACTOrders(m *edi.Message, file string) (*order.Order, error) {
	return nil, errors.New("EDIFACT ORDERS mapping is not built yet")
}
