package routing

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ordergate/ordergate/normalize/order"
)

// RenderJSON renders o as the canonical order JSON (ARCHITECTURE section
// 3), one object followed by a newline.
func RenderJSON(o *order.Order) (Payload, error) {
	if o == nil {
		return Payload{}, Permanent(errors.New("rendering JSON: nil order"))
	}
	b, err := json.Marshal(o)
	if err != nil {
		return Payload{}, Permanent(fmt.Errorf("rendering JSON of order %s: %w", o.ID, err))
	}
	return Payload{Format: FormatJSON, ContentType: "application/json", Body: append(b, '\n')}, nil
}
