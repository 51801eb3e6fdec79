package webtest

import (
	"context"
	"fmt"

	"github.com/ordergate/ordergate/internal/web"
)

var _ web.DeadLetterService = (*Service)(nil)

// AddDeadLetter adds a dead letter (its At set when zero).
func (s *Service) AddDeadLetter(d web.DeadLetter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.At.IsZero() {
		d.At = s.now()
	}
	s.dead = append(s.dead, d)
}

// DeadLetters implements web.DeadLetterService.
func (s *Service) DeadLetters(context.Context) ([]web.DeadLetter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]web.DeadLetter(nil), s.dead...), nil
}

// RetryDeadLetters implements web.DeadLetterService: a retried dead
// letter is no longer dead; an id that is not one gets an error.
func (s *Service) RetryDeadLetters(_ context.Context, ids []string, _ string) []web.RetryResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]web.RetryResult, 0, len(ids))
	for _, id := range ids {
		res := web.RetryResult{ID: id, Error: fmt.Sprintf("delivery %s is not a dead letter", id)}
		for i, d := range s.dead {
			if d.ID == id {
				res = web.RetryResult{ID: id, OrderID: d.OrderID}
				s.dead = append(s.dead[:i], s.dead[i+1:]...)
				break
			}
		}
		out = append(out, res)
	}
	return out
}
