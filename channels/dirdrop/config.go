package dirdrop

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ordergate/ordergate/channels"
)

// Defaults of a Config.
const (
	DefaultPoll   = time.Second
	DefaultMinAge = 2 * time.Second
	// NoMinAge, as Config.MinAge, takes a file on the first listing
	// after the one that found it whose size and mtime are the same, with
	// no wait beyond the poll (writers that rename finished files into
	// place). Config.MinAge's zero is DefaultMinAge.
	NoMinAge time.Duration = -1
)

// Config configures a Dir.
type Config struct {
	// Name is the channel name (Document.Channel, log attribute). Required.
	Name string
	// Path is the inbox folder. It must exist. Required.
	Path string
	// DoneDir receives committed files; default Path/done. A relative
	// path is relative to Path. It is created on Connect.
	DoneDir string
	// ErrorDir receives rejected files and their <name>.error.txt
	// sidecars; default Path/error. Relative to Path when relative.
	ErrorDir string
	// Patterns are path.Match globs a file name must match; default "*".
	Patterns []string
	// Poll is how often the inbox is listed while nothing is ready;
	// default DefaultPoll.
	Poll time.Duration
	// MinAge is how long a file's size and mtime must stay unchanged
	// across listings before it is taken; default DefaultMinAge, none
	// with NoMinAge. A file is never taken on its first sighting (except
	// in done-file mode).
	MinAge time.Duration
	// DoneFileSuffix switches on done-file mode when set (e.g. ".ok"):
	// a file X is taken only when X+DoneFileSuffix exists, at once and
	// without waiting for MinAge; both are removed from the inbox on ack.
	DoneFileSuffix string
	// MaxFileBytes is the largest file taken whole; default
	// channels.DefaultMaxBytes. A larger file is handed over with
	// Document.Err wrapping channels.ErrTooLarge and no body.
	MaxFileBytes int64
	// SpoolDir is where bodies larger than 1 MiB are spooled; default
	// os.TempDir().
	SpoolDir string
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Logger receives the channel's log; default discards.
	Logger *slog.Logger
}

// withDefaults returns c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.DoneDir == "" {
		c.DoneDir = "done"
	}
	if c.ErrorDir == "" {
		c.ErrorDir = "error"
	}
	if !filepath.IsAbs(c.DoneDir) {
		c.DoneDir = filepath.Join(c.Path, c.DoneDir)
	}
	if !filepath.IsAbs(c.ErrorDir) {
		c.ErrorDir = filepath.Join(c.Path, c.ErrorDir)
	}
	if len(c.Patterns) == 0 {
		c.Patterns = []string{"*"}
	}
	if c.Poll == 0 {
		c.Poll = DefaultPoll
	}
	if c.MinAge == 0 {
		c.MinAge = DefaultMinAge
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = channels.DefaultMaxBytes
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Name == "" {
		bad("dirdrop: name is required")
	}
	if c.Path == "" {
		bad("dirdrop %s: path is required", c.Name)
	}
	for _, p := range c.Patterns {
		if _, err := path.Match(p, ""); err != nil || p == "" || strings.Contains(p, "/") {
			bad("dirdrop %s: pattern %q is not a file name glob", c.Name, p)
		}
	}
	if c.Poll < 0 {
		bad("dirdrop %s: poll %v is negative", c.Name, c.Poll)
	}
	if c.MinAge < 0 && c.MinAge != NoMinAge {
		bad("dirdrop %s: min_age %v is negative", c.Name, c.MinAge)
	}
	if c.MaxFileBytes < 0 {
		bad("dirdrop %s: max_file_bytes %d is negative", c.Name, c.MaxFileBytes)
	}
	if s := c.DoneFileSuffix; s != "" && (strings.ContainsAny(s, `/\`) || s == "." || s == "..") {
		bad("dirdrop %s: done_file_suffix %q must not contain a path separator", c.Name, s)
	}
	if c.Path != "" {
		d := c.withDefaults()
		inbox := filepath.Clean(d.Path)
		switch {
		case filepath.Clean(d.DoneDir) == inbox:
			bad("dirdrop %s: done_dir is the inbox itself", c.Name)
		case filepath.Clean(d.ErrorDir) == inbox:
			bad("dirdrop %s: error_dir is the inbox itself", c.Name)
		case filepath.Clean(d.DoneDir) == filepath.Clean(d.ErrorDir):
			bad("dirdrop %s: done_dir and error_dir are the same folder", c.Name)
		}
	}
	return errors.Join(errs...)
}
