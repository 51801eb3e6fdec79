-- 0004_webapi: customer API keys of the web order intake. A key is a
-- random token shown once; the table keeps its SHA-256 (hex) and a short,
-- non-secret, unique prefix to find the row. scopes is a space-separated
-- list ("orders:read orders:write").
CREATE TABLE api_keys (
    id           TEXT    PRIMARY KEY,
    customer_id  TEXT    NOT NULL,
    prefix       TEXT    NOT NULL UNIQUE,
    sha256       TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_keys_customer ON api_keys (customer_id, created_at, id);
