package lease

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrLost: the lease is no longer held, or it could not be confirmed that
// it still is. Test for it with errors.Is.
var ErrLost = errors.New("lease: lost")

// ErrConfig: the elector's configuration or arguments are invalid.
var ErrConfig = errors.New("lease: invalid configuration")

// Elector runs work under named leases.
type Elector interface {
	// Lead campaigns for the lease name and runs fn while this node holds
	// it; fn's ctx is cancelled as soon as the lease is lost or may be lost
	// (renewal not confirmed in time) or Lead's ctx ends. After fn
	// returns, Lead releases the lease (when held) and campaigns again,
	// until ctx ends. Returns ctx's error at the end.
	Lead(ctx context.Context, name string, fn func(ctx context.Context, l Lease) error) error
	// Held lists the leases this node holds now (for the health endpoint:
	// name, token, since).
	Held() []Held
	// Node is this node's identity.
	Node() string
}

// Lease is one acquisition of a named lease.
type Lease interface {
	Name() string
	// Token is the fencing token: strictly increasing per name across all
	// acquisitions.
	Token() int64
	// Check confirms against the database that this node still holds the
	// lease with this token (call it right before an irreversible side
	// effect such as deleting a source file); an error wrapping ErrLost
	// otherwise.
	Check(ctx context.Context) error
}

// Held is a lease this node holds.
type Held struct {
	Name  string `json:"name"`
	Token int64  `json:"token"`
	// Since is when the lease was acquired, by the database server's
	// clock (by the local clock for Local), in UTC.
	Since time.Time `json:"since"`
}

// Config configures a PostgreSQL elector.
type Config struct {
	// Node identifies this process, unique among the nodes sharing the
	// database (e.g. hostname-pid). Required.
	Node string
	// TTL is how long an acquisition or renewal keeps the lease on the
	// database server's clock. Default 15 s.
	TTL time.Duration
	// Renew is the renewal interval, at most TTL/2. Default TTL/3.
	Renew time.Duration
	// Retry is the campaign interval of a node that does not hold the
	// lease. Default TTL/3.
	Retry time.Duration
}

// DefaultTTL is the lease duration when Config.TTL is zero.
const DefaultTTL = 15 * time.Second

// minTTL keeps the derived intervals above timer and round-trip noise.
const minTTL = 100 * time.Millisecond

func (c Config) withDefaults() (Config, error) {
	if c.Node == "" {
		return c, fmt.Errorf("%w: Node is required", ErrConfig)
	}
	if c.TTL < 0 || c.Renew < 0 || c.Retry < 0 {
		return c, fmt.Errorf("%w: negative duration (TTL %v, Renew %v, Retry %v)", ErrConfig, c.TTL, c.Renew, c.Retry)
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.TTL < minTTL {
		return c, fmt.Errorf("%w: TTL %v is below %v", ErrConfig, c.TTL, minTTL)
	}
	if c.Renew == 0 {
		c.Renew = c.TTL / 3
	}
	if c.Retry == 0 {
		c.Retry = c.TTL / 3
	}
	if c.Renew > c.TTL/2 {
		return c, fmt.Errorf("%w: Renew %v exceeds TTL/2 (%v): one lost renewal would stop the holder", ErrConfig, c.Renew, c.TTL/2)
	}
	return c, nil
}

// margin is how long before the server-side expiry the holder stops its
// work: TTL/4.
func (c Config) margin() time.Duration { return c.TTL / 4 }
