package store

import (
	"context"
	"errors"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

// TestExchangeRates: the rate in force on a date is the pair's latest
// valid_from not after it; a rate is for one direction; an upsert of the
// same rate changes nothing; bad rates are refused.
func TestExchangeRates(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, newFakeClock())
		ctx := context.Background()
		day := func(s string) order.Date {
			d, err := order.ParseDate(s)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		rates := []ExchangeRate{
			{From: "USD", To: "EUR", Rate: decimal.MustParse("0.90")},
			{From: "usd", To: "eur", ValidFrom: day("2026-07-01"), Rate: decimal.MustParse("0.92")},
			{From: "USD", To: "EUR", ValidFrom: day("2026-12-01"), Rate: decimal.MustParse("0.95")},
		}
		err := s.Write(ctx, func(tx *Tx) error {
			for _, r := range rates {
				if u, err := tx.UpsertExchangeRate(ctx, r); err != nil || u != Inserted {
					t.Errorf("upsert %+v: %v, %v; want inserted", r, u, err)
				}
			}
			if u, err := tx.UpsertExchangeRate(ctx, rates[1]); err != nil || u != Unchanged {
				t.Errorf("upsert again: %v, %v; want unchanged", u, err)
			}
			for _, bad := range []ExchangeRate{
				{From: "USD", To: "USD", Rate: decimal.One},
				{From: "USD", To: "EUR", Rate: decimal.Zero},
				{From: "US", To: "EUR", Rate: decimal.One},
			} {
				if _, err := tx.UpsertExchangeRate(ctx, bad); !errors.Is(err, ErrInvalid) {
					t.Errorf("upsert %+v: %v, want ErrInvalid", bad, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ on, want string }{
			{"2026-01-15", "0.90"}, {"2026-07-01", "0.92"}, {"2026-11-30", "0.92"}, {"2026-12-01", "0.95"},
		} {
			r, err := s.ExchangeRate(ctx, "USD", "EUR", day(tt.on))
			if err != nil || r.Rate.String() != tt.want {
				t.Errorf("USD->EUR on %s: got %v, %v; want %s", tt.on, r.Rate, err, tt.want)
			}
		}
		if _, err := s.ExchangeRate(ctx, "EUR", "USD", day("2026-11-30")); !errors.Is(err, ErrNotFound) {
			t.Errorf("EUR->USD: %v, want ErrNotFound (a rate is for one direction)", err)
		}
	})
}
