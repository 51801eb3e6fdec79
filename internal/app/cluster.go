package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/httpapi"
	"github.com/ordergate/ordergate/internal/lease"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/pipeline/brokerq"
	"github.com/ordergate/ordergate/internal/pipeline/pgq"
	"github.com/ordergate/ordergate/internal/store"
)

// channelLease prefixes the lease of a polled channel.
const channelLease = "channel:"

// node is this process's part in a cluster: its name and the elector
// under whose leases it polls channels and runs the singleton workers. On
// sqlite there is one node and it leads everything at once.
type node struct {
	name    string
	driver  string
	elector lease.Elector
	log     *slog.Logger
}

// nodeName is cluster.node, else the host name and process id.
func nodeName(cfg *config.Config) string {
	if cfg.Cluster.Node != "" {
		return cfg.Cluster.Node
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "ordergate"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

func newNode(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger) (*node, error) {
	n := &node{name: nodeName(cfg), driver: cfg.Store.Driver, log: log.With("component", "cluster")}
	if cfg.Store.Driver != config.DriverPostgres {
		n.elector = lease.Local(n.name)
		return n, nil
	}
	pg, err := lease.NewPostgres(st.DB(), lease.Config{Node: n.name, TTL: cfg.Cluster.LeaseTTL}, log.With("component", "lease"))
	if err != nil {
		return nil, err
	}
	if err := pg.Init(ctx); err != nil {
		return nil, fmt.Errorf("cluster leases: %w", err)
	}
	n.elector = pg
	return n, nil
}

// poll polls src under the channel's lease: while this node holds it
// (always, on sqlite), until ctx ends. Every start and stop is logged
// with the node and the fencing token: the poll log.
func (n *node) poll(ctx context.Context, pipe *pipeline.Pipeline, name string, src channels.Source) {
	_ = n.elector.Lead(ctx, channelLease+name, func(ctx context.Context, l lease.Lease) error {
		n.log.Info("polling started", "channel", name, "node", n.name, "lease_token", l.Token())
		pipe.RunSource(ctx, name, fencedSource{Source: src, lease: l})
		n.log.Info("polling stopped", "channel", name, "node", n.name, "lease_token", l.Token())
		return nil
	})
}

// singleton runs fn under the lease name (pipeline.Deps.Singleton).
func (n *node) singleton(ctx context.Context, name string, fn func(ctx context.Context)) {
	_ = n.elector.Lead(ctx, name, func(ctx context.Context, l lease.Lease) error {
		n.log.Debug("singleton started", "name", name, "node", n.name, "lease_token", l.Token())
		fn(ctx)
		return nil
	})
}

// archiveGrace is how long content in the database archive that no row
// refers to is kept: a Put of its own (PostgreSQL's intake) commits
// before the row that refers to it.
const archiveGrace = 24 * time.Hour

// pruneArchive deletes unreferenced content of the database archive
// every hour until ctx ends (run as a singleton).
func pruneArchive(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if k, err := st.PruneArchive(ctx, time.Now().Add(-archiveGrace)); err != nil && ctx.Err() == nil {
			log.Warn("pruning the archive failed", "err", err)
		} else if k > 0 {
			log.Info("archive pruned of unreferenced content", "contents", k)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// leaseHistoryKept is how long the lease history (who polled what, when)
// is kept for audits.
const leaseHistoryKept = 30 * 24 * time.Hour

// pruneLeaseHistory deletes old lease history every hour until ctx ends
// (postgres; run as a singleton).
func (n *node) pruneLeaseHistory(ctx context.Context) {
	pg, ok := n.elector.(*lease.PG)
	if !ok {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if k, err := pg.PruneHistory(ctx, leaseHistoryKept); err != nil && ctx.Err() == nil {
			n.log.Warn("pruning the lease history failed", "err", err)
		} else if k > 0 {
			n.log.Info("lease history pruned", "rows", k)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// role is what /healthz reports: the channels this node polls now.
func (n *node) role() httpapi.NodeRole {
	r := httpapi.NodeRole{Node: n.name, Driver: n.driver}
	for _, h := range n.elector.Held() {
		if ch, ok := strings.CutPrefix(h.Name, channelLease); ok {
			r.Polls = append(r.Polls, httpapi.PolledChannel{Channel: ch, Token: h.Token, Since: h.Since})
		}
	}
	slices.SortFunc(r.Polls, func(a, b httpapi.PolledChannel) int { return strings.Compare(a.Channel, b.Channel) })
	return r
}

// fencedSource checks the lease before every ack that disposes of a
// source document (deleting or moving a file, flagging a mail): a node
// that lost its lease without noticing yet leaves the document to the new
// holder, which reads it again and finds it stored already.
type fencedSource struct {
	channels.Source
	lease lease.Lease
}

func (f fencedSource) Read(ctx context.Context) (channels.Document, channels.AckFunc, error) {
	doc, ack, err := f.Source.Read(ctx)
	if err != nil || ack == nil {
		return doc, ack, err
	}
	return doc, func(ctx context.Context, r channels.Result) error {
		if r.Outcome != channels.OutcomeRetry {
			if err := f.lease.Check(ctx); err != nil {
				return fmt.Errorf("%w: %w", channels.ErrNotConnected, err)
			}
		}
		return ack(ctx, r)
	}, nil
}

// polled reports whether a channel type is polled (under a lease) rather
// than served on every node.
func polled(typ string) bool {
	switch typ {
	case config.ChannelSFTPServer, config.ChannelWeb, config.ChannelDesk:
		return false
	}
	return true
}

// openStore opens the configured store.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.Store, error) {
	opts, err := storeOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, opts)
}

// storeOptions are the store's options from the config; the postgres DSN
// is read from its environment variable.
func storeOptions(cfg *config.Config, log *slog.Logger) (store.Options, error) {
	s := cfg.Store
	opts := store.Options{Driver: s.Driver, ArchiveDir: s.ArchiveDir, BusyTimeout: s.BusyTimeout,
		ArchiveInDB: s.Archive == config.ArchiveDatabase, Logger: log.With("component", "store")}
	if s.Driver != config.DriverPostgres {
		opts.Path = s.DSN
		return opts, nil
	}
	opts.DSN, opts.MaxConns = s.DSN, s.MaxConns
	if s.DSNEnv != "" {
		v, err := s.DSNRef().Value()
		if err != nil {
			return opts, fmt.Errorf("store.dsn_env: %w", err)
		}
		opts.DSN = v.Reveal()
	}
	return opts, nil
}

// consumers is pipeline.consumers, or its default: 1 on sqlite (one
// writer), 4 on postgres (stage transactions run side by side).
func consumers(cfg *config.Config) int {
	switch {
	case cfg.Pipeline.Consumers > 0:
		return cfg.Pipeline.Consumers
	case cfg.Store.Driver == config.DriverPostgres:
		return 4
	}
	return 1
}

// workerPoll is the delivery worker's idle poll: a local query on sqlite,
// a round trip on postgres.
func workerPoll(cfg *config.Config) time.Duration {
	if cfg.Store.Driver == config.DriverPostgres {
		return 50 * time.Millisecond
	}
	return 10 * time.Millisecond
}

// stageQueue is the pipeline's queue and, with a broker, the forwarder
// that moves the outbox's messages to it (run on every node) and the
// broker connections to close at the end.
type stageQueue struct {
	pipeline.Queue
	forward func(ctx context.Context) error // nil without a broker
	close   func() error
}

// Changed is the queue's commit signal when it has one (sqliteq's
// writer), else nil.
func (q *stageQueue) Changed() <-chan struct{} {
	if c, ok := q.Queue.(interface{ Changed() <-chan struct{} }); ok {
		return c.Changed()
	}
	return nil
}

// newQueue is the pipeline's queue on the store's database, through the
// configured broker when there is one.
func newQueue(cfg *config.Config, st *store.Store, log *slog.Logger) (*stageQueue, error) {
	base, err := databaseQueue(cfg, st, log)
	if err != nil {
		return nil, err
	}
	b := cfg.Pipeline.Broker
	if b.Type == "" {
		return &stageQueue{Queue: base, close: func() error { return nil }}, nil
	}
	url, err := b.URLRef().Value()
	if err != nil {
		return nil, fmt.Errorf("pipeline.broker.url_env: %w", err)
	}
	dialect := brokerq.SQLite
	if cfg.Store.Driver == config.DriverPostgres {
		dialect = brokerq.Postgres
	}
	bq, err := brokerq.New(base, brokerq.Config{Broker: b.Type, URL: url.Reveal(), Prefix: b.Prefix, Dialect: dialect, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("pipeline broker: %w", err)
	}
	return &stageQueue{Queue: bq, forward: bq.Run, close: bq.Close}, nil
}

// databaseQueue is the queue in the store's database: sqliteq or pgq.
func databaseQueue(cfg *config.Config, st *store.Store, log *slog.Logger) (pipeline.Queue, error) {
	if cfg.Store.Driver != config.DriverPostgres {
		return pipeline.NewSQLiteQueue(st, cfg.Store.BusyTimeout, cfg.Pipeline.PollInterval, cfg.Pipeline.BatchSize, log), nil
	}
	// Small batches: a batch is one transaction holding its rows' locks
	// and a connection, and the stage's consumers share the rows.
	q, err := pgq.New(st.DB(), pgq.Config{PollInterval: cfg.Pipeline.PollInterval, BatchSize: min(cfg.Pipeline.BatchSize, 10)},
		pipeline.WatermillLogger(log))
	if err != nil {
		return nil, fmt.Errorf("postgres queue: %w", err)
	}
	return q, nil
}

// Migrate brings the configured database's schema up to date: the
// store's migrations (reported by name, in order), the pipeline queue's
// tables and, on postgres, the lease tables. Serve does the same at
// start; run it alone before rolling a new version out to a cluster.
func Migrate(ctx context.Context, cfg *config.Config, log *slog.Logger) ([]string, error) {
	opts, err := storeOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	applied, err := store.Migrate(ctx, opts)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, opts)
	if err != nil {
		return applied, err
	}
	defer st.Close(context.WithoutCancel(ctx))
	// The database's tables only: the broker's queues are declared by
	// serve, and the inbox table with them.
	queue, err := databaseQueue(cfg, st, log)
	if err != nil {
		return applied, err
	}
	if err := queue.InitializeSchema(ctx, pipeline.Topics...); err != nil {
		return applied, fmt.Errorf("queue schema: %w", err)
	}
	if _, err := newNode(ctx, cfg, st, log); err != nil {
		return applied, err
	}
	return applied, nil
}
