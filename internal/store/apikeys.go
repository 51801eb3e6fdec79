package store

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/channels/webapi"
)

// ErrRevoked: the API key was revoked.
var ErrRevoked = errors.New("store: API key revoked")

// API key token layout: "ogk_" + prefix + "_" + secret, where prefix is 5
// random bytes and secret 32 random bytes, both lower-case base32 without
// padding. The prefix is not secret: it finds the row and may be shown
// and logged; the whole token is the secret.
const (
	apiKeyScheme    = "ogk_"
	apiKeyPrefixLen = 8  // base32 of 5 bytes
	apiKeySecretLen = 52 // base32 of 32 bytes
	apiKeyTokenLen  = len(apiKeyScheme) + apiKeyPrefixLen + 1 + apiKeySecretLen
)

// APIKeyTouchInterval is how stale an API key's recorded last use may
// get: LookupAPIKey writes last_used_at only when the recorded one is
// older, so a busy key costs one write a minute, not one per request.
const APIKeyTouchInterval = time.Minute

var apiKeyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// APIKey is a customer API key as stored: never its token.
type APIKey struct {
	ID         string // "key_" + ULID
	CustomerID string
	Prefix     string // "ogk_" + the token's non-secret prefix, for display
	Scopes     []string
	CreatedAt  time.Time
	RevokedAt  time.Time // zero while the key is valid
	LastUsedAt time.Time // zero until first used; updated at most every APIKeyTouchInterval
}

// Revoked reports whether the key was revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

const apiKeyColumns = `id, customer_id, prefix, sha256, scopes, created_at, revoked_at, last_used_at`

func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, string, error) {
	var k APIKey
	var sum, scopes string
	var created int64
	var revoked, used sql.NullInt64
	if err := row.Scan(&k.ID, &k.CustomerID, &k.Prefix, &sum, &scopes, &created, &revoked, &used); err != nil {
		return APIKey{}, "", err
	}
	k.Prefix = apiKeyScheme + k.Prefix
	k.Scopes = strings.Fields(scopes)
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = fromNanos(created), fromNullNanos(revoked), fromNullNanos(used)
	return k, sum, nil
}

// CreateAPIKey makes a new key for the customer with the given scopes
// (such as webapi.ScopeOrdersWrite) and returns it with its token. The
// token is returned only here: the store keeps its SHA-256, so it cannot
// be shown again. A customer id must be 1 to 128 visible ASCII characters
// without ':' (it is part of the web channel's source keys); scopes must
// be non-empty words of [a-z0-9:._-]; both else ErrInvalid.
func (s *Store) CreateAPIKey(ctx context.Context, customerID string, scopes []string) (APIKey, string, error) {
	if err := checkCustomerID(customerID); err != nil {
		return APIKey{}, "", fmt.Errorf("creating API key: %w", err)
	}
	scopes, err := normalizeScopes(scopes)
	if err != nil {
		return APIKey{}, "", fmt.Errorf("creating API key for %s: %w", customerID, err)
	}
	for attempt := 0; ; attempt++ {
		var raw [5 + 32]byte
		if _, err := crand.Read(raw[:]); err != nil {
			return APIKey{}, "", fmt.Errorf("creating API key for %s: %w", customerID, err)
		}
		prefix := apiKeyEncoding.EncodeToString(raw[:5])
		token := apiKeyScheme + prefix + "_" + apiKeyEncoding.EncodeToString(raw[5:])
		now := s.clock()
		k := APIKey{ID: s.newID("key", now), CustomerID: customerID, Prefix: apiKeyScheme + prefix, Scopes: scopes, CreatedAt: now}
		err := s.Write(ctx, func(tx *Tx) error {
			_, err := tx.tx.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)`,
				k.ID, customerID, prefix, hashToken(token), strings.Join(scopes, " "), nanos(now))
			return err
		})
		if isUniqueViolation(err) && attempt < 3 {
			continue // a prefix collision (40 random bits): draw again
		}
		if err != nil {
			return APIKey{}, "", fmt.Errorf("creating API key for %s: %w", customerID, err)
		}
		return k, token, nil
	}
}

// hashToken is the stored form of a token: hex SHA-256. A fast hash is
// right here: the token carries 256 random bits, so there is nothing to
// guess or brute-force, which is what slow password hashes (bcrypt,
// argon2) defend against; they would only add their cost to every request.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// parseToken returns the token's prefix (without the scheme), or false
// when token does not have the shape CreateAPIKey makes.
func parseToken(token string) (string, bool) {
	if len(token) != apiKeyTokenLen || !strings.HasPrefix(token, apiKeyScheme) {
		return "", false
	}
	body := token[len(apiKeyScheme):]
	if body[apiKeyPrefixLen] != '_' {
		return "", false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if i != apiKeyPrefixLen && (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return "", false
		}
	}
	return body[:apiKeyPrefixLen], true
}

// LookupAPIKey returns the key whose token is presented. A token of the
// wrong shape or unknown is ErrNotFound, a revoked one ErrRevoked (the key
// is returned with it). The token's hash is compared in constant time. It
// records the use (LastUsedAt) when the recorded one is older than
// APIKeyTouchInterval; a failure to record it is logged, not returned.
func (s *Store) LookupAPIKey(ctx context.Context, token string) (APIKey, error) {
	prefix, ok := parseToken(token)
	if !ok {
		return APIKey{}, fmt.Errorf("looking up API key: malformed token: %w", ErrNotFound)
	}
	var k APIKey
	var sum string
	err := s.read(ctx, func(q querier) (err error) {
		k, sum, err = scanAPIKey(q.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE prefix = ?`, prefix))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, fmt.Errorf("looking up API key %s%s: %w", apiKeyScheme, prefix, ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("looking up API key %s%s: %w", apiKeyScheme, prefix, err)
	}
	if subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(sum)) != 1 {
		return APIKey{}, fmt.Errorf("looking up API key %s%s: %w", apiKeyScheme, prefix, ErrNotFound)
	}
	if k.Revoked() {
		return k, fmt.Errorf("looking up API key %s: %w", k.ID, ErrRevoked)
	}
	now := s.clock()
	if now.Sub(k.LastUsedAt) >= APIKeyTouchInterval {
		err := s.Write(ctx, func(tx *Tx) error {
			_, err := tx.tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ?
				WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, nanos(now), k.ID, nanos(now))
			return err
		})
		if err != nil {
			s.log.WarnContext(ctx, "store: recording the use of an API key", "key_id", k.ID, "err", err)
		} else {
			k.LastUsedAt = now
		}
	}
	return k, nil
}

// RevokeAPIKey revokes the key with id and returns it. Revoking a revoked
// key keeps the first revocation time. An unknown id is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) (APIKey, error) {
	var k APIKey
	err := s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
			nanos(s.clock()), id); err != nil {
			return err
		}
		var err error
		k, _, err = scanAPIKey(tx.tx.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, fmt.Errorf("revoking API key %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("revoking API key %s: %w", id, err)
	}
	return k, nil
}

// ListAPIKeys returns the keys of a customer ("" for every customer's),
// revoked ones included, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, customerID string) ([]APIKey, error) {
	var out []APIKey
	err := s.read(ctx, func(q querier) error {
		out = out[:0]
		query, args := `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`, []any(nil)
		if customerID != "" {
			query, args = `SELECT `+apiKeyColumns+` FROM api_keys WHERE customer_id = ? ORDER BY created_at, id`, []any{customerID}
		}
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, _, err := scanAPIKey(rows)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing API keys: %w", err)
	}
	return out, nil
}

func checkCustomerID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("%w: customer id must be 1 to 128 characters", ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return fmt.Errorf("%w: customer id %q may hold only visible ASCII characters other than ':'", ErrInvalid, id)
		}
	}
	return nil
}

// normalizeScopes checks scopes and returns them sorted without repeats.
func normalizeScopes(scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return nil, fmt.Errorf("%w: an API key needs at least one scope", ErrInvalid)
	}
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if sc == "" || len(sc) > 64 || strings.IndexFunc(sc, func(c rune) bool {
			return (c < 'a' || c > 'z') && (c < '0' || c > '9') && !strings.ContainsRune(":._-", c)
		}) >= 0 {
			return nil, fmt.Errorf("%w: scope %q is not a word of [a-z0-9:._-]", ErrInvalid, sc)
		}
		out = append(out, sc)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// APIKeys returns the store's API keys as the web channel's key check.
func (s *Store) APIKeys() APIKeys { return APIKeys{s: s} }

// APIKeys authenticates customer API keys for the web channel and the API
// (webapi.Keys).
type APIKeys struct{ s *Store }

var _ webapi.Keys = APIKeys{}

// Lookup implements webapi.Keys: an unknown, malformed or revoked key is
// an error wrapping webapi.ErrInvalidKey.
func (a APIKeys) Lookup(ctx context.Context, presentedKey string) (webapi.KeyInfo, error) {
	k, err := a.s.LookupAPIKey(ctx, presentedKey)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrRevoked) {
		return webapi.KeyInfo{}, fmt.Errorf("%w: %w", webapi.ErrInvalidKey, err)
	}
	if err != nil {
		return webapi.KeyInfo{}, err
	}
	return webapi.KeyInfo{ID: k.ID, CustomerID: k.CustomerID, Scopes: k.Scopes}, nil
}
