package normalize

import (
	"errors"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/normalize/order"
)

// FromX12850 maps an X12 850 transaction set to the canonical order.
func FromX12850(m *edi.Message, file string) (*order.Order, error) {
	return nil, errors.New("X12 850 mapping is not built yet")
}
