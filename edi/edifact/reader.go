package edifact

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/ordergate/ordergate/edi"
)

// Limits bound what the reader and decoder hold in memory. A zero field
// takes its default.
type Limits struct {
	// MaxSegmentBytes bounds one segment (unescaped bytes plus
	// separators); a longer segment is skipped with a CodeUnspecified
	// error wrapping ErrLimit. Default 64 KiB.
	MaxSegmentBytes int
	// MaxElementBytes bounds one component value; a longer one is reported
	// as CodeTooLong. Default 4 KiB.
	MaxElementBytes int
	// MaxMessageSegments bounds the segments of one message the decoder
	// keeps; beyond it the message is rejected and its further segments
	// are only counted. Default 200,000.
	MaxMessageSegments int
	// MaxErrorsPerMessage bounds the errors kept per message and per
	// interchange. Default 100.
	MaxErrorsPerMessage int
	// MaxReportMessages bounds the messages the Report lists per file;
	// beyond it accepted messages are only counted. Default 1,000,000.
	MaxReportMessages int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxSegmentBytes, 64<<10)
	def(&l.MaxElementBytes, 4<<10)
	def(&l.MaxMessageSegments, 200_000)
	def(&l.MaxErrorsPerMessage, 100)
	def(&l.MaxReportMessages, 1_000_000)
	return l
}

type config struct {
	limits       Limits
	tolerateUTF8 bool
	dictionary   bool
	logger       *slog.Logger
	knownSender  func(id, qualifier string) bool
	ctx          context.Context
	reuse        bool
	readAhead    bool
	aheadBatch   int  // segments per read-ahead batch; 0 is readAheadBatch
	unfused      bool // decode ISO 8859 in decodeCharset only, not while copying (tests)
	sizeHint     int64
}

func newConfig(opts []Option) config {
	c := config{dictionary: true}
	for _, o := range opts {
		o(&c)
	}
	c.limits = c.limits.withDefaults()
	if c.ctx == nil {
		c.ctx = context.Background()
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Option configures a Reader or Decoder.
type Option func(*config)

// WithLimits sets the memory limits; zero fields keep their defaults.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// SizeHint tells the Reader (or Decoder) that its input is about n
// bytes: the read buffer is that size plus one byte (at least 512 bytes,
// at most the default 64 KiB) instead of 64 KiB, which spares a gateway
// that reads many small documents most of that allocation. A segment
// that does not lie whole in the buffer is read across refills, as
// always; a wrong hint costs speed, not correctness.
func SizeHint(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.sizeHint = n
		}
	}
}

// WithTolerantUTF8 makes the reader decode a segment of a UNOC..UNOK
// interchange as UTF-8 when its bytes are valid UTF-8 with at least one
// multi-byte character: partners often declare UNOC and send UTF-8.
// Without it, the declared ISO 8859 part is applied as the standard says.
func WithTolerantUTF8() Option { return func(c *config) { c.tolerateUTF8 = true } }

// WithoutDictionary turns off directory validation (segment structure,
// element types, lengths, code lists): messages are envelope-checked only.
func WithoutDictionary() Option { return func(c *config) { c.dictionary = false } }

// WithContext makes the decoder stop with ctx's error when ctx is done
// (checked every few thousand segments).
func WithContext(ctx context.Context) Option { return func(c *config) { c.ctx = ctx } }

// WithMessageReuse lets the Decoder recycle a message's memory for the
// next one: a Message returned by Next (its Segments, Errors and values'
// slices) is then valid only until the following call of Next. It saves
// most allocations when each message is mapped and dropped at once.
func WithMessageReuse() Option { return func(c *config) { c.reuse = true } }

// WithLogger sets the logger for debug events (interchange boundaries,
// rejections); the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// byte classes of the scanner
const (
	clsPlain uint8 = iota
	clsSpecial
	clsSkip
	clsRelease
	clsComponent
	clsElement
	clsRepetition
	clsTerminator
)

// bound ends one component in the unescaped segment bytes; kind is the
// class of the separator that ended it.
type bound struct {
	end  int32
	kind uint8
}

// endsRep and endsElem tell, by class, whether a separator ends a
// repetition and an element.
var (
	endsRep  = [8]uint8{clsElement: 1, clsRepetition: 1, clsTerminator: 1}
	endsElem = [8]uint8{clsElement: 1, clsTerminator: 1}
)

// bufSize is the read buffer's size; minHintedBuf the smallest one a
// SizeHint gives.
const (
	bufSize      = 64 << 10
	minHintedBuf = 512
)

// Reader reads the segments of EDIFACT interchanges from a stream with
// bounded memory. It applies each interchange's UNA and syntax
// identifier, removes release characters and returns values as UTF-8.
//
// The Segment returned by ReadSegment and its slices are reused by the
// next call; the strings themselves are not and may be kept.
// Use Segment.Clone to keep a whole segment.
type Reader struct {
	r   io.Reader
	cfg config

	buf      []byte
	pos, end int
	base     int64 // file offset of buf[0]
	rerr     error // error of the underlying reader, io.EOF at the end
	started  bool  // the byte order mark check is done

	seps   Separators
	class  [256]uint8
	cs     *charset
	sawUNA bool // the current interchange started with a UNA
	index  int  // segments read
	inMsg  int  // position of the last segment in its message

	raw           []byte // the segment's unescaped bytes: own, or a view of buf (fast path)
	own           []byte // the reader's copy buffer for segments off the fast path
	bounds        []bound
	gap           int32 // 1 when raw keeps the separators (fast path), else 0
	special       bool
	nReps, nElems int // repetitions and elements (tag included) of the segment
	conv          []byte
	badFor        *charset  // the charset bad was made for
	bad           [256]bool // bytes badFor's repertoire does not allow
	// fuse is the part of ISO 8859 that readCopy decodes while copying
	// the segment (nil when decodeCharset does it); extra is how many
	// bytes the decoding added to own, badAt the offset in own of the
	// first character fuse does not allow (-1 if none) and badByte that
	// character.
	fuse    *charset
	extra   int
	badAt   int
	badByte byte
	// kept holds the values of the segments readCopy copied: a block of
	// textBlock bytes or more, whose strings are never written again.
	kept strings.Builder

	seg edi.Segment
	// blk is a copy of the input from file offset blkOff: the strings of
	// the segments read where they lie (readPlain) within it are
	// substrings of it.
	blk    string
	blkOff int64
	tags   edi.Tags
	// strs and ints hold the segment's flat form (edi.Segment.SetFlat)
	// when the reader is used alone.
	strs []string
	ints []int32
	// arena, when set (by the Decoder), receives the segments' slices so
	// they stay valid without a copy.
	arena *arena
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader, opts ...Option) *Reader {
	cfg := newConfig(opts)
	size := bufSize
	if cfg.sizeHint > 0 {
		size = int(min(max(cfg.sizeHint+1, minHintedBuf), bufSize))
	}
	rd := &Reader{r: r, cfg: cfg, buf: make([]byte, size)}
	rd.setSeparators(DefaultSeparators)
	return rd
}

// Separators returns the service characters in effect.
func (r *Reader) Separators() Separators { return r.seps }

// SyntaxID returns the syntax identifier of the current interchange
// ("UNOC"), or "" before the first UNB.
func (r *Reader) SyntaxID() string {
	if r.cs == nil {
		return ""
	}
	return r.cs.id
}

func (r *Reader) setSeparators(s Separators) {
	r.seps = s
	for c := 0; c < 256; c++ {
		switch {
		case c == '\r' || c == '\n':
			r.class[c] = clsSkip
		case c < 0x20 || c >= 0x7F:
			r.class[c] = clsSpecial
		default:
			r.class[c] = clsPlain
		}
	}
	if s.Release != 0 {
		r.class[s.Release] = clsRelease
	}
	if s.Repetition != 0 {
		r.class[s.Repetition] = clsRepetition
	}
	r.class[s.Component] = clsComponent
	r.class[s.Element] = clsElement
	r.class[s.Terminator] = clsTerminator
}

// ensure tries to have n bytes buffered and returns how many are.
func (r *Reader) ensure(n int) int {
	for r.end-r.pos < n && r.rerr == nil {
		r.fill()
	}
	return r.end - r.pos
}

func (r *Reader) fill() {
	if r.pos > 0 {
		copy(r.buf, r.buf[r.pos:r.end])
		r.base += int64(r.pos)
		r.end -= r.pos
		r.pos = 0
	}
	n, err := r.r.Read(r.buf[r.end:])
	r.end += n
	if err != nil {
		r.rerr = err
	}
}

// more reads at least one more byte unless the input is exhausted.
func (r *Reader) more() bool {
	for r.pos == r.end {
		if r.rerr != nil {
			return false
		}
		r.fill()
	}
	return true
}

func (r *Reader) endErr() error {
	if r.rerr == io.EOF {
		return io.EOF
	}
	return fmt.Errorf("reading EDIFACT input: %w", r.rerr)
}

// ReadSegment returns the next segment. A non-nil error with a non-nil
// segment is a problem of that segment (a character the syntax level
// cannot carry, a value beyond MaxElementBytes): the segment is usable and
// reading goes on. A *SyntaxError with a nil segment means a segment was
// lost (too long, bad tag, unterminated); reading goes on as well. At the
// end of input the error is io.EOF; any other error is the underlying
// reader's, and final.
func (r *Reader) ReadSegment() (*edi.Segment, error) {
	// Skip line breaks (and a UTF-8 byte order mark at the start).
	if !r.started {
		r.started = true
		if r.ensure(3) >= 3 && bytes.HasPrefix(r.buf[r.pos:r.end], []byte{0xEF, 0xBB, 0xBF}) {
			r.pos += 3
		}
	}
	for {
		if r.pos == r.end && !r.more() {
			return nil, r.endErr()
		}
		if r.class[r.buf[r.pos]] != clsSkip {
			break
		}
		r.pos++
	}
	start := r.base + int64(r.pos)
	if r.buf[r.pos] == 'U' && r.ensure(3) >= 3 && string(r.buf[r.pos:r.pos+3]) == "UNA" {
		return r.readUNA(start)
	}
	return r.readBody(start)
}

func (r *Reader) readUNA(start int64) (*edi.Segment, error) {
	if r.arena != nil && r.arena.grouped {
		r.arena.boundary() // a UNA, valid or not, ends a message
	}
	n := r.ensure(9)
	r.index++
	r.inMsg = 0
	r.sawUNA = true
	if n < 9 {
		r.pos = r.end
		return nil, &SyntaxError{Offset: start, Segment: r.index, Tag: "UNA", Code: CodeMissing,
			Err: classErr(ErrEnvelope, "service string advice cut short by the end of input")}
	}
	una := r.buf[r.pos : r.pos+9]
	r.pos += 9
	s, err := ParseUNA(una)
	if err != nil {
		r.setSeparators(DefaultSeparators)
		return nil, &SyntaxError{Offset: start, Segment: r.index, Tag: "UNA", Code: CodeInvalidServiceCharacter,
			Err: classErr(ErrEnvelope, "invalid service string advice: %v", err)}
	}
	r.setSeparators(s)
	r.own = append(r.own[:0], una[3:]...)
	r.raw, r.gap = r.own, 0
	r.bounds = append(r.bounds[:0], bound{end: 0, kind: clsElement}, bound{end: 6, kind: clsTerminator})
	// The UNA's tag is not in raw: build it by hand.
	r.strs = append(r.strs[:0], string(r.raw))
	r.seg = edi.Segment{Tag: "UNA", Pos: edi.Position{Offset: start, Index: r.index}}
	r.seg.SetFlat(r.strs[:1:1], nil, nil)
	return &r.seg, nil
}

func (r *Reader) readBody(start int64) (*edi.Segment, error) {
	if r.readPlain() {
		return r.finish(start)
	}
	return r.readCopy(start)
}

// readPlain is the fast path of readBody: a segment that lies whole in
// the buffer with only printable ASCII bytes, no release character and no
// line break inside is used where it lies, without a copy, its separators
// left in place (r.gap 1). It records the bounds and reports true, or
// false (having consumed nothing) for readCopy to do the work. One pass
// finds the terminator and the separators: the terminator is a separator
// class of its own, so plain bytes cost one table lookup each.
func (r *Reader) readPlain() bool {
	b := r.buf[r.pos:r.end]
	if len(b) > r.cfg.limits.MaxSegmentBytes {
		// A longer segment goes to readCopy, which reports it.
		b = b[:r.cfg.limits.MaxSegmentBytes]
	}
	class := &r.class
	bounds := r.bounds[:0]
	nReps, nElems := 0, 0
	for i, c := range b {
		k := class[c]
		if k == clsPlain {
			continue
		}
		if k < clsComponent { // release character, line break, byte outside printable ASCII
			break
		}
		// A separator, counted without further branches.
		bounds = append(bounds, bound{end: int32(i), kind: k})
		if k == clsTerminator {
			if cap(bounds) == cap(r.bounds) {
				r.bounds = r.bounds[:len(bounds)] // no pointer write, no GC write barrier
			} else {
				r.bounds = bounds
			}
			r.pos += i + 1
			r.raw, r.gap, r.special = b[:i], 1, false
			r.nReps, r.nElems = nReps+1, nElems+1
			return true
		}
		nReps += int(endsRep[k&7])
		nElems += int(endsElem[k&7])
	}
	r.bounds = bounds
	return false
}

// readCopy reads a segment byte by byte into r.own, removing release
// characters, separators and line breaks and reading across buffer
// refills (r.gap 0).
func (r *Reader) readCopy(start int64) (*edi.Segment, error) {
	r.gap = 0
	raw, bounds := r.own[:0], r.bounds[:0]
	nReps, nElems := 0, 0
	class := &r.class
	special := false
	released := false
	overflow := false
	max := r.cfg.limits.MaxSegmentBytes
	r.startFuse()
	for {
		if r.pos == r.end && !r.more() {
			r.own, r.raw, r.bounds = raw, raw, bounds
			r.index++
			if r.rerr != io.EOF {
				return nil, r.endErr()
			}
			return nil, &SyntaxError{Offset: start, Segment: r.index, Tag: r.partialTag(), Code: CodeMissing,
				Err: classErr(ErrEnvelope, "segment not terminated before the end of input")}
		}
		b := r.buf[r.pos:r.end]
		i := 0
		if released {
			for i < len(b) && class[b[i]] == clsSkip {
				i++
			}
			if i < len(b) {
				if c := b[i]; c < 0x20 || c >= 0x7F {
					raw, special = r.copySpecial(raw, c, bounds, special)
				} else {
					raw = append(raw, c)
				}
				released = false
				i++
			}
		}
		for i < len(b) {
			c := b[i]
			switch class[c] {
			case clsPlain:
				j := i + 1
				for j < len(b) && class[b[j]] == clsPlain {
					j++
				}
				raw = append(raw, b[i:j]...)
				i = j
			case clsSpecial:
				raw, special = r.copySpecial(raw, c, bounds, special)
				i++
			case clsSkip:
				i++
			case clsRelease:
				i++
				for i < len(b) && class[b[i]] == clsSkip {
					i++
				}
				if i == len(b) {
					released = true
				} else {
					if c := b[i]; c < 0x20 || c >= 0x7F {
						raw, special = r.copySpecial(raw, c, bounds, special)
					} else {
						raw = append(raw, c)
					}
					i++
				}
			case clsTerminator:
				bounds = append(bounds, bound{end: int32(len(raw)), kind: clsTerminator})
				r.pos += i + 1
				r.own, r.raw, r.bounds, r.special = raw, raw, bounds, special
				r.nReps, r.nElems = nReps+1, nElems+1
				if overflow || len(raw)-r.extra+len(bounds) > max {
					r.index++
					if r.inMsg > 0 {
						r.inMsg++
					}
					return nil, &SyntaxError{Offset: start, Segment: r.index, InMessage: r.inMsg, Tag: r.partialTag(), Code: CodeUnspecified,
						Err: classErr(ErrLimit, "segment longer than %d bytes", max)}
				}
				return r.finish(start)
			case clsComponent:
				bounds = append(bounds, bound{end: int32(len(raw)), kind: clsComponent})
				i++
			case clsElement:
				bounds = append(bounds, bound{end: int32(len(raw)), kind: clsElement})
				nReps++
				nElems++
				i++
			default: // repetition separator
				bounds = append(bounds, bound{end: int32(len(raw)), kind: clsRepetition})
				nReps++
				i++
			}
		}
		r.pos = r.end
		if len(raw)-r.extra+len(bounds) > max {
			// Keep scanning to the terminator without holding the data
			// (the tag, kept, has no decoded bytes: see copySpecial).
			if !overflow && len(bounds) > 0 {
				raw = raw[:bounds[0].end]
				bounds = bounds[:1]
			}
			if len(raw)+len(bounds) > max {
				raw = raw[:0]
				bounds = bounds[:0]
			}
			r.extra = 0
			nReps, nElems = 0, 0
			overflow = true
		}
	}
}

// startFuse decides, at the start of readCopy, whether the segment's
// bytes above 0x7E are decoded as they are copied: for a part of ISO 8859
// (UNOC..UNOK, or no UNB yet), unless UTF-8 may be tolerated, which needs
// the bytes as sent. It spares decodeCharset's two passes over the segment.
func (r *Reader) startFuse() {
	cs := r.cs
	if cs == nil {
		cs = fallbackCharset
	}
	r.fuse, r.extra, r.badAt = nil, 0, -1
	if cs.kind == kindLatin && !r.cfg.tolerateUTF8 && !r.cfg.unfused {
		r.fuse = cs
	}
}

// copySpecial appends c, a control character or a byte above 0x7E, to
// the copy raw of the segment whose bounds so far are bounds. Decoding
// while copying (r.fuse), it appends c's UTF-8 and notes the first
// character the part of ISO 8859 does not allow, as decodeCharset would;
// it does so only past the tag, so that the tag keeps the bytes sent for
// errors about it, and not in a UNB, whose syntax identifier decides the
// charset only once it is read. Otherwise it appends c as it is and
// reports the segment special, for decodeCharset. special is what the
// segment was so far: once special, no byte is decoded here.
func (r *Reader) copySpecial(raw []byte, c byte, bounds []bound, special bool) ([]byte, bool) {
	cs := r.fuse
	if cs == nil || special || len(bounds) == 0 || bounds[0].end == 3 && string(raw[:3]) == "UNB" {
		return append(raw, c), true
	}
	if r.badAt < 0 && cs.badByte(c) {
		r.badAt, r.badByte = len(raw), c
	}
	if c < 0x80 {
		return append(raw, c), false
	}
	u := cs.decode[c-0x80]
	if u == nil {
		u = replacement
	}
	r.extra += len(u) - 1
	return append(raw, u...), false
}

// replacement is U+FFFD in UTF-8.
var replacement = []byte("\uFFFD")

// fusedProblem is the problem decodeCharset would report for the
// character that copySpecial noted, or nil.
func (r *Reader) fusedProblem(cs *charset) *SyntaxError {
	if r.badAt < 0 {
		return nil
	}
	e, c := r.locate(r.compAt(r.badAt))
	if e == 0 {
		e, c = 0, 0
	}
	return &SyntaxError{Element: e, Component: c, Code: CodeInvalidCharacter,
		Err: classErr(ErrCharset, "character %s is not allowed in %s", describeByte(r.badByte), levelName(cs))}
}

// keep returns data as a string in the block of copied values.
func (r *Reader) keep(data []byte) string {
	if r.kept.Cap()-r.kept.Len() < len(data) {
		r.kept = strings.Builder{}
		r.kept.Grow(max(len(data), textBlock))
	}
	n := r.kept.Len()
	r.kept.Write(data)
	return r.kept.String()[n:]
}

// partialTag returns the tag of a segment being read, for errors about it.
func (r *Reader) partialTag() string {
	n := len(r.raw)
	if len(r.bounds) > 0 {
		n = int(r.bounds[0].end)
	}
	if n > 3 {
		n = 3
	}
	return string(toValidUTF8(r.raw[:n]))
}

func toValidUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}

func validTag(t []byte) bool {
	_, ok := packTag(t)
	return ok
}

// tagByte marks the bytes of a segment tag: capital letters and digits.
var tagByte = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	return t
}()

// packTag returns a valid tag's three bytes as one number, t[0] highest
// (edi.Tags.Intern3 takes it), so that finish compares tags as numbers.
func packTag(t []byte) (uint32, bool) {
	if len(t) != 3 || !tagByte[t[0]] || !tagByte[t[1]] || !tagByte[t[2]] {
		return 0, false
	}
	return uint32(t[0])<<16 | uint32(t[1])<<8 | uint32(t[2]), true
}

// packed tags of the service segments finish tells apart
const (
	tagUN  = 'U'<<8 | 'N' // the first two bytes of every service segment
	tagUNB = tagUN<<8 | 'B'
	tagUNE = tagUN<<8 | 'E'
	tagUNG = tagUN<<8 | 'G'
	tagUNH = tagUN<<8 | 'H'
	tagUNT = tagUN<<8 | 'T'
	tagUNZ = tagUN<<8 | 'Z'
)

// component returns the raw bytes of component c (0-based, in bounds order).
func (r *Reader) component(k int) []byte {
	start := int32(0)
	if k > 0 {
		start = r.bounds[k-1].end + r.gap
	}
	return r.raw[start:r.bounds[k].end]
}

// locate turns a component index into its 1-based data element and
// component numbers (element 0 is the tag).
func (r *Reader) locate(k int) (elem, comp int) {
	comp = 1
	for i := 0; i < k; i++ {
		switch r.bounds[i].kind {
		case clsComponent:
			comp++
		case clsRepetition:
			comp = 1
		default:
			elem++
			comp = 1
		}
	}
	return elem, comp
}

// compAt returns the index of the component holding raw offset off.
func (r *Reader) compAt(off int) int {
	for k, b := range r.bounds {
		if int(b.end) > off {
			return k
		}
	}
	return len(r.bounds) - 1
}

func (r *Reader) finish(start int64) (*edi.Segment, error) {
	r.index++
	tag := r.raw[:r.bounds[0].end]
	key, ok := packTag(tag)
	if !ok {
		t := toValidUTF8(tag)
		if len(t) > 12 {
			t = append(t[:12:12], "..."...)
		}
		if r.inMsg > 0 {
			r.inMsg++
		}
		return nil, &SyntaxError{Offset: start, Segment: r.index, InMessage: r.inMsg, Tag: string(t), Code: CodeInvalidValue,
			Err: classErr(ErrEnvelope, "%q is not a segment tag", t)}
	}
	var problem *SyntaxError
	grouped := r.arena != nil && r.arena.grouped
	switch key {
	case tagUNB, tagUNH, tagUNZ, tagUNG, tagUNE:
		if grouped {
			r.arena.boundary() // the segment may end a message: its values are not the message's
		}
		switch key {
		case tagUNB:
			r.startInterchange()
		case tagUNH:
			r.inMsg = 1
		default:
			r.inMsg = 0
		}
	default:
		if r.inMsg > 0 {
			r.inMsg++
		}
	}
	pos := edi.Position{Offset: start, Index: r.index, InMessage: r.inMsg}
	isUNT := key == tagUNT
	if isUNT {
		r.inMsg = 0
	}

	cs := r.cs
	if cs == nil {
		cs = fallbackCharset
	}
	data := r.raw
	if cs.kind == kindASCII || r.special {
		var err error
		data, problem, err = r.decodeCharset(cs)
		if err != nil {
			return nil, err
		}
	} else if r.gap == 0 && r.fuse != nil {
		problem = r.fusedProblem(cs) // readCopy decoded the segment
	}
	if r.gap == 1 {
		// data is where it lies in the buffer (readPlain).
		r.build(r.text(int(start-r.base), len(data)), key)
	} else {
		r.build(r.keep(data), key)
	}
	r.seg.Pos = pos
	if isUNT && grouped {
		r.arena.boundary() // the UNT's values are its message's
	}
	if problem != nil {
		problem.Offset, problem.Segment, problem.InMessage, problem.Tag = start, r.index, pos.InMessage, r.seg.Tag
	} else if int(r.bounds[len(r.bounds)-1].end) > r.cfg.limits.MaxElementBytes {
		// Only a segment longer than the limit can hold a value longer.
		problem = r.checkLengths(pos, r.seg.Tag)
	}
	if key == tagUNZ {
		r.endInterchange()
	}
	if problem != nil {
		return &r.seg, problem
	}
	return &r.seg, nil
}

func (r *Reader) checkLengths(pos edi.Position, tag string) *SyntaxError {
	max := r.cfg.limits.MaxElementBytes
	start := int32(0)
	for k, b := range r.bounds {
		if int(b.end-start) > max {
			e, c := r.locate(k)
			return &SyntaxError{Offset: pos.Offset, Segment: pos.Index, InMessage: pos.InMessage, Tag: tag, Element: e, Component: c,
				Code: CodeTooLong, Err: classErr(ErrLimit, "value longer than %d bytes", max)}
		}
		start = b.end + r.gap
	}
	return nil
}

// decodeCharset checks the segment's bytes against the syntax level and
// converts them to UTF-8, remapping the bounds. It reports the first
// character the level does not allow.
func (r *Reader) decodeCharset(cs *charset) ([]byte, *SyntaxError, error) {
	raw := r.raw
	var problem *SyntaxError
	report := func(off int, msg string, args ...any) {
		if problem != nil {
			return
		}
		e, c := r.locate(r.compAt(off))
		if e == 0 {
			e, c = 0, 0
		}
		problem = &SyntaxError{Element: e, Component: c, Code: CodeInvalidCharacter, Err: classErr(ErrCharset, msg, args...)}
	}
	asUTF8 := cs.kind == kindUTF8
	if !asUTF8 && r.cfg.tolerateUTF8 && r.special && cs.kind == kindLatin && hasHigh(raw) && utf8.Valid(raw) {
		asUTF8 = true
	}
	if r.badFor != cs {
		for c := range r.bad {
			r.bad[c] = cs.badByte(byte(c))
		}
		r.badFor = cs
	}
	skipHigh := asUTF8 && cs.kind != kindASCII // UTF-8 sequences are checked below
	bad := &r.bad
	start := int32(0)
check:
	for _, b := range r.bounds {
		for i := start; i < b.end; i++ {
			if c := raw[i]; bad[c] && !(skipHigh && c >= 0x80) {
				report(int(i), "character %s is not allowed in %s", describeByte(c), levelName(cs))
				break check
			}
		}
		start = b.end + r.gap
	}
	if !r.special {
		return raw, problem, nil
	}
	// Convert to UTF-8 component by component so the bounds follow (a
	// segment with such bytes came by readCopy: r.gap is 0).
	conv := r.conv[:0]
	start = 0
	for k := range r.bounds {
		comp := raw[start:r.bounds[k].end]
		start = r.bounds[k].end
		if asUTF8 {
			if utf8.Valid(comp) {
				conv = append(conv, comp...)
			} else {
				off := int(r.bounds[k].end) - len(comp)
				for j := 0; j < len(comp); {
					ru, n := utf8.DecodeRune(comp[j:])
					if ru == utf8.RuneError && n <= 1 {
						report(off+j, "bytes are not valid UTF-8")
						conv = append(conv, "\uFFFD"...)
						j++
						continue
					}
					conv = append(conv, comp[j:j+n]...)
					j += n
				}
			}
		} else {
			d := cs.decode
			if d == nil { // ASCII levels: keep high bytes readable as ISO 8859-1
				d = latin1Decode
			}
			for len(comp) > 0 {
				i := 0 // copy the run of ASCII bytes at once
				for i < len(comp) && comp[i] < 0x80 {
					i++
				}
				conv = append(conv, comp[:i]...)
				if i == len(comp) {
					break
				}
				if u := d[comp[i]-0x80]; u != nil {
					conv = append(conv, u...)
				} else {
					conv = append(conv, "\uFFFD"...)
				}
				comp = comp[i+1:]
			}
		}
		r.bounds[k].end = int32(len(conv))
	}
	r.conv = conv
	return conv, problem, nil
}

func hasHigh(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7F {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("0x%02X", c)
}

func levelName(cs *charset) string {
	if cs.id == "" {
		return "the interchange"
	}
	return cs.id
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
	m := min(max(n, textBlock), r.end-p)
	r.blk, r.blkOff = string(r.buf[p:p+m]), off
	return r.blk[:n]
}

// build turns the unescaped data and bounds into r.seg, with every value a
// substring of s, in the flat form of edi.Segment: the values, and the
// element and repetition starts unless every element is simple. tag is
// the packed tag (packTag).
func (r *Reader) build(s string, tag uint32) {
	bounds, gap := r.bounds, r.gap
	// The tag's own element ends at the first element separator (or the
	// terminator); components or repetitions of the tag are dropped.
	k0 := 0
	for bounds[k0].kind == clsComponent || bounds[k0].kind == clsRepetition {
		k0++
	}
	after := bounds[k0+1:]
	nVals, nEl := len(after), r.nElems-1
	nInts := 0
	if nVals != nEl {
		nInts = nEl + 1 + r.nReps - r.nElems
	}
	var strs []string
	var ints []int32
	if a := r.arena; a != nil {
		strs, ints = a.take(nVals, nInts)
	} else {
		if cap(r.strs) < nVals {
			r.strs = make([]string, nVals, 2*nVals)
		}
		if cap(r.ints) < nInts {
			r.ints = make([]int32, nInts, 2*nInts)
		}
		strs, ints = r.strs[:nVals], r.ints[:nInts]
	}
	r.seg.Tag = r.tags.Intern3(tag)
	start := bounds[k0].end + gap
	strs = strs[:len(after)]
	if nInts == 0 {
		for k, b := range after {
			strs[k] = s[start:b.end]
			start = b.end + gap
		}
		r.seg.SetFlat(strs, nil, nil)
		return
	}
	// One pass for the values and the element and repetition starts.
	elem, reps := ints[:nEl+1], ints[nEl+1:]
	elem[0] = 0
	ei, ri := 1, 0
	for k, b := range after {
		strs[k] = s[start:b.end]
		start = b.end + gap
		switch b.kind {
		case clsElement, clsTerminator:
			elem[ei] = int32(k + 1)
			ei++
		case clsRepetition:
			reps[ri] = int32(k + 1)
			ri++
		}
	}
	if ri == 0 {
		reps = nil
	} else {
		reps = reps[:ri:ri]
	}
	r.seg.SetFlat(strs, elem, reps)
}

// startInterchange applies the UNB's syntax identifier: its character set
// and, without a UNA, the default separators of its syntax version.
func (r *Reader) startInterchange() {
	var id, version []byte
	if len(r.bounds) > 1 && r.bounds[0].kind == clsElement {
		id = r.component(1)
		if r.bounds[1].kind == clsComponent && len(r.bounds) > 2 {
			version = r.component(2)
		}
	}
	cs, ok := lookupCharset(string(id))
	if !ok {
		cs = fallbackCharset
	}
	r.cs = cs
	if !r.sawUNA {
		r.setSeparators(defaultsFor(string(version)))
	}
}

// endInterchange restores the defaults for a following interchange, which
// may bring its own UNA.
func (r *Reader) endInterchange() {
	r.sawUNA = false
	r.cs = nil
	r.setSeparators(DefaultSeparators)
}
