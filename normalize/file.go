package normalize

import (
	"context"
	"errors"
	"io"
	"iter"
	"sync"

	"github.com/ordergate/ordergate/edi/edifact"
	"github.com/ordergate/ordergate/edi/x12"
	"github.com/ordergate/ordergate/normalize/order"
)

// FileOptions steer X12File and EDIFACTFile: the whole file to canonical
// orders.
type FileOptions struct {
	// File is recorded as source.file of every order.
	File string
	// Workers is how many goroutines map sets to orders while a goroutine
	// of its own decodes the next sets. 0 decodes and maps on the
	// caller's goroutine, one set at a time, with the decoder reusing a
	// set's memory for the next (x12.ReuseSegments,
	// edifact.WithMessageReuse). With 1 or more, the purchase orders
	// among the accepted sets are mapped ahead, in parallel with
	// decoding and with the caller's work on earlier sets; the sets still
	// reach the caller in file order. An EDIFACT file is then also read
	// a batch of segments ahead on one more goroutine
	// (edifact.WithReadAhead).
	Workers int
	// InFlight bounds the sets decoded and not yet done with by the
	// caller when Workers > 0 (their memory is then handed back to the
	// decoder), besides the one being decoded: 0 is DefaultInFlight. They
	// travel in max(4, Workers+1) batches of InFlight/batches sets (at
	// least one), so that the goroutines wake each other once per batch.
	InFlight int
}

// DefaultInFlight is FileOptions.InFlight when it is 0.
const DefaultInFlight = 32

// X12File decodes an X12 file and maps its 850 transaction sets to
// canonical orders: NewX12File, then range over Sets once, then read
// Report.
type X12File struct {
	r       io.Reader
	opts    FileOptions
	observe func(*x12.Transaction) any
	decOpts []x12.Option
	dec     *x12.Decoder
}

// X12Set is one transaction set of an X12File. Its Segments are valid
// until the loop over Sets goes on to the next set; the rest (values,
// envelope, errors, the order) stays valid.
type X12Set struct {
	*x12.Transaction
	// Note is what the observe function of NewX12File returned for the
	// set.
	Note any

	file   string
	mapped bool
	order  *order.Order
	err    error
}

// Order returns the set mapped to the canonical order, as FromX12850
// returns it. With FileOptions.Workers > 0 an accepted 850 was mapped
// ahead on a mapping goroutine; any other set is mapped at the call.
func (s *X12Set) Order() (*order.Order, error) {
	if !s.mapped {
		s.order, s.err = FromX12850(&s.Message, s.file)
		s.mapped = true
	}
	return s.order, s.err
}

// NewX12File returns an X12File reading r with the decoder options
// decOpts; it sets x12.WithContext (the context of Sets) and, for
// Workers 0, x12.ReuseSegments itself. observe, when not nil, is called
// with each transaction set on the decoding goroutine as soon as the
// decoder has returned it; it may read Report there (the Report then is
// as the set left it), and what it returns is the set's Note. Report may
// be read there and once Sets has ended, nowhere else.
func NewX12File(r io.Reader, opts FileOptions, observe func(tx *x12.Transaction) any, decOpts ...x12.Option) *X12File {
	return &X12File{r: r, opts: opts, observe: observe, decOpts: decOpts}
}

// Report returns the decoder's report: complete once Sets has ended, and
// as far as decoding has come when read in the observe function.
func (f *X12File) Report() *x12.Report {
	if f.dec == nil {
		return &x12.Report{}
	}
	return f.dec.Report()
}

// Sets returns the file's transaction sets in file order. An error ends
// the sequence: the decoder's (as x12.Decoder.Next returns it: the
// report still holds what was read) or ctx's. Stopping the loop early, or
// ctx being done, stops decoding and mapping; Sets returns only once its
// goroutines have ended (a Read of the underlying reader in progress is
// waited for). Sets may be ranged over once.
func (f *X12File) Sets(ctx context.Context) iter.Seq2[*X12Set, error] {
	return func(yield func(*X12Set, error) bool) {
		if f.dec != nil {
			yield(nil, errors.New("normalize: X12File.Sets ranged over twice"))
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		opts := append([]x12.Option{}, f.decOpts...)
		opts = append(opts, x12.WithContext(ctx))
		if f.opts.Workers <= 0 {
			opts = append(opts, x12.ReuseSegments())
		}
		d := x12.NewDecoder(f.r, opts...)
		f.dec = d
		next := func() (*X12Set, error) {
			tx, err := d.Next()
			if err != nil {
				return nil, err
			}
			s := &X12Set{Transaction: tx, file: f.opts.File}
			if f.observe != nil {
				s.Note = f.observe(tx)
			}
			return s, nil
		}
		work := func(s *X12Set) {
			if s.Accepted && s.Type == "850" {
				s.Order()
			}
		}
		release := func(s *X12Set) { d.Release(s.Transaction) }
		pipeline(ctx, cancel, f.opts, next, func(error) bool { return true }, work, release, yield)
	}
}

// EDIFACTFile decodes an EDIFACT file and maps its ORDERS messages to
// canonical orders: NewEDIFACTFile, then range over Sets once, then read
// Report.
type EDIFACTFile struct {
	r       io.Reader
	opts    FileOptions
	observe func(*edifact.Message) any
	decOpts []edifact.Option
	dec     *edifact.Decoder
}

// EDIFACTSet is one message of an EDIFACTFile. Its Segments are valid
// until the loop over Sets goes on; the rest (values, envelope, errors,
// the order) stays valid.
type EDIFACTSet struct {
	*edifact.Message
	// Note is what the observe function of NewEDIFACTFile returned for
	// the message.
	Note any

	file   string
	mapped bool
	order  *order.Order
	err    error
}

// Order returns the message mapped to the canonical order, as
// FromEDIFACTOrders returns it. With FileOptions.Workers > 0 an accepted
// ORDERS was mapped ahead on a mapping goroutine; any other message is
// mapped at the call.
func (s *EDIFACTSet) Order() (*order.Order, error) {
	if !s.mapped {
		s.order, s.err = FromEDIFACTOrders(&s.Message.Message, s.file)
		s.mapped = true
	}
	return s.order, s.err
}

// NewEDIFACTFile returns an EDIFACTFile reading r with the decoder
// options decOpts; it sets edifact.WithContext (the context of Sets) and,
// for Workers 0, edifact.WithMessageReuse itself. observe is as for
// NewX12File, called for each message (not for the syntax errors Sets
// yields).
func NewEDIFACTFile(r io.Reader, opts FileOptions, observe func(m *edifact.Message) any, decOpts ...edifact.Option) *EDIFACTFile {
	return &EDIFACTFile{r: r, opts: opts, observe: observe, decOpts: decOpts}
}

// Report returns the decoder's report: complete once Sets has ended, and
// as far as decoding has come when read in the observe function.
func (f *EDIFACTFile) Report() *edifact.Report {
	if f.dec == nil {
		return &edifact.Report{}
	}
	return f.dec.Report()
}

// Sets returns the file's messages in file order. An interchange-level
// problem (a *edifact.SyntaxError, as edifact.Decoder.Next returns it)
// is yielded with a nil message in its place in the file, and the
// sequence goes on; any other error (reading, ctx) ends it. Early stop
// and ctx are as for X12File.Sets.
func (f *EDIFACTFile) Sets(ctx context.Context) iter.Seq2[*EDIFACTSet, error] {
	return func(yield func(*EDIFACTSet, error) bool) {
		if f.dec != nil {
			yield(nil, errors.New("normalize: EDIFACTFile.Sets ranged over twice"))
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		opts := append([]edifact.Option{}, f.decOpts...)
		opts = append(opts, edifact.WithContext(ctx))
		if f.opts.Workers <= 0 {
			opts = append(opts, edifact.WithMessageReuse())
		} else {
			opts = append(opts, edifact.WithReadAhead())
		}
		d := edifact.NewDecoder(f.r, opts...)
		defer d.Close()
		f.dec = d
		next := func() (*EDIFACTSet, error) {
			m, err := d.Next()
			if err != nil {
				return nil, err
			}
			s := &EDIFACTSet{Message: m, file: f.opts.File}
			if f.observe != nil {
				s.Note = f.observe(m)
			}
			return s, nil
		}
		final := func(err error) bool {
			var se *edifact.SyntaxError
			return !errors.As(err, &se)
		}
		work := func(s *EDIFACTSet) {
			if s.Accepted && s.Type == "ORDERS" {
				s.Order()
			}
		}
		release := func(s *EDIFACTSet) { d.Release(s.Message) }
		pipeline(ctx, cancel, f.opts, next, final, work, release, yield)
	}
}

// batch carries items of the pipeline from the decoding goroutine
// through a mapping goroutine to the caller: a few sets at a time, so
// that the goroutines wake each other once per batch rather than once
// per set. The decoding goroutine takes a free batch for the next
// items, so no more than InFlight items are decoded and not yet done
// with.
type batch[S any] struct {
	items []item[S]
	ready chan struct{} // a mapping goroutine is done with items (capacity 1)
	panic any           // what work panicked with, re-raised on the caller's goroutine
}

type item[S any] struct {
	s   S
	err error
}

// pipeline yields what next returns, in order, until next returns io.EOF
// or an error that final says ends the sequence. With opts.Workers 0 it
// runs on the caller's goroutine; else next runs on a goroutine of its
// own and work (on items without error) on opts.Workers goroutines, and
// release hands an item back to next's side once the caller is done
// with it, on next's goroutine. cancel cancels the ctx that next (the
// decoder) watches; pipeline returns only when its goroutines have
// ended.
func pipeline[S any](ctx context.Context, cancel context.CancelFunc, opts FileOptions,
	next func() (S, error), final func(error) bool, work func(S), release func(S), yield func(S, error) bool) {
	var zero S
	if opts.Workers <= 0 {
		for {
			s, err := next()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(s, err) || err != nil && final(err) {
				return
			}
		}
	}
	inFlight := opts.InFlight
	if inFlight <= 0 {
		inFlight = DefaultInFlight
	}
	nb := max(4, opts.Workers+1) // batches
	size := max(1, inFlight/nb)  // items per batch
	free := make(chan *batch[S], nb)
	for range nb {
		free <- &batch[S]{items: make([]item[S], 0, size), ready: make(chan struct{}, 1)}
	}
	// Every channel has room for every batch: sends never block, and the
	// decoding goroutine waits only for a free batch (or inside next).
	jobs := make(chan *batch[S], nb)
	out := make(chan *batch[S], nb)
	var wg sync.WaitGroup
	ended := false // next returned io.EOF or a final error (read after out is closed)
	wg.Go(func() {
		defer close(out)
		defer close(jobs)
		for !ended {
			var b *batch[S]
			select {
			case b = <-free:
			case <-ctx.Done():
				return
			}
			for i := range b.items {
				if b.items[i].err == nil {
					release(b.items[i].s)
				}
				b.items[i] = item[S]{}
			}
			b.items = b.items[:0]
			for len(b.items) < cap(b.items) {
				s, err := next()
				if errors.Is(err, io.EOF) {
					ended = true
					break
				}
				b.items = append(b.items, item[S]{s, err})
				if err != nil && final(err) {
					ended = true
					break
				}
			}
			if len(b.items) == 0 {
				return
			}
			jobs <- b
			out <- b
		}
	})
	for range opts.Workers {
		wg.Go(func() {
			for b := range jobs {
				if ctx.Err() == nil {
					func() {
						defer func() { b.panic = recover() }()
						for _, it := range b.items {
							if it.err == nil {
								work(it.s)
							}
						}
					}()
				}
				b.ready <- struct{}{}
			}
		})
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	for b := range out {
		<-b.ready
		if b.panic != nil {
			panic(b.panic) // as it would have on the caller's goroutine
		}
		for _, it := range b.items {
			if !yield(it.s, it.err) {
				return
			}
		}
		free <- b
	}
	if !ended {
		// The decoding goroutine left because ctx is done, without
		// next having returned its error.
		yield(zero, ctx.Err())
	}
}
