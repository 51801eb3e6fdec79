package app

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/webapi"
	"github.com/ordergate/ordergate/internal/pipeline"
)

// Metadata keys a submitted order document carries.
const (
	metaOrderID    = "order_id"
	metaRequestSHA = "request_sha256"
	metaKeyID      = "api_key_id"
	metaRequestID  = "request_id"
	metaUser       = "user"
)

// submitIntake takes orders submitted over HTTP (the web API, the order
// desk) into the same intake as every channel, with group commit: the
// submissions that arrive while a batch commits go together in the next
// one (one transaction, one fsync), and each caller gets its answer only
// after its document is durably stored.
type submitIntake struct {
	p     *pipeline.Pipeline
	queue chan *submission
	done  chan struct{}
}

type submission struct {
	doc   channels.Document
	reply chan submitResult
}

type submitResult struct {
	taken pipeline.Taken
	err   error
}

// maxSubmitBatch bounds a group commit.
const maxSubmitBatch = 128

func newSubmitIntake(p *pipeline.Pipeline) *submitIntake {
	return &submitIntake{p: p, queue: make(chan *submission, 4*maxSubmitBatch), done: make(chan struct{})}
}

// run commits batches until ctx ends; callers waiting then get ctx's error.
func (s *submitIntake) run(ctx context.Context) {
	defer close(s.done)
	for {
		var batch []*submission
		select {
		case <-ctx.Done():
			return
		case first := <-s.queue:
			batch = append(batch, first)
		}
	more:
		for len(batch) < maxSubmitBatch {
			select {
			case next := <-s.queue:
				batch = append(batch, next)
			default:
				break more
			}
		}
		docs := make([]channels.Document, len(batch))
		for i, b := range batch {
			docs[i] = b.doc
		}
		taken, err := s.p.TakeBatch(ctx, docs)
		for i, b := range batch {
			if err != nil {
				b.reply <- submitResult{err: err}
				continue
			}
			b.reply <- submitResult{taken: taken[i]}
		}
	}
}

// take stores one document, waiting for its batch to commit.
func (s *submitIntake) take(ctx context.Context, doc channels.Document) (pipeline.Taken, error) {
	sub := &submission{doc: doc, reply: make(chan submitResult, 1)}
	select {
	case s.queue <- sub:
	case <-ctx.Done():
		return pipeline.Taken{}, ctx.Err()
	case <-s.done:
		return pipeline.Taken{}, errors.New("intake is stopped")
	}
	select {
	case r := <-sub.reply:
		return r.taken, r.err
	case <-ctx.Done():
		return pipeline.Taken{}, ctx.Err()
	case <-s.done:
		return pipeline.Taken{}, errors.New("intake is stopped")
	}
}

// webIntake is webapi.Intake over submitIntake: the document's source key
// is "web:<customer>:<idempotency key>", so a repeated key finds the
// first submission, whose order id and request hash come back.
type webIntake struct {
	in      *submitIntake
	channel string
}

func (w *webIntake) Submit(ctx context.Context, s webapi.Submission) (webapi.Receipt, error) {
	doc := channels.Document{Channel: w.channel, SourceKey: s.SourceKey(), Name: s.OrderID + ".json",
		Body: channels.BytesBody(s.Body), SHA256: s.SHA256, Received: s.Received,
		Meta: map[string]string{metaOrderID: s.OrderID, metaRequestSHA: hex.EncodeToString(s.RequestSHA256[:]),
			metaKeyID: s.KeyID, metaRequestID: s.RequestID}}
	if doc.Received.IsZero() {
		doc.Received = time.Now()
	}
	t, err := w.in.take(ctx, doc)
	if err != nil {
		return webapi.Receipt{}, err
	}
	r := webapi.Receipt{OrderID: t.Doc.Metadata[metaOrderID], DocumentID: t.Doc.ID, SHA256: t.Doc.SHA256, Existing: !t.Created}
	if b, err := hex.DecodeString(t.Doc.Metadata[metaRequestSHA]); err == nil && len(b) == 32 {
		copy(r.RequestSHA256[:], b)
	} else {
		return webapi.Receipt{}, fmt.Errorf("document %s has no request hash", t.Doc.ID)
	}
	return r, nil
}
