package pipeline

import (
	"context"
	"fmt"

	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// render renders an order in a target's format for its delivery.
func (p *Pipeline) render(ctx context.Context, tx *store.Tx, cfg *config.Config, o *order.Order, revision int64, t target) ([]byte, error) {
	return nil, fmt.Errorf("format %s is not rendered yet", t.format)
}
