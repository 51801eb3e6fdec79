package testenv

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that notes how it was ended.
type recorder struct {
	testing.TB
	how string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.how = "fail: " + fmt.Sprintf(format, args...)
}
func (r *recorder) Skip(args ...any) { r.how = "skip: " + fmt.Sprint(args...) }

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		env, want string
	}{
		{"", "skip: rabbitmq-server is not installed"},
		{"0", "skip: rabbitmq-server is not installed"},
		{"1", "fail: rabbitmq-server is not installed (ORDERGATE_REQUIRE_SERVERS=1: the real servers are required here)"},
	} {
		t.Setenv(RequireServersEnv, tc.env)
		r := &recorder{TB: t}
		Unavailable(r, "rabbitmq-server is not installed")
		if r.how != tc.want {
			t.Errorf("%s=%q: %q, want %q", RequireServersEnv, tc.env, r.how, tc.want)
		}
	}
}
