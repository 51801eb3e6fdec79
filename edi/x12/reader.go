package x12

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/ordergate/ordergate/edi"
)

// Default limits of a Reader and Decoder.
const (
	DefaultMaxSegment = 1 << 20  // bytes in one segment
	DefaultMaxElement = 64 << 10 // bytes in one data element
	DefaultMaxSet     = 64 << 20 // bytes in one transaction set
	DefaultMaxErrors  = 100      // segment errors kept per transaction set
)

const (
	chunkSize = 64 << 10
	// isaWindow is how far the reader looks for the 16 ISA elements: a
	// fixed-length ISA is 106 bytes; wrapped, padded with multi-byte
	// characters or indented ones are longer.
	isaWindow = 512
)

type config struct {
	maxSegment int
	maxElement int
	maxSet     int
	maxErrors  int
	ctx        context.Context
	log        *slog.Logger
	sizeHint   int64
	supported  map[string]bool
	rejectDup  bool
	compact    bool
	reuse      bool
}

func newConfig(opts []Option) config {
	c := config{
		maxSegment: DefaultMaxSegment,
		maxElement: DefaultMaxElement,
		maxSet:     DefaultMaxSet,
		maxErrors:  DefaultMaxErrors,
		ctx:        context.Background(),
		log:        slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Option configures a Reader or a Decoder.
type Option func(*config)

// MaxSegmentSize limits the bytes of one segment (default 1 MiB). A longer
// segment stops reading with an ErrLimit error: memory stays bounded
// whatever the input.
func MaxSegmentSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxSegment = max(n, isaWindow)
		}
	}
}

// MaxElementSize limits the bytes of one data element (default 64 KiB).
func MaxElementSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxElement = n
		}
	}
}

// MaxSetSize limits the bytes of one transaction set the Decoder holds in
// memory (default 64 MiB). A larger set is still read and its envelope
// checked, but its segments are dropped and it is rejected.
func MaxSetSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxSet = n
		}
	}
}

// MaxErrorsPerSet limits how many segment errors (AK3 with their AK4) the
// Decoder keeps per transaction set (default 100); the set is rejected
// all the same.
func MaxErrorsPerSet(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxErrors = n
		}
	}
}

// SizeHint tells the Reader (or Decoder) that its input is about n
// bytes: the read buffer starts at that size (at least 512 bytes, at most
// the default 64 KiB) instead of 64 KiB, which spares a gateway that
// reads many small documents most of that allocation. The buffer grows
// as a long segment needs, whatever the hint.
func SizeHint(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.sizeHint = n
		}
	}
}

// WithContext makes reading stop with ctx.Err() once ctx is done; the
// context is checked each time the reader needs more input.
func WithContext(ctx context.Context) Option {
	return func(c *config) {
		if ctx != nil {
			c.ctx = ctx
		}
	}
}

// WithLogger sets the logger for what the decoder tolerates (wrapped
// ISA segments, missing final terminators) at debug level.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// SupportedSets restricts the transaction sets the Decoder accepts: any
// other ST01 is rejected with AK5 code 1. Without it every set with a
// sound envelope is accepted (sets outside the dictionary are checked for
// their envelope only).
func SupportedSets(ids ...string) Option {
	return func(c *config) {
		c.supported = make(map[string]bool, len(ids))
		for _, id := range ids {
			c.supported[id] = true
		}
	}
}

// RejectDuplicates turns repeated control numbers into errors: an ISA13
// seen before in the file (TA1 025), a GS06 repeated in its interchange
// (AK9 19) and an ST02 repeated in its group (AK5 23). By default they
// are only flagged in the Report (Duplicate), as the business-level
// duplicate policy belongs to the partner configuration.
func RejectDuplicates() Option { return func(c *config) { c.rejectDup = true } }

// ReuseSegments lets the Decoder reuse the memory of a transaction set's
// segments for the next set: the Segments of a Transaction, with their
// element slices, are then valid only until the next call to Next.
// Everything else stays valid: the element values (strings), the
// envelope, the errors and the Report. Meant for callers that map or
// copy each set before asking for the next, it removes most of the
// decoder's allocation (about 64 bytes per data element). Clone the
// segments to keep them.
func ReuseSegments() Option { return func(c *config) { c.reuse = true } }

// CompactReport keeps only the transaction sets with errors in the
// Report; accepted sets are counted but not listed, and the acknowledgement
// then has no AK2 loop for them (allowed: AK9 still counts them).
func CompactReport() Option { return func(c *config) { c.compact = true } }

// Reader reads the segments of X12 interchanges from a stream. It takes
// the separators from each ISA, so a stream may hold several interchanges
// with different separators. Memory is bounded by the segment limit: the
// reader never holds more than one segment plus a read chunk.
//
// A Segment returned by Read, with its element slices, is valid until the
// next call to Read: the reader reuses its slices. Element values are
// substrings of one string allocated per segment and may be kept; Clone
// the segment to keep it whole.
type Reader struct {
	cfg   config
	src   io.Reader
	buf   []byte
	r, w  int
	base  int64 // file offset of buf[0]
	eof   bool
	rerr  error // read error other than io.EOF
	err   error // sticky error returned by every later Read
	delim Delimiters
	term  []byte
	strip bool // drop CR and LF inside segments
	have  bool // an ISA has been read
	// isaFixed is false when the last ISA was not the fixed 106 bytes
	// (wrapped, unpadded or padded with multi-byte characters).
	isaFixed bool
	index    int
	// keep makes every segment's slices fresh (carved from slabs that are
	// replaced, never reused), so segments stay valid after the next
	// Read; the Decoder reads this way to keep a set without copying.
	keep bool
	// slabs are the slabs of keep mode, kept for reuse when the Decoder
	// reuses segments (ReuseSegments): rewind starts over at the first.
	slabs []slab
	slab  int
	// Without ReuseSegments: taken are the slabs carved since the last
	// detach (the Decoder gives them to the set it returns), fresh makes
	// the next segment start a slab of its own, pool holds the slabs of
	// sets handed back (Decoder.Release).
	taken []slab
	fresh bool
	pool  []slab
	seg   edi.Segment
	// vals, elem and rep are the segment's flat form (edi.Segment.SetFlat):
	// the values, the element starts of a segment with composites or
	// repetitions, and the repetition starts.
	vals    []string
	elem    []int32
	rep     []int32
	scratch []byte
	// blk is a copy of the input from file offset blkOff: the strings
	// of the segments that lie in it are substrings of it.
	blk    string
	blkOff int64
	tags   edi.Tags
	// segSize is the last segment's size estimate: what its tag, values
	// and slice headers take in memory (the Decoder's MaxSetSize
	// accounting).
	segSize int
	// plain reports that the last segment's values are all printable
	// ASCII (0x20 to 0x7E), found while splitting it, so that the
	// dictionary checks need not test each value again; false when not
	// known.
	plain bool
}

// NewReader returns a Reader over r. Of the options, the size limits,
// WithContext and WithLogger apply.
func NewReader(r io.Reader, opts ...Option) *Reader {
	return newReader(r, newConfig(opts))
}

func newReader(r io.Reader, cfg config) *Reader {
	size := chunkSize
	if cfg.sizeHint > 0 {
		// One byte more than the input: reading it to its end does not
		// grow the buffer.
		size = int(min(max(cfg.sizeHint+1, isaWindow), chunkSize))
	}
	return &Reader{cfg: cfg, src: r, buf: make([]byte, size)}
}

// Delimiters returns the separators of the interchange being read.
func (r *Reader) Delimiters() Delimiters { return r.delim }

// Offset returns the number of bytes consumed so far.
func (r *Reader) Offset() int64 { return r.base + int64(r.r) }

// Read returns the next segment, io.EOF after the last one. Line breaks
// and other white space between segments are skipped, as are a UTF-8 byte
// order mark and empty segments. When the segment terminator is not a line
// break, CR and LF inside a segment are dropped too (they are not in the
// X12 character sets, and partners who wrap files at 80 columns put them
// anywhere, even inside the ISA). A last segment without terminator at the
// end of the input is accepted.
//
// Errors are *SyntaxError values and end reading: every later call
// returns the same error. When an ISA's separators are unusable (TA1 004,
// 026, 027) Read returns the ISA segment along with the error, so that the
// interchange can still be answered with a TA1.
func (r *Reader) Read() (*edi.Segment, error) {
	if r.err != nil {
		return nil, r.err
	}
	seg, err := r.read()
	if err != nil {
		r.err = err
	}
	return seg, err
}

func (r *Reader) read() (*edi.Segment, error) {
	// Skip white space, a byte order mark and empty segments.
	for {
		if r.r >= r.w {
			if !r.more() {
				if r.rerr != nil {
					return nil, r.rerr
				}
				return nil, io.EOF
			}
			continue
		}
		c := r.buf[r.r]
		if r.base+int64(r.r) == 0 && c == 0xEF {
			r.ensure(3)
			if bytes.HasPrefix(r.buf[r.r:r.w], []byte{0xEF, 0xBB, 0xBF}) {
				r.r += 3
				continue
			}
		}
		if r.have && c != r.delim.Element && (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' || c == 0) {
			r.r++
			continue
		}
		if !r.have && (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' || c == 0) {
			r.r++
			continue
		}
		if r.have && c == r.term[0] {
			r.ensure(len(r.term))
			if bytes.HasPrefix(r.buf[r.r:r.w], r.term) {
				r.r += len(r.term)
				continue
			}
		}
		break
	}
	r.ensure(4)
	p := r.buf[r.r:r.w]
	if len(p) >= 3 && p[0] == 'I' && p[1] == 'S' && p[2] == 'A' && (len(p) == 3 || !isAlnum(p[3])) {
		// "ISA" at the end of the input is a truncated ISA too, not an
		// ordinary segment: it cannot be written back as one.
		return r.readISA()
	}
	if !r.have {
		return nil, &SyntaxError{Offset: r.Offset(), Segment: r.index + 1, Tag: tagOf(p),
			Err: errorf(ErrNoInterchange, "the input does not start with an ISA segment")}
	}
	return r.readSegment()
}

// tagOf returns the leading letters and digits of p, for error messages.
func tagOf(p []byte) string {
	n := 0
	for n < len(p) && n < 3 && isAlnum(p[n]) {
		n++
	}
	return string(p[:n])
}

// more reads more input into the buffer, compacting and growing it as
// needed, and reports whether it got any.
func (r *Reader) more() bool {
	if r.eof || r.rerr != nil {
		return false
	}
	if err := r.cfg.ctx.Err(); err != nil {
		r.rerr = err
		return false
	}
	if r.r > 0 {
		n := copy(r.buf, r.buf[r.r:r.w])
		r.base += int64(r.r)
		r.w = n
		r.r = 0
	}
	if r.w == len(r.buf) {
		limit := r.cfg.maxSegment + 16
		if len(r.buf) >= limit {
			return false
		}
		nb := make([]byte, min(2*len(r.buf), limit))
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err == io.EOF {
			r.eof = true
			return n > 0
		}
		if err != nil {
			r.rerr = fmt.Errorf("reading X12 input: %w", err)
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	r.rerr = fmt.Errorf("reading X12 input: %w", io.ErrNoProgress)
	return false
}

// ensure tries to have n unread bytes buffered; fewer at the end of input.
func (r *Reader) ensure(n int) {
	for r.w-r.r < n && r.more() {
	}
}

func (r *Reader) tooLong(what string, limit int) error {
	r.index++
	return &SyntaxError{Offset: r.Offset(), Segment: r.index, Tag: tagOf(r.buf[r.r:r.w]),
		Err: errorf(ErrLimit, "%s is longer than the limit of %d bytes", what, limit)}
}

func (r *Reader) readSegment() (*edi.Segment, error) {
	term := r.term
	scanned := 0 // bytes after r.r already searched
	var end int
	noTerm := false
	for {
		var idx int
		if len(term) == 1 {
			idx = bytes.IndexByte(r.buf[r.r+scanned:r.w], term[0])
		} else {
			idx = bytes.Index(r.buf[r.r+scanned:r.w], term)
		}
		if idx >= 0 {
			end = r.r + scanned + idx
			break
		}
		scanned = max(0, r.w-r.r-(len(term)-1))
		if scanned > r.cfg.maxSegment {
			return nil, r.tooLong("segment", r.cfg.maxSegment)
		}
		if !r.more() {
			if r.rerr != nil {
				return nil, r.rerr
			}
			if r.eof {
				end = r.w
				noTerm = true
				break
			}
			return nil, r.tooLong("segment", r.cfg.maxSegment)
		}
	}
	if end-r.r > r.cfg.maxSegment {
		return nil, r.tooLong("segment", r.cfg.maxSegment)
	}
	start := r.r
	raw := r.buf[start:end]
	if noTerm {
		raw = bytes.TrimRight(raw, " \t\r\n\f\v\x00")
		r.r = r.w
		if len(raw) == 0 {
			return nil, io.EOF
		}
		r.cfg.log.Debug("x12: last segment has no terminator", "offset", r.base+int64(start))
	} else {
		r.r = end + len(term)
		if len(term) == 1 && term[0] == '\n' && len(raw) > 0 && raw[len(raw)-1] == '\r' {
			raw = raw[:len(raw)-1] // CR LF line ends with LF as terminator
		}
	}
	var text string
	if r.strip && (bytes.IndexByte(raw, '\n') >= 0 || bytes.IndexByte(raw, '\r') >= 0) {
		r.scratch = r.scratch[:0]
		for _, c := range raw {
			if !isLineBreak(c) {
				r.scratch = append(r.scratch, c)
			}
		}
		raw = r.scratch
		text = string(raw)
	} else {
		text = r.text(start, len(raw))
	}
	r.index++
	r.seg.Pos = edi.Position{Offset: r.base + int64(start), Index: r.index}
	if err := r.split(raw, text); err != nil {
		return nil, err
	}
	return &r.seg, nil
}

// textBlock is how many bytes of input the reader copies into a string at
// once (more for a longer segment): the values of the segments in the
// block are substrings of it, so a value kept keeps at most its block,
// not the whole input, alive.
const textBlock = 512

// text returns the n bytes at r.buf[p:] as a string: a substring of the
// current block when they lie in it, else of a new block copied from
// r.buf[p:].
func (r *Reader) text(p, n int) string {
	off := r.base + int64(p)
	if d := off - r.blkOff; d >= 0 && d+int64(n) <= int64(len(r.blk)) {
		return r.blk[d : d+int64(n)]
	}
	m := min(max(n, textBlock), r.w-p)
	r.blk, r.blkOff = string(r.buf[p:p+m]), off
	return r.blk[:n]
}

// split tokenizes one segment, raw and its string s, into the reader's
// slices: reused in streaming mode, carved from slabs in keep mode (a
// slab is never written again once a segment points into it; a new one
// replaces it when it runs short). It also computes the segment's size
// estimate (segSize) for the Decoder's set limit.
func (r *Reader) split(raw []byte, s string) error {
	d := &r.delim
	r.plain = false
	if !r.keep {
		r.vals, r.elem, r.rep = r.vals[:0], r.elem[:0], r.rep[:0]
	} else {
		// Continue after the previous segment's slices.
		r.vals, r.elem, r.rep = r.vals[len(r.vals):], r.elem[len(r.elem):], r.rep[len(r.rep):]
		if cap(r.vals) < slabLow || cap(r.elem) < slabLow || r.fresh {
			r.nextSlab()
		}
	}
	i := strings.IndexByte(s, d.Element)
	if i < 0 {
		r.seg.Tag = r.tags.Intern(raw)
		r.seg.SetFlat(r.vals, nil, nil)
		r.segSize = len(s) + 64
		return nil
	}
	r.seg.Tag = r.tags.Intern(raw[:i])
	rest := s[i+1:]
	// Simple elements only (a component or repetition separator sends
	// the segment to splitComplex). A segment of len(rest) bytes has at
	// most len(rest)+1 elements: with that room in the slice (the reused
	// one grows to it, up to maxInPlace), they are written in place.
	bound := len(rest) + 1
	if !r.keep && bound <= maxInPlace && cap(r.vals) < bound {
		r.vals = make([]string, 0, max(bound, 2*cap(r.vals), 64))
	}
	if bound > cap(r.vals) {
		if strings.IndexByte(rest, d.Component) >= 0 || d.Repetition != 0 && strings.IndexByte(rest, d.Repetition) >= 0 {
			return r.splitComplex(rest)
		}
		for {
			j := strings.IndexByte(rest, d.Element)
			v := rest
			if j >= 0 {
				v, rest = rest[:j], rest[j+1:]
			}
			if len(v) > r.cfg.maxElement {
				return r.elementTooLong(len(r.vals) + 1)
			}
			r.vals = append(r.vals, v)
			if j < 0 {
				break
			}
		}
		n := len(r.vals)
		r.seg.SetFlat(r.vals, nil, nil)
		r.segSize = len(s) + 64 + 63*n // tag, 64 per element (3 headers), values
		return nil
	}
	vals := r.vals[:bound]
	k, plain, ok := splitSimple(raw[i+1:], rest, d, vals)
	if !ok {
		return r.splitComplex(rest)
	}
	vals = vals[:k]
	if len(rest) > r.cfg.maxElement { // else no value can be longer
		for e, v := range vals {
			if len(v) > r.cfg.maxElement {
				return r.elementTooLong(e + 1)
			}
		}
	}
	r.vals = vals
	r.seg.SetFlat(vals, nil, nil)
	r.segSize = len(s) + 64 + 63*k // tag, 64 per element (3 headers), values
	r.plain = plain
	return nil
}

// splitSimple splits rest (whose bytes are b) at the element separator
// into comps, which has room for len(rest)+1 values, and returns how
// many it wrote; ok is false when rest holds a component or repetition
// separator. It reads eight bytes at a time: zeros marks the bytes equal
// to a separator. plain reports that every byte of b is printable ASCII
// (0x20 to 0x7E, as plainASCII tests), and so every value.
func splitSimple(b []byte, rest string, d *Delimiters, comps []string) (k int, plain, ok bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	sep, comp, rep := ones*uint64(d.Element), ones*uint64(d.Component), ones*uint64(d.Repetition)
	hasRep := d.Repetition != 0
	start, j := 0, 0
	var outside uint64 // a high bit set when a byte outside 0x20..0x7E was read (see plainASCII)
	for ; j+8 <= len(b); j += 8 {
		x := binary.LittleEndian.Uint64(b[j:])
		if zeros(x^comp) != 0 || hasRep && zeros(x^rep) != 0 {
			return 0, false, false
		}
		outside |= (x - 0x20*ones) | (x + ones) | x
		for m := zeros(x ^ sep); m != 0; m &= m - 1 {
			p := j + bits.TrailingZeros64(m)>>3
			comps[k] = rest[start:p]
			k++
			start = p + 1
		}
	}
	plain = outside&highs == 0
	for ; j < len(b); j++ {
		switch c := b[j]; {
		case c == d.Element:
			comps[k] = rest[start:j]
			k++
			start = j + 1
		case c == d.Component || hasRep && c == d.Repetition:
			return 0, false, false
		}
		if c := b[j]; c < 0x20 || c >= 0x7F {
			plain = false
		}
	}
	comps[k] = rest[start:]
	return k + 1, plain, true
}

// zeros returns x with the high bit of each zero byte set, and no other.
func zeros(x uint64) uint64 {
	const low7 = 0x7F7F7F7F7F7F7F7F
	return ^((x&low7 + low7) | x | low7)
}

// maxInPlace is the most elements a Reader's reused slices grow to for
// the in-place split.
const maxInPlace = 4096

type slab struct {
	vals []string
	elem []int32
}

// nextSlab continues keep mode in a new slab, or in the next one kept
// for reuse.
func (r *Reader) nextSlab() {
	if !r.cfg.reuse {
		var sl slab
		if n := len(r.pool); n > 0 {
			sl = r.pool[n-1]
			r.pool[n-1] = slab{}
			r.pool = r.pool[:n-1]
		} else {
			n := r.slabCap()
			sl = slab{make([]string, 0, n), make([]int32, 0, n)}
		}
		r.vals, r.elem, r.fresh = sl.vals[:0], sl.elem[:0], false
		r.taken = append(r.taken, sl)
		return
	}
	r.slab++
	if r.slab >= len(r.slabs) {
		n := r.slabCap()
		r.slabs = append(r.slabs, slab{make([]string, n), make([]int32, n)})
		r.slab = len(r.slabs) - 1
	}
	sl := &r.slabs[r.slab]
	r.vals, r.elem = sl.vals[:0], sl.elem[:0]
}

// detach returns the slabs carved since the last detach, for the set the
// Decoder returns, and makes the next segment start a slab of its own:
// the returned slabs are not written again unless given back (recycle).
func (r *Reader) detach() []slab {
	t := r.taken
	r.taken, r.fresh = nil, true
	return t
}

// forget drops the slabs carved since the last detach from what the next
// detach returns (a set too large to keep: its segments are not kept).
func (r *Reader) forget() {
	clear(r.taken)
	r.taken = r.taken[:0]
}

// recycle gives back slabs returned by detach whose segments are no
// longer used; at most maxPooled are kept.
func (r *Reader) recycle(slabs []slab) {
	for _, sl := range slabs {
		if len(r.pool) >= maxPooled {
			return
		}
		r.pool = append(r.pool, sl)
	}
}

// maxPooled is how many slabs a Reader keeps for recycle (2.5 MiB).
const maxPooled = 32

// rewind lets keep mode overwrite the segments read so far (ReuseSegments).
func (r *Reader) rewind() {
	r.slab = -1
	r.nextSlab()
	r.rep = nil
}

// Slab sizes of a Reader in keep mode: slabSize entries per slab; a slab
// with fewer than slabLow free entries is replaced before a segment.
const (
	slabSize = 4096
	slabLow  = 256
)

// slabCap is the number of entries of a new slab: slabSize, or with a
// SizeHint what the rest of the input is likely to need (an element
// takes 4 bytes or more in most documents) plus slabLow, at least twice
// slabLow. A slab that runs short is followed by another, so a wrong
// hint costs allocations, never correctness. A gateway decoding a
// 2.5 KB order takes 23 KB of slabs instead of two of 80 KB (the
// second for the envelope's trailer alone).
func (r *Reader) slabCap() int {
	if r.cfg.sizeHint <= 0 {
		return slabSize
	}
	left := max(r.cfg.sizeHint-r.Offset(), 0)
	return int(min(max(left/4+slabLow, 2*slabLow), slabSize))
}

// splitComplex tokenizes elements with components or repetitions into
// the flat form: r.vals continues with the segment's values, r.elem and
// r.rep receive its element and repetition starts.
func (r *Reader) splitComplex(rest string) error {
	d := &r.delim
	size := len(r.seg.Tag) + 64
	vals := r.vals[:0]
	elem := r.elem[:0]
	rep := r.rep[:0]
	for k := 0; ; k++ {
		j := strings.IndexByte(rest, d.Element)
		var v string
		if j < 0 {
			v = rest
		} else {
			v, rest = rest[:j], rest[j+1:]
		}
		if len(v) > r.cfg.maxElement {
			r.vals, r.elem, r.rep = vals, elem, rep
			return r.elementTooLong(k + 1)
		}
		size += 24
		elem = append(elem, int32(len(vals)))
		for first := true; ; first = false {
			rv := v
			more := false
			if d.Repetition != 0 {
				if q := strings.IndexByte(v, d.Repetition); q >= 0 {
					rv, v, more = v[:q], v[q+1:], true
				}
			}
			if !first {
				rep = append(rep, int32(len(vals)))
			}
			for {
				q := strings.IndexByte(rv, d.Component)
				if q < 0 {
					vals = append(vals, rv)
					size += len(rv) + 16
					break
				}
				vals = append(vals, rv[:q])
				size += q + 16
				rv = rv[q+1:]
			}
			size += 24
			if !more {
				break
			}
		}
		if j < 0 {
			break
		}
	}
	elem = append(elem, int32(len(vals)))
	r.vals, r.elem = vals, elem
	if len(rep) == 0 {
		rep = nil
	} else {
		r.rep = rep
	}
	r.seg.SetFlat(vals, elem, rep)
	r.segSize = size
	return nil
}

func (r *Reader) elementTooLong(n int) error {
	return &SyntaxError{Offset: r.seg.Pos.Offset, Segment: r.seg.Pos.Index, Tag: r.seg.Tag, Element: n,
		Err: errorf(ErrLimit, "data element is longer than the limit of %d bytes", r.cfg.maxElement)}
}

// readISA reads an ISA segment and takes the interchange's separators
// from it. A fixed-length ISA gives them by position (byte 3, 104, 105);
// otherwise the reader counts 16 element separators, ignoring line
// breaks, takes the next byte as ISA16 and the next character as the
// terminator.
func (r *Reader) readISA() (*edi.Segment, error) {
	r.ensure(isaWindow)
	p := r.buf[r.r:min(r.w, r.r+isaWindow)]
	start := r.r
	offset := r.base + int64(start)
	r.index++
	pos := edi.Position{Offset: offset, Index: r.index}
	fail := func(code Code, format string, args ...any) error {
		return &SyntaxError{Offset: offset, Segment: pos.Index, Tag: "ISA", Code: code, Err: errorf(ErrSeparators, format, args...)}
	}
	if len(p) < 4 {
		r.r = r.w
		return nil, fail(Code{}, "the input ends after the ISA tag, where 16 elements are needed to find the separators")
	}
	sep := p[3]
	var clean []byte
	var comp byte
	termAt := 0
	fixed := len(p) >= 106 && p[103] == sep && bytes.Count(p[:104], []byte{sep}) == 16 &&
		bytes.IndexByte(p[:105], '\n') < 0 && bytes.IndexByte(p[:105], '\r') < 0
	if fixed {
		clean = p[:104]
		comp = p[104]
		termAt = 105
	} else {
		r.scratch = r.scratch[:0]
		n, i := 0, 0
		for ; i < len(p) && n < 16; i++ {
			c := p[i]
			if isLineBreak(c) && c != sep {
				continue
			}
			if c == sep {
				n++
			}
			r.scratch = append(r.scratch, c)
		}
		if n < 16 {
			r.r = r.w
			return nil, fail(Code{}, "the ISA segment has %d elements where 16 are needed to find the separators", n)
		}
		for i < len(p) && isLineBreak(p[i]) && p[i] != sep {
			i++
		}
		if i >= len(p) {
			r.r = r.w
			return nil, fail(Code{}, "the ISA segment ends before its component separator (ISA16)")
		}
		clean = r.scratch
		comp = p[i]
		termAt = i + 1
		r.cfg.log.Debug("x12: ISA segment is not 106 bytes; separators found by counting", "offset", offset)
	}
	if termAt >= len(p) {
		r.r = r.w
		return nil, fail(TA1InvalidSegmentTerminator, "the ISA segment has no segment terminator")
	}
	t := termAt
	if !fixed && isLineBreak(p[t]) {
		// A wrapped file may break the line between ISA16 and a "~"
		// terminator; a line break followed by a segment tag is itself the
		// terminator.
		j := t
		for j < len(p) && isLineBreak(p[j]) {
			j++
		}
		if j < len(p) && !isAlnum(p[j]) && p[j] != sep && p[j] != comp && p[j] != ' ' && p[j] != '\t' {
			t = j
		}
	}
	tl := 1
	if p[t] >= utf8.RuneSelf {
		if ru, size := utf8.DecodeRune(p[t:]); ru != utf8.RuneError && size > 1 {
			tl = size
		}
	}
	term := p[t : t+tl]
	// Build the ISA segment: 16 simple elements.
	s := string(append(clean[4:len(clean):len(clean)], comp))
	r.seg.Tag = "ISA"
	r.seg.Pos = pos
	if r.keep {
		r.vals = make([]string, 0, 16)
	} else {
		r.vals = r.vals[:0]
	}
	r.segSize = len("ISA") + 64
	for k := range 16 {
		var v string
		if k < 15 {
			j := strings.IndexByte(s, sep)
			v, s = s[:j], s[j+1:]
		} else {
			v = s
		}
		r.vals = append(r.vals, v)
		r.segSize += 64 + len(v)
	}
	r.seg.SetFlat(r.vals, nil, nil)
	r.r = start + t + tl
	r.isaFixed = fixed

	// Check the separators.
	switch {
	case sep == ' ' || isLineBreak(sep):
		return &r.seg, fail(TA1InvalidElementSeparator, "element separator %q cannot delimit", sep)
	case isAlnum(comp) || comp == ' ' || comp == sep || isLineBreak(comp):
		return &r.seg, fail(TA1InvalidComponentSep, "component separator (ISA16) %q cannot delimit", comp)
	case tl == 1 && (isAlnum(term[0]) || term[0] == ' ' || term[0] == sep || term[0] == comp):
		return &r.seg, fail(TA1InvalidSegmentTerminator, "segment terminator %q cannot delimit", term[0])
	}
	d := Delimiters{Element: sep, Component: comp, Segment: string(term)}
	if rep := r.seg.Value(11); len(rep) == 1 && r.seg.Value(12) >= "00402" {
		c := rep[0]
		if !isAlnum(c) && c != ' ' && c != sep && c != comp && !(tl == 1 && c == term[0]) && !isLineBreak(c) {
			d.Repetition = c
		}
	}
	r.delim = d
	r.term = append(r.term[:0], term...)
	r.strip = !(tl == 1 && isLineBreak(term[0])) && !isLineBreak(d.Repetition)
	r.have = true
	return &r.seg, nil
}
