package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/internal/store/archive"
)

// Take is intake, the durability line: it writes the document's bytes to
// the archive (fsynced), then its row, its "received" event and the
// doc.received message in one transaction. A document whose source key
// the channel delivered before is not stored again: Take returns the
// stored row with created = false. Only after Take returns may the channel
// dispose of its copy.
func (p *Pipeline) Take(ctx context.Context, doc channels.Document) (store.Document, bool, error) {
	if doc.Err != nil {
		return p.takeRejected(ctx, doc)
	}
	h, size, err := p.d.Store.Archive().Put(ctx, doc.Body.Reader())
	if err != nil {
		return store.Document{}, false, fmt.Errorf("archiving %s: %w", doc.Name, err)
	}
	if doc.SHA256 != [32]byte{} && h != archive.Hash(doc.SHA256) {
		return store.Document{}, false, fmt.Errorf("archiving %s: content changed while reading (hash mismatch)", doc.Name)
	}
	in := store.DocumentInput{
		Channel: doc.Channel, SourceKey: doc.SourceKey, SHA256: h, Size: size, Filename: doc.Name,
		ReceivedAt: doc.Received, Metadata: doc.Meta,
	}
	in.Standard, in.ContentType = sniff(doc.Body)
	if cfg := p.d.Config(); cfg != nil {
		if ch, ok := cfg.Channel(doc.Channel); ok && ch.Partner != "" {
			in.PartnerID = ch.Partner
		}
	}
	var stored store.Document
	var created bool
	err = p.write(ctx, func(tx *store.Tx, pub message.Publisher) error {
		stored, created, err = tx.InsertDocument(ctx, in)
		if err != nil || !created {
			return err
		}
		if _, err := tx.AddEvent(ctx, store.EventInput{DocumentID: stored.ID, Actor: doc.Channel, Kind: "received",
			Reason: fmt.Sprintf("%s (%d bytes) from channel %s", doc.Name, size, doc.Channel)}); err != nil {
			return err
		}
		return publish(pub, TopicDocReceived, nil, payload{DocumentID: stored.ID})
	})
	if err != nil {
		return store.Document{}, false, fmt.Errorf("storing %s: %w", doc.Name, err)
	}
	status := "received"
	if !created {
		status = "redelivered"
	}
	p.d.Metrics.Documents.WithLabelValues(doc.Channel, status).Inc()
	p.log.Debug("document taken", "channel", doc.Channel, "document_id", stored.ID, "created", created)
	return stored, created, nil
}

// takeRejected records a document whose bytes the channel could not take
// (too large): an empty archive entry and a rejected row, so the source
// can move it aside.
func (p *Pipeline) takeRejected(ctx context.Context, doc channels.Document) (store.Document, bool, error) {
	h, _, err := p.d.Store.Archive().Put(ctx, bytes.NewReader(nil))
	if err != nil {
		return store.Document{}, false, fmt.Errorf("archiving %s: %w", doc.Name, err)
	}
	var stored store.Document
	var created bool
	err = p.write(ctx, func(tx *store.Tx, _ message.Publisher) error {
		stored, created, err = tx.InsertDocument(ctx, store.DocumentInput{Channel: doc.Channel, SourceKey: doc.SourceKey,
			SHA256: h, Filename: doc.Name, ReceivedAt: doc.Received, Metadata: doc.Meta})
		if err != nil || !created {
			return err
		}
		if err := tx.SetDocumentStatus(ctx, stored.ID, store.DocumentRejected, doc.Err.Error()); err != nil {
			return err
		}
		stored.Status, stored.Error = store.DocumentRejected, doc.Err.Error()
		_, err = tx.AddEvent(ctx, store.EventInput{DocumentID: stored.ID, Actor: doc.Channel, Kind: "rejected", Reason: doc.Err.Error()})
		return err
	})
	if err != nil {
		return store.Document{}, false, fmt.Errorf("storing the rejection of %s: %w", doc.Name, err)
	}
	p.d.Metrics.Documents.WithLabelValues(doc.Channel, "rejected").Inc()
	return stored, created, nil
}

// sniff names the standard and content type from the first bytes.
func sniff(b *channels.Body) (standard, contentType string) {
	head := make([]byte, edi.SniffLen)
	n, _ := b.ReadAt(head, 0)
	switch edi.Sniff(head[:n]) {
	case edi.X12:
		return "X12", "application/edi-x12"
	case edi.EDIFACT:
		return "EDIFACT", "application/edifact"
	}
	return "", "application/octet-stream"
}

// sourceAcks acknowledges documents at their source once the parse stage
// has decided on them: parsed and duplicate documents are committed (moved
// to done), rejected and quarantined ones are rejected (moved aside with
// the reason). It polls the store, so it works the same after a restart
// and whichever process ran the stage.
type sourceAcks struct {
	p       *Pipeline
	add     chan pendingAck
	pending map[string][]pendingAck
}

type pendingAck struct {
	docID   string
	channel string
	ack     channels.AckFunc
}

func newSourceAcks(p *Pipeline) *sourceAcks {
	return &sourceAcks{p: p, add: make(chan pendingAck, 1024), pending: map[string][]pendingAck{}}
}

// wait registers a document's AckFunc.
func (s *sourceAcks) wait(ctx context.Context, pa pendingAck) error {
	select {
	case s.add <- pa:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *sourceAcks) run(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case pa := <-s.add:
			s.pending[pa.docID] = append(s.pending[pa.docID], pa)
			continue
		case <-tick.C:
		}
		for id, list := range s.pending {
			doc, err := s.p.d.Store.GetDocument(ctx, id)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					s.p.log.Warn("reading document status", "document_id", id, "err", err)
				}
				continue
			}
			var res channels.Result
			switch doc.Status {
			case store.DocumentReceived:
				continue
			case store.DocumentParsed, store.DocumentDuplicate:
				res = channels.Committed()
			default:
				res = channels.Rejected(doc.Error)
			}
			for _, pa := range list {
				if err := pa.ack(ctx, res); err != nil && !errors.Is(err, channels.ErrNotConnected) {
					s.p.log.Warn("acknowledging document at its source", "channel", pa.channel, "document_id", id, "err", err)
				}
			}
			delete(s.pending, id)
		}
	}
}

// RunSource reads documents from src until ctx ends, taking each in and
// registering its source ack. It reconnects with capped backoff.
func (p *Pipeline) RunSource(ctx context.Context, name string, src channels.Source) {
	log := p.log.With("channel", name)
	backoff := 100 * time.Millisecond
	sleep := func() bool {
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(backoff*2, 30*time.Second)
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = src.Close(cctx)
	}()
	for ctx.Err() == nil {
		if err := src.Connect(ctx); err != nil {
			log.Warn("connecting channel", "err", err, "retry_in", backoff)
			if !sleep() {
				return
			}
			continue
		}
		for ctx.Err() == nil {
			doc, ack, err := src.Read(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				if errors.Is(err, channels.ErrEndOfInput) {
					return
				}
				log.Warn("reading channel", "err", err, "retry_in", backoff)
				if errors.Is(err, channels.ErrNotConnected) {
					break
				}
				if !sleep() {
					return
				}
				continue
			}
			stored, _, err := p.Take(ctx, doc)
			doc.Body.Close()
			if err != nil {
				log.Error("taking document in", "name", doc.Name, "err", err)
				_ = ack(context.WithoutCancel(ctx), channels.Retry())
				if !sleep() {
					return
				}
				continue
			}
			backoff = 100 * time.Millisecond
			p.d.Fault("after-intake-commit")
			if err := p.acks.wait(ctx, pendingAck{docID: stored.ID, channel: name, ack: ack}); err != nil {
				return
			}
		}
	}
}

var _ io.ReaderAt = (*channels.Body)(nil)
