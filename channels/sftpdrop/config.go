package sftpdrop

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/ordergate/ordergate/channels"
)

// Defaults of a Config.
const (
	DefaultPoll   = time.Minute
	DefaultMinAge = 10 * time.Second
	// NoMinAge, as Config.MinAge, takes a file on the first listing
	// after the one that found it whose size and mtime are the same, with
	// no wait beyond the poll. Config.MinAge's zero is DefaultMinAge.
	NoMinAge               time.Duration = -1
	DefaultMaxFilesPerPoll               = 500
	DefaultMaxConcurrent                 = 4
	DefaultPageSize                      = 1000
	DefaultReconnectMin                  = time.Second
	DefaultReconnectMax                  = time.Minute
)

// Config configures a Channel. Secrets in Server are resolved values.
type Config struct {
	// Name is the channel name (Document.Channel, log attribute). Required.
	Name string
	// Server is where to connect and how to log in. Required.
	Server Endpoint
	// Inbox is the remote folder read. Required. A relative path is
	// relative to the login folder.
	Inbox string
	// Archive is the remote folder committed files are moved to, created
	// when missing; relative to Inbox when relative. Exactly one of
	// Archive and DeleteAfterIngest is required.
	Archive string
	// DeleteAfterIngest removes committed files instead of archiving them.
	DeleteAfterIngest bool
	// ErrorDir is the remote folder rejected files are moved to (with a
	// <name>.error.txt sidecar holding the reason), created when missing;
	// relative to Inbox when relative. Default: "error" next to Archive
	// (Archive/../error), or Inbox/error with DeleteAfterIngest.
	ErrorDir string
	// Outbox is the remote folder Send writes to. Default: none (Send
	// fails).
	Outbox string
	// Patterns are path.Match globs a file name must match; default "*".
	Patterns []string
	// Poll is how often the inbox is listed while nothing is ready;
	// default DefaultPoll.
	Poll time.Duration
	// MinAge is how long a file's size and mtime must stay unchanged
	// across listings before it is taken; default DefaultMinAge, none
	// with NoMinAge.
	MinAge time.Duration
	// DoneFileSuffix switches on done-file mode (e.g. ".ok"): a file X is
	// taken only when X+DoneFileSuffix exists, without waiting for MinAge;
	// the done-file is archived or deleted with it.
	DoneFileSuffix string
	// MaxFilesPerPoll bounds the files taken from one listing; default
	// DefaultMaxFilesPerPoll.
	MaxFilesPerPoll int
	// MaxConcurrent bounds the transfers running at once; default
	// DefaultMaxConcurrent.
	MaxConcurrent int
	// PageSize is how many directory entries a listing reads before it
	// checks its limits and ctx; default DefaultPageSize.
	PageSize int
	// MaxFileBytes is the largest file taken whole; default
	// channels.DefaultMaxBytes. A larger file is handed over unread with
	// Document.Err wrapping channels.ErrTooLarge.
	MaxFileBytes int64
	// SpoolDir is where bodies larger than 1 MiB are spooled; default
	// os.TempDir().
	SpoolDir string
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// attempts to reconnect after the connection dropped; defaults
	// DefaultReconnectMin and DefaultReconnectMax.
	ReconnectMin, ReconnectMax time.Duration
	// Clock returns the current time (stability, Received); default
	// time.Now.
	Clock func() time.Time
}

// withDefaults returns c with defaults filled in and the folders resolved.
func (c Config) withDefaults() Config {
	c.Inbox = path.Clean(c.Inbox)
	if c.Archive != "" && !path.IsAbs(c.Archive) {
		c.Archive = path.Join(c.Inbox, c.Archive)
	}
	if c.Archive != "" {
		c.Archive = path.Clean(c.Archive)
	}
	switch {
	case c.ErrorDir != "" && !path.IsAbs(c.ErrorDir):
		c.ErrorDir = path.Join(c.Inbox, c.ErrorDir)
	case c.ErrorDir != "":
		c.ErrorDir = path.Clean(c.ErrorDir)
	case c.Archive != "":
		c.ErrorDir = path.Join(path.Dir(c.Archive), "error")
	default:
		c.ErrorDir = path.Join(c.Inbox, "error")
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
	if c.MaxFilesPerPoll == 0 {
		c.MaxFilesPerPoll = DefaultMaxFilesPerPoll
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = channels.DefaultMaxBytes
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = DefaultReconnectMin
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	c.ReconnectMax = max(c.ReconnectMax, c.ReconnectMin)
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("sftpdrop %s: "+format, append([]any{c.Name}, args...)...))
	}
	if c.Name == "" {
		errs = append(errs, errors.New("sftpdrop: name is required"))
	}
	if err := c.Server.Validate(); err != nil {
		for _, e := range unjoin(err) {
			bad("%w", e)
		}
	}
	if c.Inbox == "" {
		bad("inbox is required")
	}
	switch {
	case c.Archive == "" && !c.DeleteAfterIngest:
		bad("archive or delete_after_ingest is required")
	case c.Archive != "" && c.DeleteAfterIngest:
		bad("archive and delete_after_ingest exclude each other")
	}
	for _, p := range c.Patterns {
		if _, err := path.Match(p, ""); err != nil || p == "" || strings.Contains(p, "/") {
			bad("pattern %q is not a file name glob", p)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"poll", c.Poll}, {"min_age", c.MinAge}, {"reconnect_min", c.ReconnectMin}, {"reconnect_max", c.ReconnectMax}} {
		if d.v < 0 && !(d.name == "min_age" && d.v == NoMinAge) {
			bad("%s %v is negative", d.name, d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int64
	}{{"max_files_per_poll", int64(c.MaxFilesPerPoll)}, {"max_concurrent", int64(c.MaxConcurrent)},
		{"page_size", int64(c.PageSize)}, {"max_file_bytes", c.MaxFileBytes}} {
		if n.v < 0 {
			bad("%s %d is negative", n.name, n.v)
		}
	}
	if s := c.DoneFileSuffix; s != "" && (strings.ContainsAny(s, "/\x00") || s == "." || s == "..") {
		bad("done_file suffix %q must not contain a path separator", s)
	}
	if c.Inbox != "" {
		d := c.withDefaults()
		switch {
		case d.Archive == d.Inbox:
			bad("archive is the inbox itself")
		case d.ErrorDir == d.Inbox:
			bad("error folder is the inbox itself")
		case d.Archive != "" && d.Archive == d.ErrorDir:
			bad("archive and error folder are the same folder")
		}
	}
	return errors.Join(errs...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
