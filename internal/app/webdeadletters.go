package app

import (
	"context"

	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/web"
)

var _ web.DeadLetterService = (*webService)(nil)

// DeadLetters lists the dead deliveries for the dead-letters page.
func (s *webService) DeadLetters(ctx context.Context) ([]web.DeadLetter, error) {
	ds, err := s.st.DeadLetters(ctx, 1000)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]web.DeadLetter, 0, len(ds))
	for _, d := range ds {
		out = append(out, web.DeadLetter{ID: d.ID, OrderID: d.OrderID, Backend: d.Backend, Route: d.Route,
			Attempts: d.Attempts, LastError: d.LastError, At: d.UpdatedAt})
	}
	return out, nil
}

// RetryDeadLetters queues dead deliveries again through the pipeline's
// reprocessing, as the API's retry does.
func (s *webService) RetryDeadLetters(ctx context.Context, ids []string, user string) []web.RetryResult {
	res := s.pipe.Reprocess(ctx, ids, pipeline.ReprocessOptions{Actor: user})
	out := make([]web.RetryResult, len(res))
	for i, r := range res {
		out[i] = web.RetryResult{ID: r.ID, OrderID: r.OrderID, Error: r.Error}
	}
	return out
}
