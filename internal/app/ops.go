package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
)

// ops implements the admin API's operations over the pipeline and store.
type ops struct {
	st   *store.Store
	pipe *pipeline.Pipeline
}

func (o *ops) PendingApprovals(ctx context.Context, limit int) ([]store.Approval, error) {
	return o.st.PendingApprovals(ctx, limit)
}

// Decide decides and writes the decision to the audit log.
func (o *ops) Decide(ctx context.Context, d pipeline.Decision) (pipeline.DecisionResult, error) {
	res, err := o.pipe.Decide(ctx, d)
	if err != nil {
		return res, err
	}
	if err := auditDecision(ctx, o.st, d, res); err != nil {
		return res, fmt.Errorf("decided, but writing the audit log: %w", err)
	}
	return res, nil
}

func (o *ops) Reprocess(ctx context.Context, ids []string, opts pipeline.ReprocessOptions) []pipeline.Reprocessed {
	return o.pipe.Reprocess(ctx, ids, opts)
}

func (o *ops) Import(ctx context.Context, kind masterdata.Kind, r io.Reader) (masterdata.Report, error) {
	return masterdata.Import(ctx, o.st, kind, r)
}

func (o *ops) OpenTasks(ctx context.Context, assignee string, limit int) ([]store.Task, error) {
	return o.st.OpenTasks(ctx, assignee, limit)
}

func (o *ops) CompleteTask(ctx context.Context, id, user string) (store.Task, error) {
	return o.pipe.CompleteTask(ctx, id, user)
}

// loadMasterdata imports the files the configuration's masterdata.load
// names, in order, at start (an upsert: a restart changes nothing). A
// file with bad lines is logged with every bad line and its good lines
// are imported; a file that cannot be read stops the start.
func loadMasterdata(ctx context.Context, st *store.Store, cfg *config.Config, log *slog.Logger) error {
	for _, f := range cfg.Masterdata.Load {
		kind, err := masterdata.ParseKind(f.Kind)
		if err != nil {
			return fmt.Errorf("masterdata.load %s: %w", f.File, err)
		}
		rep, err := masterdata.ImportFile(ctx, st, kind, f.File)
		if err != nil {
			return fmt.Errorf("masterdata.load: %w", err)
		}
		level := slog.LevelInfo
		if !rep.OK() {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "master data loaded", "file", f.File, "kind", f.Kind, "inserted", rep.Inserted,
			"updated", rep.Updated, "unchanged", rep.Unchanged, "bad_lines", len(rep.Errors)+rep.ErrorsOmitted)
		for _, e := range rep.Errors {
			log.Warn("master data line skipped", "error", e.Error())
		}
	}
	return nil
}
