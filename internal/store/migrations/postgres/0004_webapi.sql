-- 0004_webapi: customer API keys of the web order intake. A key is a
-- random token shown once; the table keeps its SHA-256 (hex) and a short,
-- non-secret, unique prefix to find the row. scopes is a space-separated
-- list ("orders:read orders:write").
CREATE TABLE api_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,
    customer_id  TEXT COLLATE "C" NOT NULL,
    prefix       TEXT COLLATE "C" NOT NULL UNIQUE,
    sha256       TEXT COLLATE "C" NOT NULL,
    scopes       TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT           NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_keys_customer ON api_keys (customer_id, created_at, id);
