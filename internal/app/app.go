package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ordergate/ordergate/channels/webapi"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/httpapi"
	"github.com/ordergate/ordergate/internal/metrics"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/web"
	"github.com/ordergate/ordergate/routing"
)

// Options are what Serve needs besides the config file.
type Options struct {
	ConfigPath string
	// LogOutput receives the log; os.Stderr when nil.
	LogOutput io.Writer
	// Fault is the crash-test hook (see pipeline.Deps.Fault); nil in
	// production. The command reads it from ORDERGATE_FAULT.
	Fault func(point string)
	// Ready, when set, is called once the gateway serves, with the
	// address it listens on.
	Ready func(addr string)
}

// Serve runs the gateway until ctx ends, then drains and stops.
func Serve(ctx context.Context, opts Options) error {
	first, err := config.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	out := opts.LogOutput
	if out == nil {
		out = os.Stderr
	}
	log := first.Log.NewLogger(out)
	// A reload builds the new config's backends before it takes effect
	// (set is made below, before the holder starts watching).
	var set *backendSet
	holder, err := config.NewHolder(opts.ConfigPath, log.With("component", "config"), func(c *config.Config) error {
		if set == nil {
			return nil
		}
		return set.rebuild(ctx, c)
	})
	if err != nil {
		return err
	}
	cfg := holder.Current()
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.Close(cctx); err != nil {
			log.Error("closing store", "err", err)
		}
	}()
	queue, err := newQueue(cfg, st, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := queue.close(); err != nil {
			log.Warn("closing the broker connections", "err", err)
		}
	}()
	nd, err := newNode(ctx, cfg, st, log)
	if err != nil {
		return err
	}

	if err := loadMasterdata(ctx, st, cfg, log); err != nil {
		return err
	}
	chans, err := buildChannels(cfg, st, log)
	if err != nil {
		return err
	}
	mail, err := newMailer(cfg, log.With("component", "mail"))
	if err != nil {
		return err
	}
	if mail != nil {
		chans.outbounds[pipeline.MailDestination] = mailOutbound{m: mail}
	}
	set, err = newBackendSet(ctx, cfg, log, func(ctx context.Context, c *config.Config) (map[string]routing.Backend, error) {
		return buildBackends(ctx, c, log)
	})
	if err != nil {
		return err
	}
	defer set.close()

	capturer, err := newCapturer(cfg, st, log.With("component", "capture"))
	if err != nil {
		return err
	}
	var pipe *pipeline.Pipeline
	m := metrics.New(func(ctx context.Context) (map[string]int64, error) { return pipe.Depths(ctx) })
	pipe, err = pipeline.New(pipeline.Deps{
		Store: st, Queue: queue, Config: holder.Current, Processor: ediproc.Processor{},
		BackendSet: set.acquire, Outbounds: chans.outbounds, PartnerOutbounds: chans.partnerOutbounds,
		Metrics: m, Logger: log, Fault: opts.Fault, Capture: captureFunc(capturer, holder.Current, ""),
		Singleton: nd.singleton, Consumers: consumers(cfg), WorkerPoll: workerPoll(cfg),
		IntakeBacklog: cfg.Pipeline.IntakeBacklog,
	})
	if err != nil {
		return err
	}
	if err := pipe.Init(ctx); err != nil {
		return err
	}

	token, err := adminToken(cfg, log)
	if err != nil {
		return err
	}
	submits := newSubmitIntake(pipe)
	api := httpapi.New(httpapi.Options{Store: st, Raw: st.Archive(), AdminToken: token, Keys: st.APIKeys(),
		Ops: &ops{st: st, pipe: pipe}, Approvers: approvers{st}, Ready: pipe.Ready, Role: nd.role, Metrics: m.Handler(), Logger: log.With("component", "http")})
	for i, ch := range chans.web {
		if i > 0 {
			return fmt.Errorf("channel %s: only one web channel can serve %s", ch.Name, webapi.Route)
		}
		max := int64(ch.MaxBodyBytes)
		if max <= 0 {
			max = int64(cfg.HTTP.MaxBodyBytes)
		}
		h, err := webapi.New(webapi.Options{Name: ch.Name, Keys: st.APIKeys(), Intake: &webIntake{in: submits, channel: ch.Name},
			Validate: validateOrderJSON, MaxBodyBytes: max, Logger: log.With("channel", ch.Name)})
		if err != nil {
			return fmt.Errorf("channel %s: %w", ch.Name, err)
		}
		api.Handle(webapi.Route, h)
	}
	deskName := "desk"
	if len(chans.desk) > 0 {
		deskName = chans.desk[0].Name
	}
	var origins []string
	if cfg.HTTP.PublicURL != "" {
		origins = append(origins, cfg.HTTP.PublicURL)
	}
	ui, err := web.New(web.Options{
		Service: &webService{st: st, pipe: pipe, in: submits, cfg: holder.Current, desk: deskName, maxRaw: 32 << 20, location: time.Local,
			pages: renderPages},
		Users: st, Logger: log.With("component", "web"), Secure: cfg.HTTP.TLSCertFile != "", TrustedOrigins: origins,
	})
	if err != nil {
		return fmt.Errorf("web UI: %w", err)
	}
	api.Handle("/", ui)
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 1 << 20,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.HTTP.Listen, err)
	}

	// Run: config watch, pipeline, HTTP, sources.
	runCtx, stopAll := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAll()
	var wg sync.WaitGroup
	go func() {
		if err := holder.Watch(runCtx); err != nil && runCtx.Err() == nil {
			log.Warn("config watch stopped", "err", err)
		}
	}()
	pipeCtx, stopPipe := context.WithCancel(runCtx)
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- pipe.Run(pipeCtx) }()
	forwardDone := make(chan struct{})
	if queue.forward != nil {
		go func() {
			defer close(forwardDone)
			if err := queue.forward(pipeCtx); err != nil && pipeCtx.Err() == nil {
				log.Error("the broker forwarder stopped", "err", err)
			}
		}()
	} else {
		close(forwardDone)
	}
	httpDone := make(chan error, 1)
	go func() {
		if cfg.HTTP.TLSCertFile != "" {
			httpDone <- srv.ServeTLS(ln, cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile)
		} else {
			httpDone <- srv.Serve(ln)
		}
	}()
	srcCtx, stopSources := context.WithCancel(runCtx)
	wg.Add(1)
	go func() { defer wg.Done(); submits.run(srcCtx) }()
	go sweepSessions(runCtx, ui, log)
	if cfg.Store.Driver == config.DriverPostgres {
		go nd.singleton(runCtx, "lease-history", nd.pruneLeaseHistory)
	}
	if cfg.Store.Archive == config.ArchiveDatabase {
		go nd.singleton(runCtx, "archive-prune", func(ctx context.Context) { pruneArchive(ctx, st, log) })
	}
	if mail != nil {
		go nd.singleton(runCtx, "task-mails", func(ctx context.Context) {
			runTaskMails(ctx, st, mail, holder.Current, log.With("component", "mail"))
		})
	}
	for name, src := range chans.sources {
		wg.Add(1)
		if polled(channelType(cfg, name)) {
			go func() { defer wg.Done(); nd.poll(srcCtx, pipe, name, src) }()
		} else {
			go func() { defer wg.Done(); pipe.RunSource(srcCtx, name, src) }()
		}
	}
	where := cfg.Store.DSN
	if cfg.Store.Driver == config.DriverPostgres {
		where = "postgres" // the DSN may name a user and host; never its password
	}
	log.Info("ordergate serving", "http", ln.Addr().String(), "channels", len(chans.sources)+len(chans.web)+len(chans.desk), "backends", set.size(),
		"database", where, "node", nd.name)
	if opts.Ready != nil {
		opts.Ready(ln.Addr().String())
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: intake first, then the pipeline drains", "drain_timeout", cfg.Pipeline.DrainTimeout)
	case runErr = <-pipeDone:
		pipeDone <- runErr
	case runErr = <-httpDone:
		httpDone <- runErr
	}
	stopSources()
	wg.Wait()
	stopPipe()
	drain := time.NewTimer(cfg.Pipeline.DrainTimeout + 5*time.Second)
	select {
	case err := <-pipeDone:
		if err != nil && runErr == nil {
			runErr = err
		}
	case <-drain.C:
		log.Error("pipeline did not drain in time")
	}
	<-forwardDone
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	log.Info("ordergate stopped")
	return runErr
}

// adminToken returns the API's bearer token: from the configured
// environment variable, or, when that is not set, a random token written
// once to admin-token next to the database (mode 0600) so a newcomer can
// use the API at once. Its value is never logged.
func adminToken(cfg *config.Config, log *slog.Logger) (string, error) {
	if s, err := cfg.HTTP.AdminToken().Value(); err == nil && !s.IsZero() {
		return s.Reveal(), nil
	}
	if cfg.Store.Driver == config.DriverPostgres {
		// No file next to a database: and every node needs the same token.
		return "", fmt.Errorf("http.admin_token_env: set %s: with postgres every node takes the admin API token from it", cfg.HTTP.AdminTokenEnv)
	}
	path := filepath.Join(filepath.Dir(cfg.Store.DSN), "admin-token")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		log.Info("admin API token read from file (set the environment variable to choose one)",
			"file", path, "env", cfg.HTTP.AdminTokenEnv)
		return strings.TrimSpace(string(b)), nil
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing admin token: %w", err)
	}
	log.Info("admin API token generated (set the environment variable to choose one)", "file", path, "env", cfg.HTTP.AdminTokenEnv)
	return tok, nil
}

// sweepSessions removes timed-out sessions now and then (they are refused
// anyway; this keeps the table small).
func sweepSessions(ctx context.Context, ui *web.UI, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if _, err := ui.SweepSessions(ctx); err != nil && ctx.Err() == nil {
			log.Warn("sweeping web sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// channelType is the configured type of the channel name.
func channelType(cfg *config.Config, name string) string {
	for _, ch := range cfg.Channels {
		if ch.Name == name {
			return ch.Type
		}
	}
	return ""
}
