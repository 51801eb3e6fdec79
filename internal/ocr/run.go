package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// ErrUnreadable means the document cannot be read: not a PDF, a broken
// one, or one beyond the limits (a PDF bomb).
var ErrUnreadable = errors.New("unreadable document")

// ErrLimit means a subprocess hit its time, CPU or memory limit.
var ErrLimit = errors.New("resource limit hit")

// Limits bound every subprocess and the documents accepted.
type Limits struct {
	CPUSeconds   int           // per subprocess (RLIMIT_CPU)
	AddressSpace int64         // bytes per subprocess (RLIMIT_AS)
	Timeout      time.Duration // wall clock per subprocess
	MaxBytes     int           // largest PDF accepted
	MaxPages     int           // pages read; a longer document is refused
	MaxPixels    int64         // per rasterised page at 300 dpi
	MaxOutput    int           // bytes read from a subprocess's stdout
}

// DefaultLimits suit fax orders.
var DefaultLimits = Limits{
	CPUSeconds:   20,
	AddressSpace: 1 << 30,
	Timeout:      30 * time.Second,
	MaxBytes:     20 << 20,
	MaxPages:     20,
	MaxPixels:    40_000_000,
	MaxOutput:    32 << 20,
}

// Runner runs the tools. Its zero value is not usable: use New.
type Runner struct {
	limits Limits
	log    *slog.Logger
	lang   string
	tmp    string
}

// Options configure a Runner.
type Options struct {
	Limits Limits       // DefaultLimits when zero
	Logger *slog.Logger // discarded when nil
	Lang   string       // tesseract languages, "deu+eng" when empty
	TmpDir string       // os.TempDir() when empty
}

// New returns a Runner.
func New(opts Options) *Runner {
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Lang == "" {
		opts.Lang = "deu+eng"
	}
	return &Runner{limits: opts.Limits, log: opts.Logger, lang: opts.Lang, tmp: opts.TmpDir}
}

// limitedBuffer keeps at most max bytes and remembers it overflowed.
type limitedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.max {
		b.overflow = true
		p = p[:max(0, b.max-b.buf.Len())]
	}
	b.buf.Write(p)
	return len(p), nil
}

// run runs name with args under prlimit in dir, feeding stdin, and
// returns its stdout.
func (r *Runner) run(ctx context.Context, dir string, stdin []byte, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.limits.Timeout)
	defer cancel()
	full := append([]string{
		"--cpu=" + strconv.Itoa(r.limits.CPUSeconds),
		"--as=" + strconv.FormatInt(r.limits.AddressSpace, 10),
		"--core=0",
		"--", name,
	}, args...)
	cmd := exec.CommandContext(ctx, "prlimit", full...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out := &limitedBuffer{max: r.limits.MaxOutput}
	errOut := &limitedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, errOut
	start := time.Now()
	err := cmd.Run()
	r.log.Debug("ocr tool", "tool", name, "elapsed", time.Since(start), "err", err)
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("running %s: %w: timeout after %s", name, ErrLimit, r.limits.Timeout)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				switch ws.Signal() {
				case syscall.SIGXCPU, syscall.SIGKILL, syscall.SIGSEGV, syscall.SIGABRT:
					return nil, fmt.Errorf("running %s: %w: %s", name, ErrLimit, ws.Signal())
				}
			}
		}
		return nil, fmt.Errorf("running %s: %w: %s", name, err, bytes.TrimSpace(errOut.buf.Bytes()))
	}
	if out.overflow {
		return nil, fmt.Errorf("running %s: %w: output over %d bytes", name, ErrLimit, r.limits.MaxOutput)
	}
	return out.buf.Bytes(), nil
}

// workdir makes a temporary directory and returns it with its cleanup.
func (r *Runner) workdir() (string, func(), error) {
	dir, err := os.MkdirTemp(r.tmp, "ordergate-ocr-")
	if err != nil {
		return "", nil, fmt.Errorf("making a work directory: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
