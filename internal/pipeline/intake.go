package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/internal/store/archive"
	"github.com/ordergate/ordergate/normalize/order"
	"golang.org/x/sync/semaphore"
)

// Taken is what intake did with one document of a batch.
type Taken struct {
	Doc     store.Document
	Created bool
}

// TakeBatch is intake, the durability line: it writes each document's
// bytes to the archive (fsynced, in parallel), then the documents' rows
// and their "received" events in one transaction (group commit: one fsync
// for the batch). When the store keeps the bytes in the database on
// SQLite (Store.ArchiveInTx), they are hashed in parallel and written in
// that transaction instead, whose commit is then the only fsync. An EDI
// document of up to 1 MiB is also parsed here, before the transaction and
// outside the write lock, and its orders, acks and outcome are committed
// with it, its orders normalized, decided and routed in the same
// transaction (normalizeParsed); other documents (and those with an
// interchange seen before) get a doc.received message for the parse
// stage. A document whose
// source key the channel delivered before is not stored again: its
// stored row comes back with Created = false. Only after TakeBatch returns
// may the channel dispose of its copies. Rejected documents (Err set) are
// recorded as such.
func (p *Pipeline) TakeBatch(ctx context.Context, docs []channels.Document) ([]Taken, error) {
	type prepared struct {
		in  store.DocumentInput
		pre *preParsed
		err error
		// A canonical order document: its order or why it is none.
		json    bool
		jsonOrd *order.Order
		jsonErr error
		// A mail's key in the message layer of duplicate detection.
		mailKey string
		// The content ready to store in the transaction (nil: read
		// there, PutContent).
		content *store.PreparedContent
	}
	prep := make([]prepared, len(docs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	cfg := p.d.Config()
	inTx := p.d.Store.ArchiveInTx()
	for i := range docs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			doc := docs[i]
			in := store.DocumentInput{Channel: doc.Channel, SourceKey: doc.SourceKey, Filename: doc.Name,
				ReceivedAt: doc.Received, Metadata: doc.Meta}
			body := contentOf(doc)
			if doc.Err == nil {
				in.Standard, in.ContentType = sniff(doc.Body)
				if cfg != nil {
					if ch, ok := cfg.Channel(doc.Channel); ok && ch.Type == config.ChannelIMAP {
						// A mail: classified by the parse stage (EDI
						// attachments, faxes, order mails).
						in.Standard, in.ContentType = StandardEmail, ContentTypeEmail
						if raw, err := io.ReadAll(io.LimitReader(doc.Body.Reader(), maxMailBytes)); err == nil {
							prep[i].mailKey = mailKey(raw)
						}
					}
				}
			}
			var h archive.Hash
			var size int64
			var err error
			if inTx {
				// Stored in the transaction below; hashed (and a
				// content of one chunk made ready) here, in parallel and
				// outside the write lock.
				var pc *store.PreparedContent
				if pc, err = p.d.Store.PrepareContent(ctx, body); pc != nil {
					prep[i].content, h, size = pc, pc.Hash(), pc.Size()
				} else if err == nil {
					h, size, err = hashContent(ctx, contentOf(doc))
				}
			} else {
				h, size, err = p.d.Store.Archive().Put(ctx, body)
			}
			if err == nil && doc.Err == nil && doc.SHA256 != [32]byte{} && h != archive.Hash(doc.SHA256) {
				err = errors.New("content changed while reading (hash mismatch)")
			}
			if err != nil {
				prep[i].err = fmt.Errorf("archiving %s: %w", doc.Name, err)
				return
			}
			in.SHA256, in.Size = h, size
			if cfg != nil {
				if ch, ok := cfg.Channel(doc.Channel); ok && ch.Partner != "" {
					in.PartnerID = ch.Partner
				}
			}
			if p := doc.Meta["partner"]; p != "" {
				// The channel knows the partner per document (the hosted
				// SFTP server: each user is a partner).
				in.PartnerID = p
			}
			prep[i].in = in
			switch {
			case doc.Err == nil && in.Standard == StandardOrderJSON:
				prep[i].json = true
				prep[i].jsonOrd, prep[i].jsonErr = decodeOrderJSON(doc.Body.Reader())
			case doc.Err == nil && (in.Standard == "X12" || in.Standard == "EDIFACT") && size <= maxIntakeParse && cfg != nil:
				prep[i].pre = p.preParse(ctx, cfg, doc, in.PartnerID)
			}
		}()
	}
	wg.Wait()
	for _, pr := range prep {
		if pr.err != nil {
			return nil, pr.err
		}
	}
	out := make([]Taken, len(docs))
	// A sender waits for this commit (an API client's answer, a file that
	// stays in place until it): it queues for the write lock before the
	// stages (store.UrgentWrite).
	var parsed []parsedOrder // the orders intake parsed, normalized after the documents
	var normalized int       // of them, those normalized in the transaction
	// The first run normalizes the parsed orders without savepoints; when
	// one fails, the transaction is rolled back and the batch runs again,
	// guarded: each order in a savepoint (normalizeParsed).
	guarded := false
	write := func(tx *store.Tx, pub message.Publisher) error {
		parsed, normalized = parsed[:0], 0
		for i, doc := range docs {
			switch {
			case prep[i].content != nil:
				if err := tx.PutPrepared(ctx, prep[i].content); err != nil {
					return fmt.Errorf("archiving %s: %w", doc.Name, err)
				}
			case inTx:
				if _, _, err := tx.PutContent(ctx, contentOf(doc), prep[i].in.Size, prep[i].in.SHA256); err != nil {
					return fmt.Errorf("archiving %s: %w", doc.Name, err)
				}
			}
			stored, created, err := tx.InsertDocument(ctx, prep[i].in)
			if err != nil {
				return err
			}
			out[i] = Taken{Doc: stored, Created: created}
			if !created {
				continue
			}
			if doc.Err != nil {
				if err := tx.SetDocumentStatus(ctx, stored.ID, store.DocumentRejected, doc.Err.Error()); err != nil {
					return err
				}
				out[i].Doc.Status, out[i].Doc.Error = store.DocumentRejected, doc.Err.Error()
				if _, err := tx.AddEvent(ctx, store.EventInput{DocumentID: stored.ID, Actor: doc.Channel, Kind: "rejected", Reason: doc.Err.Error()}); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.AddEvent(ctx, store.EventInput{DocumentID: stored.ID, Actor: doc.Channel, Kind: "received",
				Reason: fmt.Sprintf("%s (%d bytes) from channel %s", doc.Name, prep[i].in.Size, doc.Channel)}); err != nil {
				return err
			}
			if prep[i].mailKey != "" {
				dup, err := p.claimMail(ctx, tx, stored.ID, prep[i].mailKey)
				if err != nil {
					return err
				}
				if dup {
					out[i].Doc.Status = store.DocumentDuplicate
					continue
				}
			}
			if prep[i].json {
				if err := p.storeOrderJSON(ctx, tx, pub, nil, stored, prep[i].jsonOrd, prep[i].jsonErr); err != nil {
					return err
				}
				out[i].Doc.Status = store.DocumentParsed
				if prep[i].jsonErr != nil {
					out[i].Doc.Status, out[i].Doc.Error = store.DocumentRejected, prep[i].jsonErr.Error()
				}
				continue
			}
			done, err := p.storePreParsed(ctx, tx, pub, stored, prep[i].pre, &parsed, !guarded)
			if err != nil {
				return err
			}
			if done {
				out[i].Doc.Status, out[i].Doc.Error = documentOutcome(prep[i].pre.sum)
				continue
			}
			if err := publish(pub, TopicDocReceived, nil, payload{DocumentID: stored.ID}); err != nil {
				return err
			}
		}
		var err error
		normalized, err = p.normalizeParsed(ctx, tx, pub, parsed, guarded)
		return err
	}
	err := p.write(store.UrgentWrite(ctx), write)
	if errors.Is(err, errNormalizeUnguarded) {
		p.log.Warn("normalize at intake failed: the batch is stored again with each order in a savepoint", "documents", len(docs), "err", err)
		p.guardedRetries.Add(1)
		guarded = true
		// The first run changed the orders it parsed (normalize resolves
		// their lines in place): the guarded run takes them as parsed,
		// from the documents again.
		for i := range prep {
			if prep[i].pre != nil {
				prep[i].pre = p.preParse(ctx, cfg, docs[i], prep[i].in.PartnerID)
			}
		}
		err = p.write(store.UrgentWrite(ctx), write)
	}
	if err != nil {
		return nil, fmt.Errorf("storing %d document(s): %w", len(docs), err)
	}
	p.normalizedAtIntake.Add(int64(normalized))
	for i, t := range out {
		status := "received"
		switch {
		case !t.Created:
			status = "redelivered"
		case docs[i].Err != nil:
			status = "rejected"
		}
		p.d.Metrics.Documents.WithLabelValues(docs[i].Channel, status).Inc()
	}
	return out, nil
}

// contentOf returns a new reader of the content intake archives for doc:
// its body, or nothing for a document its channel rejected (Err set).
func contentOf(doc channels.Document) io.Reader {
	if doc.Err != nil {
		return bytes.NewReader(nil)
	}
	return doc.Body.Reader()
}

// hashContent reads r to its end and returns its hash and size.
func hashContent(ctx context.Context, r io.Reader) (archive.Hash, int64, error) {
	bp := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(bp)
	hw := sha256.New()
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return archive.Hash{}, 0, fmt.Errorf("hashing: %w", err)
		}
		k, err := r.Read(*bp)
		hw.Write((*bp)[:k])
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return archive.Hash{}, 0, fmt.Errorf("hashing: %w", err)
		}
	}
	var h archive.Hash
	hw.Sum(h[:0])
	return h, n, nil
}

// hashBuffers are hashContent's read buffers.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// maxIntakeParse is the largest document parsed at intake; larger ones
// are parsed by the parse stage, which streams them.
const maxIntakeParse = 1 << 20

// preParsed is what processing a small document at intake found, before
// its transaction: the messages with their orders, and the summary with
// the acks.
type preParsed struct {
	sum  *ediproc.Summary
	msgs []*ediproc.Message
}

// preParse processes a small EDI document outside the write lock (in
// parallel with the batch's other documents): decoding, mapping and the
// acks, with control numbers from a reserved block. Duplicates are checked
// in the transaction. nil when processing failed: the parse stage tries.
func (p *Pipeline) preParse(ctx context.Context, cfg *config.Config, doc channels.Document, partnerID string) *preParsed {
	pre := &preParsed{}
	opts := ediproc.Options{
		Partner:       Resolver(cfg, doc.Channel, partnerID),
		ControlNumber: func(partner, kind string) (int64, error) { return p.blocks.next(ctx, orNone(partner), kind) },
		Now:           p.d.Now,
	}
	sum, err := p.d.Processor.Process(ctx, doc.Body.Reader(), doc.Name, opts, func(m *ediproc.Message) error {
		if m.Order != nil {
			// Sorted once here, outside the write lock: the copies and
			// the JSON of the order made under it need not sort it.
			m.Order.Provenance = m.Order.Provenance.Sorted()
		}
		pre.msgs = append(pre.msgs, m)
		return nil
	})
	if err != nil {
		p.log.Warn("parsing at intake failed; the parse stage will try", "channel", doc.Channel, "name", doc.Name, "err", err)
		return nil
	}
	pre.sum = sum
	return pre
}

// storePreParsed records a document parsed at intake in the intake
// transaction, unless one of its interchanges was received before (then
// the parse stage applies the partner's duplicate policy): done reports
// whether it did.
// Its orders for the normalize stage are added to stored, for
// normalizeParsed.
func (p *Pipeline) storePreParsed(ctx context.Context, tx *store.Tx, pub message.Publisher, doc store.Document, pre *preParsed, stored *[]parsedOrder, hold bool) (done bool, err error) {
	if pre == nil {
		return false, nil
	}
	now := p.d.Now()
	keys := make([]string, 0, len(pre.sum.Interchanges))
	for _, ic := range pre.sum.Interchanges {
		if ic.Claimable {
			keys = append(keys, envelopeKey(ic.Standard, ic.Envelope))
		}
	}
	window := p.d.Config().Pipeline.DuplicateWindow
	if len(keys) == 1 {
		// One interchange (the usual file): its claim is the check, and
		// changes nothing when another document holds the key.
		if holder, err := tx.ClaimKey(ctx, store.LayerEnvelope, keys[0], doc.ID, "", window); err != nil || holder != nil {
			return false, err
		}
		keys = nil
	}
	// Several: every key is checked before any is claimed.
	for _, key := range keys {
		held, err := tx.GetKey(ctx, store.LayerEnvelope, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return false, err
		case held.FirstDocumentID != doc.ID && (held.ExpiresAt.IsZero() || held.ExpiresAt.After(now)):
			return false, nil
		}
	}
	for _, key := range keys {
		if holder, err := tx.ClaimKey(ctx, store.LayerEnvelope, key, doc.ID, "", window); err != nil {
			return false, err
		} else if holder != nil {
			return false, fmt.Errorf("claiming %s: held by %s after the check", key, holder.FirstDocumentID)
		}
	}
	for _, m := range pre.msgs {
		if err := p.recordMessage(ctx, tx, pub, nil, doc, m, stored, hold); err != nil {
			return false, err
		}
	}
	return true, p.finishDocument(ctx, tx, doc, pre.sum)
}

// parsedOrder is an order intake stored, as decoding its stored JSON
// gives it (store.OrderRecord.OrderFrom).
type parsedOrder struct {
	rec store.OrderRecord
	o   *order.Order
	// in, when set, is the order not stored yet (recordMessage's hold):
	// normalizeParsed inserts it, held back, and fills rec and o.
	in *store.OrderInput
}

// errNormalizeUnguarded: an order failed while intake normalized it
// without a savepoint; TakeBatch rolls the transaction back and stores
// the batch again, guarded.
var errNormalizeUnguarded = errors.New("an order failed while normalized at intake")

// normalizeParsed runs the normalize stage (and with it decide and route)
// on the orders intake parsed, in intake's transaction, and returns how
// many it normalized. Every order thus costs one transaction instead of
// two: one queue message, one read of the order and one write of its row
// less. Past the first intakeNormalizeMax orders (a batch of files with
// many purchase orders each), the rest go to the stage, which takes them
// in transactions of its own: the write lock, which API senders wait for
// too, is held for a bounded time.
//
// Unguarded, the orders run one after the other in the transaction, and
// the first that fails (or panics) fails it with errNormalizeUnguarded.
// Guarded, each order runs in a savepoint, so that an order the stage
// fails on goes to the stage's topic instead (order.parsed), to be
// retried or quarantined there, and the documents are stored all the
// same. A savepoint has SQLite copy every page the order changes to its
// statement journal first (about 100 KB an order), which is why intake
// takes that road only for a batch that needs it.
func (p *Pipeline) normalizeParsed(ctx context.Context, tx *store.Tx, pub message.Publisher, parsed []parsedOrder, guarded bool) (int, error) {
	// The orders' master data is read for all of them at once, and
	// their lookups share what was read.
	reads := newMasterReads(tx)
	batch := make([]masterdata.PrefetchOrder, 0, min(len(parsed), p.intakeNormalizeMax))
	for i, po := range parsed {
		switch {
		case i >= p.intakeNormalizeMax:
		case po.in != nil:
			batch = append(batch, masterdata.PrefetchOrder{Order: po.in.Order, Partner: po.in.PartnerID})
		default:
			batch = append(batch, masterdata.PrefetchOrder{Order: po.o, Partner: po.rec.PartnerID})
		}
	}
	if err := masterdata.Prefetch(ctx, reads, batch); err != nil {
		return 0, fmt.Errorf("reading the master data of %d order(s): %w", len(batch), err)
	}
	normalized := 0
	for i, po := range parsed {
		if i >= p.intakeNormalizeMax {
			if err := publish(pub, TopicOrderParsed, nil, payload{OrderID: po.rec.ID}); err != nil {
				return 0, err
			}
			continue
		}
		start := time.Now()
		if po.in != nil {
			// Inserted now, its row held back until normalizeOrder's
			// flush writes it as the automatic stages leave it.
			rec, _, err := tx.InsertOrder(ctx, *po.in)
			if err != nil {
				return 0, fmt.Errorf("%w: order %s: %w", errNormalizeUnguarded, po.in.Order.ID, err)
			}
			so, err := rec.OrderFrom(po.in.Order)
			if err != nil {
				return 0, fmt.Errorf("%w: order %s: %w", errNormalizeUnguarded, rec.ID, err)
			}
			po.rec, po.o = rec, so
		}
		rec := po.rec
		if !guarded {
			err := p.normalizeAtIntake(ctx, tx, reads, &rec, po.o)
			p.d.Metrics.ObserveStage("normalize", start)
			if err != nil {
				return 0, fmt.Errorf("%w: order %s: %w", errNormalizeUnguarded, rec.ID, err)
			}
			normalized++
			continue
		}
		failed, err := tx.Attempt(ctx, func() error { return p.normalizeAtIntake(ctx, tx, reads, &rec, po.o) })
		p.d.Metrics.ObserveStage("normalize", start)
		if err != nil {
			return 0, err
		}
		if failed == nil {
			normalized++
		} else {
			p.log.Warn("normalize at intake failed: the order goes to the normalize stage", "order", rec.ID,
				"partner", rec.PartnerID, "channel", rec.Channel, "err", failed)
			if err := publish(pub, TopicOrderParsed, nil, payload{OrderID: rec.ID}); err != nil {
				return 0, err
			}
		}
	}
	return normalized, nil
}

// normalizeAtIntake is normalizeOrder for an order intake parsed: a panic
// is its error, as the stage's recoverer would make it.
func (p *Pipeline) normalizeAtIntake(ctx context.Context, tx *store.Tx, reads *masterReads, rec *store.OrderRecord, o *order.Order) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic: %v\n%s", ErrPermanent, r, debug.Stack())
		}
	}()
	p.d.Fault("intake-normalize")
	return p.normalizeOrder(ctx, tx, reads, rec, o)
}

// envelopeKey is the key of an interchange in the envelope layer of
// duplicate detection.
func envelopeKey(std edi.Standard, env edi.Envelope) string {
	return strings.Join([]string{std.String(), env.SenderQualifier, env.SenderID, env.ReceiverID, env.InterchangeControl}, "|")
}

// controlBlocks hands out control numbers for acknowledgements made at
// intake from blocks reserved in the store (one write per block instead of
// one per ack); numbers of a block left when the process stops are
// skipped, never reused. A block is controlBlock numbers, twice the last
// one's (up to controlBlockMax) when that was used up within a second: a
// burst of files reserves a few large blocks instead of a transaction per
// hundred acks, and a quiet gateway skips at most a small block's worth
// of numbers when it stops.
type controlBlocks struct {
	p      *Pipeline
	mu     sync.Mutex
	blocks map[[2]string]*controlBlockState
}

type controlBlockState struct {
	next, last int64
	size       int64
	at         time.Time // when the block was reserved
}

const (
	controlBlock    = 100
	controlBlockMax = 1000
)

// nextControlBlock is the size of the block after one of size prev that
// was used up in used.
func nextControlBlock(prev int64, used time.Duration) int64 {
	if prev <= 0 || used > time.Second {
		return controlBlock
	}
	return min(2*prev, controlBlockMax)
}

func (c *controlBlocks) next(ctx context.Context, partner, kind string) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := [2]string{partner, kind}
	b := c.blocks[k]
	if b == nil || b.next > b.last {
		size := int64(controlBlock)
		if b != nil {
			size = nextControlBlock(b.size, time.Since(b.at))
		}
		var first int64
		err := c.p.d.Queue.InTx(ctx, func(sqlTx *sql.Tx) error {
			var err error
			first, err = c.p.d.Store.WrapTx(sqlTx).ReserveControlNumbers(ctx, partner, kind, size)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("reserving control numbers: %w", err)
		}
		b = &controlBlockState{next: first, last: first + size - 1, size: size, at: time.Now()}
		if c.blocks == nil {
			c.blocks = map[[2]string]*controlBlockState{}
		}
		c.blocks[k] = b
	}
	v := b.next
	b.next++
	return v, nil
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
	if isOrderJSON(head[:n]) {
		return StandardOrderJSON, ContentTypeOrderJSON
	}
	return "", "application/octet-stream"
}

// sourceAckTimeout bounds one ack at a source.
const sourceAckTimeout = 30 * time.Second

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
	tick := time.NewTicker(20 * time.Millisecond)
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
		if len(s.pending) == 0 {
			continue
		}
		ids := make([]string, 0, len(s.pending))
		for id := range s.pending {
			ids = append(ids, id)
		}
		docs, err := s.p.d.Store.DocumentsByID(ctx, ids)
		if err != nil {
			if ctx.Err() == nil {
				s.p.log.Warn("reading document status", "err", err)
			}
			continue
		}
		// The acks of this round share their folder fsyncs (a folder
		// channel moves each file to done/ and fsyncs done/ and the inbox
		// once for all of them, in group.Sync).
		gctx, group := channels.WithSyncGroup(ctx)
		for _, doc := range docs {
			var res channels.Result
			switch doc.Status {
			case store.DocumentReceived:
				continue
			case store.DocumentParsed, store.DocumentDuplicate:
				res = channels.Committed()
			default:
				res = channels.Rejected(doc.Error)
			}
			for _, pa := range s.pending[doc.ID] {
				// One source's ack that hangs (a dead connection) must not
				// stall every channel's acks: each gets a time limit. An ack
				// that fails leaves the document at its source, which
				// offers it again; intake absorbs it.
				actx, cancel := context.WithTimeout(gctx, sourceAckTimeout)
				err := pa.ack(actx, res)
				cancel()
				if err != nil && !errors.Is(err, channels.ErrNotConnected) {
					s.p.log.Warn("acknowledging document at its source", "channel", pa.channel, "document_id", doc.ID, "err", err)
				}
			}
			delete(s.pending, doc.ID)
		}
		if err := group.Sync(); err != nil {
			s.p.log.Warn("syncing folders after acknowledging documents at their source", "err", err)
		}
	}
}

// RunSource reads documents from src until ctx ends and takes them in,
// several per transaction when they come in bursts (group commit), then
// registers their source acks. It reconnects with capped backoff.
func (p *Pipeline) RunSource(ctx context.Context, name string, src channels.Source) {
	log := p.log.With("channel", name)
	type item struct {
		doc channels.Document
		ack channels.AckFunc
	}
	items := make(chan item, maxIntakeBatch)
	// The bytes read ahead of intake are bounded too: 256 documents of
	// 1 MiB would otherwise wait in memory.
	ahead := semaphore.NewWeighted(maxReadAheadBytes)
	weight := func(doc channels.Document) int64 { return min(max(doc.Body.Size(), 1), maxReadAheadBytes) }
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(items)
		p.readSource(ctx, name, log, src, func(doc channels.Document, ack channels.AckFunc) bool {
			if err := ahead.Acquire(ctx, weight(doc)); err != nil {
				doc.Body.Close()
				_ = ack(context.WithoutCancel(ctx), channels.Retry())
				return false
			}
			select {
			case items <- item{doc, ack}:
				return true
			case <-ctx.Done():
				doc.Body.Close()
				_ = ack(context.WithoutCancel(ctx), channels.Retry())
				return false
			}
		})
	}()
	backoff := 100 * time.Millisecond
	for {
		first, ok := <-items
		if !ok {
			<-readerDone
			return
		}
		p.waitForBacklog(ctx, log)
		batch := nextBatch(first, items, func(it item) int64 { return it.doc.Body.Size() }, maxIntakeBatch, maxIntakeBatchBytes)
		docs := make([]channels.Document, len(batch))
		for i, it := range batch {
			docs[i] = it.doc
		}
		taken, err := p.TakeBatch(ctx, docs)
		for _, d := range docs {
			ahead.Release(weight(d))
			d.Body.Close()
		}
		if err != nil {
			log.Error("taking documents in", "documents", len(docs), "err", err, "retry_in", backoff)
			for _, it := range batch {
				_ = it.ack(context.WithoutCancel(ctx), channels.Retry())
			}
			if !sleepCtx(ctx, backoff) {
				continue // drain items until the reader closes
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		p.d.Fault("after-intake-commit")
		for i, it := range batch {
			if err := p.acks.wait(ctx, pendingAck{docID: taken[i].Doc.ID, channel: name, ack: it.ack}); err != nil {
				break // stopping: unacked documents are read again after a restart
			}
		}
	}
}

// nextBatch returns first and the items ready in items after it, up to
// maxN in all, and no more once their sizes add up to maxBytes.
func nextBatch[T any](first T, items <-chan T, size func(T) int64, maxN int, maxBytes int64) []T {
	batch := []T{first}
	total := size(first)
	for len(batch) < maxN && total < maxBytes {
		select {
		case it, ok := <-items:
			if !ok {
				return batch
			}
			batch = append(batch, it)
			total += size(it)
		default:
			return batch
		}
	}
	return batch
}

// maxIntakeBatch bounds the documents taken in one transaction, and
// maxIntakeBatchBytes their bytes (a batch is closed once it has that
// many): a burst of small files commits 256 at a time, one fsync of the
// database for all (64 a time routed a fifth fewer orders a second on the
// benchmark machine), while a batch of large files, which intake parses
// and holds in memory up to 1 MiB each, stays within a few MiB.
const (
	maxIntakeBatch      = 256
	maxIntakeBatchBytes = 4 << 20
	// maxReadAheadBytes bounds the bytes of the documents a source has
	// handed over and intake not yet taken (a batch's and those waiting
	// for the next).
	maxReadAheadBytes = 2 * maxIntakeBatchBytes
)

// intakeNormalizeMax bounds the orders intake normalizes in one
// transaction (normalizeParsed): at about 0.8 ms of write lock each on
// the benchmark machine, a batch of 256 single-order files holds it
// about 200 ms.
const intakeNormalizeMax = 256

// readSource connects src and hands each document to take until ctx ends
// or take returns false.
func (p *Pipeline) readSource(ctx context.Context, name string, log *slog.Logger, src channels.Source, take func(channels.Document, channels.AckFunc) bool) {
	backoff := 100 * time.Millisecond
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = src.Close(cctx)
	}()
	for ctx.Err() == nil {
		if err := src.Connect(ctx); err != nil {
			p.sourceError(name, err)
			p.sources.update(name, func(st *SourceStatus) { st.Connected = false })
			log.Warn("connecting channel", "err", err, "retry_in", backoff)
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		p.sources.update(name, func(st *SourceStatus) { st.Connected, st.ConnectedAt = true, time.Now() })
		for ctx.Err() == nil {
			doc, ack, err := src.Read(ctx)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, channels.ErrEndOfInput) {
					return
				}
				p.sourceError(name, err)
				log.Warn("reading channel", "err", err, "retry_in", backoff)
				if errors.Is(err, channels.ErrNotConnected) {
					p.sources.update(name, func(st *SourceStatus) { st.Connected = false })
					break
				}
				if !sleepCtx(ctx, backoff) {
					return
				}
				backoff = min(backoff*2, 30*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			p.sources.update(name, func(st *SourceStatus) { st.LastDocument = time.Now() })
			if !take(doc, ack) {
				return
			}
		}
	}
}

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// intakeBacklogMax is how many orders and documents may wait for the
// parse and normalize stages before a pulled source's intake pauses
// (Deps.IntakeBacklog when set). A burst of files then waits in its
// folder or mailbox, where it is safe, instead of in the queue; the
// stages keep working on what they have, and the orders intake hands
// them are still in memory when they get to them (orderHandoff).
const intakeBacklogMax = 256

// backlogPoll is how often a paused intake looks at the backlog again.
const backlogPoll = 10 * time.Millisecond

// waitForBacklog waits while the parse and normalize stages have the
// allowed backlog or more waiting, until ctx ends. It does not wait when
// the queue cannot say (the error is logged).
func (p *Pipeline) waitForBacklog(ctx context.Context, log *slog.Logger) {
	limit := p.d.IntakeBacklog
	if limit == 0 {
		limit = intakeBacklogMax
	}
	if limit < 0 {
		return
	}
	for {
		var waiting int64
		for _, t := range []string{TopicDocReceived, TopicOrderParsed} {
			n, err := p.d.Queue.Depth(ctx, t, stageOf[t])
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("reading the stages' backlog; taking documents in regardless", "err", err)
				}
				return
			}
			waiting += n
		}
		if waiting < int64(limit) {
			return
		}
		if !sleepCtx(ctx, backlogPoll) {
			return
		}
	}
}
