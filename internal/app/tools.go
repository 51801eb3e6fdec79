package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/rules"
)

// Tools are the parts the administrative commands (reprocess, import,
// user, rules) work with, without running the gateway: the configuration,
// the store and a pipeline that is not started. They can be used while a
// gateway runs on the same store: SQLite serialises the writers and the
// running gateway picks up what they change (due deliveries, released
// holds) on its next poll.
type Tools struct {
	Config   *config.Config
	Store    *store.Store
	Pipeline *pipeline.Pipeline
	Log      *slog.Logger
	queue    *stageQueue
}

// OpenTools loads the configuration and opens its store; logOut receives
// the log (os.Stderr when nil).
func OpenTools(ctx context.Context, configPath string, logOut io.Writer) (*Tools, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return nil, err
	}
	if logOut == nil {
		logOut = os.Stderr
	}
	log := cfg.Log.NewLogger(logOut)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	queue, err := newQueue(cfg, st, log)
	if err != nil {
		_ = st.Close(ctx)
		return nil, err
	}
	pipe, err := pipeline.New(pipeline.Deps{Store: st, Queue: queue, Config: func() *config.Config { return cfg },
		Processor: ediproc.Processor{}, Logger: log})
	if err != nil {
		_ = queue.close()
		_ = st.Close(ctx)
		return nil, err
	}
	if err := pipe.Init(ctx); err != nil {
		_ = queue.close()
		_ = st.Close(ctx)
		return nil, err
	}
	// The configured master data, as serve loads it (an upsert: nothing
	// changes when it is there).
	if err := loadMasterdata(ctx, st, cfg, log); err != nil {
		_ = queue.close()
		_ = st.Close(ctx)
		return nil, err
	}
	return &Tools{Config: cfg, Store: st, Pipeline: pipe, Log: log, queue: queue}, nil
}

// Close closes the broker connections, if any, and the store.
func (t *Tools) Close(ctx context.Context) error {
	return errors.Join(t.queue.close(), t.Store.Close(ctx))
}

// WhatIfResult is what the rules decide on an order now, and on what.
type WhatIfResult struct {
	Order      *order.Order
	Decision   rules.Decision
	Facts      *rules.Facts
	Unresolved []string
	Error      string
}

// WhatIf resolves an order against master data and runs the rules of the
// configuration on it, as the gateway would now, changing nothing. id is
// the stored order's id ("" for an order not stored); before leaves out
// later orders from the duplicates (zero: none).
func (t *Tools) WhatIf(ctx context.Context, o *order.Order, partnerID, id string) WhatIfResult {
	return t.whatIf(ctx, o, partnerID, id, time.Time{})
}

func (t *Tools) whatIf(ctx context.Context, o *order.Order, partnerID, id string, before time.Time) WhatIfResult {
	res := WhatIfResult{Order: o}
	partner, _ := t.Config.Partner(partnerID)
	r, err := masterdata.NewResolver(t.Store, t.Log).Resolve(ctx, o, partnerID, partner.CustomerID)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Unresolved = r.Unresolved
	d, f, err := pipeline.WhatIf(ctx, t.Store, t.Config, partnerID, id, o, time.Now(), before)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Decision, res.Facts = d, &f
	return res
}

// Replay re-reads a stored order from its archived raw document (as it
// arrived, before the gateway changed anything) and runs WhatIf on it,
// with the duplicates as they were when it arrived. A captured order (an
// e-mail, a fax, a spreadsheet) is replayed as stored: its raw document
// is no order, and the stored one carries the reviewers' corrections.
func (t *Tools) Replay(ctx context.Context, rec store.OrderRecord) WhatIfResult {
	o, err := t.original(ctx, rec)
	if err != nil {
		return WhatIfResult{Order: &order.Order{ID: rec.ID, PONumber: rec.PONumber, CustomerID: rec.CustomerID}, Error: err.Error()}
	}
	o.ID = rec.ID
	return t.whatIf(ctx, o, rec.PartnerID, rec.ID, rec.CreatedAt)
}

// original parses the order at rec's place in its raw document again.
func (t *Tools) original(ctx context.Context, rec store.OrderRecord) (*order.Order, error) {
	doc, err := t.Store.GetDocument(ctx, rec.DocumentID)
	if err != nil {
		return nil, err
	}
	rc, err := t.Store.Archive().Open(doc.SHA256)
	if err != nil {
		return nil, fmt.Errorf("the raw document %s: %w", doc.ID, err)
	}
	defer rc.Close()
	switch doc.Standard {
	case pipeline.StandardOrderJSON:
		return pipeline.DecodeOrderJSON(rc)
	case "X12", "EDIFACT":
	default:
		// Captured: the order as stored (reviewed), without what the
		// decision added to it.
		o, err := rec.Order()
		if err != nil {
			return nil, err
		}
		o.Status, o.Holds = "", nil
		return o, nil
	}
	var found *order.Order
	opts := ediproc.Options{Partner: pipeline.Resolver(t.Config, doc.Channel, doc.PartnerID), NoAcks: true}
	_, err = ediproc.Processor{}.Process(ctx, rc, doc.Filename, opts, func(m *ediproc.Message) error {
		if m.Index == rec.MessageIndex && m.Order != nil {
			found = m.Order
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("document %s has no order at message %d any more", doc.ID, rec.MessageIndex)
	}
	return found, nil
}
