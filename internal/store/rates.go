package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

// ExchangeRate is master data: one unit of From is Rate units of To from
// ValidFrom (zero: always) until the pair's next rate. A rate is for one
// direction: EUR->USD does not give USD->EUR (an inverse is not exact).
type ExchangeRate struct {
	From, To  string // ISO 4217 codes
	ValidFrom order.Date
	Rate      decimal.Decimal // positive
	UpdatedAt time.Time
}

// UpsertExchangeRate inserts or updates the rate of the pair from its
// ValidFrom.
func (t *Tx) UpsertExchangeRate(ctx context.Context, r ExchangeRate) (Upsert, error) {
	from, to := strings.ToUpper(r.From), strings.ToUpper(r.To)
	key := fmt.Sprintf("%s/%s/%s", from, to, r.ValidFrom)
	switch {
	case len(from) != 3 || len(to) != 3:
		return 0, fmt.Errorf("upserting exchange rate %s: %w: from and to are ISO 4217 codes", key, ErrInvalid)
	case from == to:
		return 0, fmt.Errorf("upserting exchange rate %s: %w: from and to are the same currency", key, ErrInvalid)
	case !r.Rate.IsPos():
		return 0, fmt.Errorf("upserting exchange rate %s: %w: the rate %s is not positive", key, ErrInvalid, r.Rate)
	}
	u, err := t.upsertRow(ctx, "exchange_rates", []string{"from_currency", "to_currency", "valid_from"},
		[]any{from, to, r.ValidFrom.String()}, []string{"rate"}, []any{r.Rate.String()})
	if err != nil {
		return 0, fmt.Errorf("upserting exchange rate %s: %w", key, err)
	}
	return u, nil
}

// ExchangeRate returns the rate from one currency to another in force on
// the date (the latest valid_from not after it), or ErrNotFound.
func (t *Tx) ExchangeRate(ctx context.Context, from, to string, on order.Date) (ExchangeRate, error) {
	return exchangeRate(ctx, t.tx, from, to, on)
}

// ExchangeRate is Tx.ExchangeRate over committed data.
func (s *Store) ExchangeRate(ctx context.Context, from, to string, on order.Date) (ExchangeRate, error) {
	return readValue(ctx, s, func(q querier) (ExchangeRate, error) { return exchangeRate(ctx, q, from, to, on) })
}

func exchangeRate(ctx context.Context, q querier, from, to string, on order.Date) (ExchangeRate, error) {
	r := ExchangeRate{From: strings.ToUpper(from), To: strings.ToUpper(to)}
	what := fmt.Sprintf("reading the exchange rate from %s to %s on %s", r.From, r.To, on)
	if on.IsZero() {
		return ExchangeRate{}, fmt.Errorf("%s: %w: no date", what, ErrInvalid)
	}
	var validFrom, rate string
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT valid_from, rate, updated_at FROM exchange_rates
		WHERE from_currency = ? AND to_currency = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1`,
		r.From, r.To, on.String()).Scan(&validFrom, &rate, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return ExchangeRate{}, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return ExchangeRate{}, fmt.Errorf("%s: %w", what, err)
	}
	if r.ValidFrom, err = parseDateColumn(validFrom, "valid_from"); err != nil {
		return ExchangeRate{}, fmt.Errorf("%s: %w", what, err)
	}
	if r.Rate, err = decimal.Parse(rate); err != nil {
		return ExchangeRate{}, fmt.Errorf("%s: rate %q: %w", what, rate, err)
	}
	r.UpdatedAt = fromNanos(updated)
	return r, nil
}
