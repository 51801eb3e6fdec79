package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
)

// render renders an order in a target's format for its delivery, once, at
// routing: X12 850 and EDIFACT ORDERS get control numbers from the
// backend's own counters ("backend:<name>"), so the bytes and numbers are
// the same on every attempt.
func (p *Pipeline) render(ctx context.Context, tx *store.Tx, cfg *config.Config, o *order.Order, t target) ([]byte, error) {
	b, _ := cfg.Backend(t.backend)
	counters := "backend:" + t.backend
	next := func(kind string) (int64, error) { return tx.NextControlNumber(ctx, counters, kind) }
	ourQ, ourID := orDefault(b.SenderQualifier, "ZZ"), orDefault(b.SenderID, "ORDERGATE")
	theirQ, theirID := orDefault(b.ReceiverQualifier, "ZZ"), orDefault(b.ReceiverID, strings.ToUpper(t.backend))
	now := p.d.Now().UTC()
	switch t.format {
	case routing.FormatCSV:
		return normalize.RenderCSV(o)
	case routing.FormatX12850:
		icn, err := next("x12-interchange")
		if err != nil {
			return nil, err
		}
		return normalize.RenderX12850(o, normalize.X12Envelope{SenderQualifier: ourQ, SenderID: ourID,
			ReceiverQualifier: theirQ, ReceiverID: theirID, InterchangeControl: icn, GroupControl: icn, SetControl: 1,
			Test: o.Source.Test, Time: now})
	case routing.FormatEDIFACTOrders:
		icn, err := next("edifact-interchange")
		if err != nil {
			return nil, err
		}
		return normalize.RenderEDIFACTOrders(o, normalize.EDIFACTEnvelope{SenderID: ourID, SenderQualifier: ourQ,
			ReceiverID: theirID, ReceiverQualifier: theirQ, InterchangeControl: strconv.FormatInt(icn, 10), MessageControl: 1,
			LineBreaks: true, Test: o.Source.Test, Time: now})
	}
	return nil, fmt.Errorf("%w: format %q", routing.ErrPermanent, t.format)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
