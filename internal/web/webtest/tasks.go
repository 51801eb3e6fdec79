package webtest

import (
	"context"
	"fmt"
	"strings"

	"github.com/ordergate/ordergate/internal/web"
)

var _ web.TaskService = (*Service)(nil)

// AddTask adds an open task (its ID and CreatedAt set when empty) and
// returns its id.
func (s *Service) AddTask(t web.Task) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID == "" {
		s.seq++
		t.ID = fmt.Sprintf("task_%04d", s.seq)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	s.tasks = append(s.tasks, t)
	return t.ID
}

// OpenTasks implements web.TaskService.
func (s *Service) OpenTasks(context.Context) ([]web.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]web.Task(nil), s.tasks...), nil
}

// CompleteTask implements web.TaskService: the task is no longer open.
func (s *Service) CompleteTask(_ context.Context, id, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, t := range s.tasks {
		if t.ID == id {
			s.tasks = append(s.tasks[:i], s.tasks[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("task %s: %w", id, web.ErrNotFound)
}

// TaskIDs returns the open tasks' ids, space separated.
func (s *Service) TaskIDs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.tasks))
	for _, t := range s.tasks {
		ids = append(ids, t.ID)
	}
	return strings.Join(ids, " ")
}
