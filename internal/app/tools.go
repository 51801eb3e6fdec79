package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/pipeline/sqliteq"
	"github.com/ordergate/ordergate/internal/store"
)

// Tools are the parts the administrative commands (reprocess, import,
// user, rules) work with, without running the gateway: the configuration,
// the store and a pipeline that is not started. They can be used while a
// gateway runs on the same store: SQLite serialises the writers and the
// running gateway picks up what they change (due deliveries, released
// holds) on its next poll.
type Tools struct {
	Config   *config.Config
	Store    *store.Store
	Pipeline *pipeline.Pipeline
	Log      *slog.Logger
}

// OpenTools loads the configuration and opens its store; logOut receives
// the log (os.Stderr when nil).
func OpenTools(ctx context.Context, configPath string, logOut io.Writer) (*Tools, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return nil, err
	}
	if logOut == nil {
		logOut = os.Stderr
	}
	log := cfg.Log.NewLogger(logOut)
	if cfg.Store.Driver != config.DriverSQLite {
		return nil, fmt.Errorf("store driver %q is not available in this version (only sqlite)", cfg.Store.Driver)
	}
	st, err := store.Open(ctx, store.Options{Path: cfg.Store.DSN, ArchiveDir: cfg.Store.ArchiveDir,
		BusyTimeout: cfg.Store.BusyTimeout, Logger: log.With("component", "store")})
	if err != nil {
		return nil, err
	}
	writer := sqliteq.NewWriterWithLock(st.DB(), st.LockWrites, cfg.Store.BusyTimeout)
	pipe, err := pipeline.New(pipeline.Deps{Store: st, Writer: writer, Config: func() *config.Config { return cfg },
		Processor: ediproc.Processor{}, Logger: log})
	if err != nil {
		_ = st.Close(ctx)
		return nil, err
	}
	if err := pipe.Init(ctx); err != nil {
		_ = st.Close(ctx)
		return nil, err
	}
	return &Tools{Config: cfg, Store: st, Pipeline: pipe, Log: log}, nil
}

// Close closes the store.
func (t *Tools) Close(ctx context.Context) error { return t.Store.Close(ctx) }
