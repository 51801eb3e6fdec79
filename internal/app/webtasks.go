package app

import (
	"context"

	"github.com/ordergate/ordergate/internal/web"
)

var _ web.TaskService = (*webService)(nil)

// OpenTasks lists the sales reps' open tasks for the tasks page.
func (s *webService) OpenTasks(ctx context.Context) ([]web.Task, error) {
	ts, err := s.st.OpenTasks(ctx, "", 1000)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]web.Task, 0, len(ts))
	for _, t := range ts {
		out = append(out, web.Task{ID: t.ID, OrderID: t.OrderID, CustomerID: t.CustomerID, Assignee: t.Assignee,
			Email: t.Email, Text: t.Text, Wait: t.Wait, CreatedAt: t.CreatedAt})
	}
	return out, nil
}

// CompleteTask marks a task done through the pipeline, which releases an
// order that waits for it.
func (s *webService) CompleteTask(ctx context.Context, id, user string) error {
	_, err := s.pipe.CompleteTask(ctx, id, user)
	return mapErr(err)
}
