package edifact

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ordergate/ordergate/edi"
)

// WithReadAhead makes a Decoder read segments on a goroutine of its own,
// a batch ahead of the checks and of the caller, so that reading (about
// half of decoding) and the rest run on two cores. The messages, errors
// and report are the same as without it. A Decoder reading ahead must be
// closed (Decoder.Close) unless Next has returned io.EOF or a final
// error; the goroutine also ends when the context of WithContext ends.
// It has no effect on a Reader used alone.
func WithReadAhead() Option { return func(c *config) { c.readAhead = true } }

// withReadAheadBatch sets the segments per read-ahead batch (tests).
func withReadAheadBatch(n int) Option { return func(c *config) { c.aheadBatch = n } }

// readAheadBatch is how many segments travel together from the reading
// goroutine to the decoder, and readAheadBatches how many batches exist:
// the reader is at most readAheadBatches-1 batches ahead.
const (
	readAheadBatch   = 256
	readAheadBatches = 4
)

// segBatch is a run of what ReadSegment returned, in order.
type segBatch struct {
	ents []segEntry
	segs []edi.Segment // the segments of the entries with seg >= 0
}

// segEntry is one ReadSegment result: the segment (an index into
// segs, -1 for none), the error and the separators in effect after it
// (the Decoder reads them after a UNA, UNB or UNH).
type segEntry struct {
	seg    int32
	err    error
	seps   Separators
	blocks arenaBlocks // the arena's groups closed while reading it
}

// readAhead runs a Reader on its own goroutine. The reader's segments
// take their slices from an arena of the reading goroutine that groups its
// blocks by message (arena.grouped): a message's blocks come back to the
// reader (shared) once the decoder's caller released it (Release, or the
// next Next under WithMessageReuse).
type readAhead struct {
	full chan *segBatch
	free chan *segBatch
	quit chan struct{}
	done chan struct{}
	once sync.Once

	shared *blockPool // arena blocks released by the decoder's side

	cur *segBatch // the batch being consumed
	i   int       // next entry of cur
	n   int       // entries consumed, for the context checks
}

func (d *Decoder) startReadAhead() {
	ra := &readAhead{
		full: make(chan *segBatch, readAheadBatches),
		free: make(chan *segBatch, readAheadBatches),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	size := d.cfg.aheadBatch
	if size <= 0 {
		size = readAheadBatch
	}
	for range readAheadBatches {
		ra.free <- &segBatch{ents: make([]segEntry, 0, size), segs: make([]edi.Segment, 0, size)}
	}
	ra.shared = &blockPool{}
	d.rd.arena = &arena{own: true, grouped: true, shared: ra.shared, size: groupedBlock}
	d.ra = ra
	go ra.run(d.rd, d.cfg.ctx.Done())
}

// run reads segments into free batches until the input ends, the reader
// fails, the context ends or the decoder is closed. The last batch sent
// ends with io.EOF or the final error.
func (ra *readAhead) run(rd *Reader, ctxDone <-chan struct{}) {
	defer close(ra.done)
	for {
		var b *segBatch
		select {
		case b = <-ra.free:
		case <-ra.quit:
			return
		case <-ctxDone:
			return
		}
		clear(b.segs) // drop the old values for the GC
		clear(b.ents)
		b.ents, b.segs = b.ents[:0], b.segs[:0]
		last := false
		for len(b.ents) < cap(b.ents) {
			seg, err := rd.ReadSegment()
			e := segEntry{seg: -1, err: err}
			if seg != nil {
				e.seg = int32(len(b.segs))
				b.segs = append(b.segs, *seg)
			} else if _, syntax := err.(*SyntaxError); !syntax {
				last = true // io.EOF or the underlying reader's error
			}
			e.seps = rd.seps
			if last {
				rd.arena.boundary() // the rest belongs to what the end closes
			}
			if a := rd.arena; len(a.closed.strs) > 0 || len(a.closed.ints) > 0 {
				e.blocks = a.takeClosed()
			}
			b.ents = append(b.ents, e)
			if last {
				break
			}
		}
		select {
		case ra.full <- b:
		case <-ra.quit:
			return
		case <-ctxDone:
			return
		}
		if last {
			return
		}
	}
}

// next returns the next ReadSegment result and the separators in effect
// after it, or the context's error when it ended before one arrived.
func (ra *readAhead) next(ctx context.Context) (*edi.Segment, Separators, arenaBlocks, error) {
	if ra.cur == nil || ra.i == len(ra.cur.ents) {
		if ra.cur != nil {
			ra.free <- ra.cur
			ra.cur = nil
		}
		select {
		case b := <-ra.full:
			ra.cur, ra.i = b, 0
		case <-ctx.Done():
			return nil, Separators{}, arenaBlocks{}, fmt.Errorf("decoding EDIFACT: %w", ctx.Err())
		}
	}
	e := &ra.cur.ents[ra.i]
	ra.i++
	ra.n++
	var seg *edi.Segment
	if e.seg >= 0 {
		seg = &ra.cur.segs[e.seg]
	}
	return seg, e.seps, e.blocks, e.err
}

// stop ends the reading goroutine and waits for it.
func (ra *readAhead) stop() {
	ra.once.Do(func() { close(ra.quit) })
	<-ra.done
}

// errClosed is what Next returns after Close.
var errClosed = errors.New("edifact: the decoder is closed")

// Close ends the reading goroutine of a Decoder made WithReadAhead and
// waits for it (for a Read of the underlying reader in progress, too).
// Next must not be called afterwards (it returns an error). Close may be
// called more than once, and on any Decoder.
func (d *Decoder) Close() error {
	if d.ra != nil {
		d.ra.stop()
	}
	d.queue, d.fatal = nil, errClosed
	return nil
}
