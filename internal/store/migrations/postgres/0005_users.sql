-- 0005_users: operator UI users, their sessions, the append-only audit
-- log and the login throttling counters.

-- SQLite's NOCASE: user names compare case-insensitively (an ICU
-- collation at strength 2: case ignored, accents not).
CREATE COLLATION ordergate_nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT COLLATE ordergate_nocase NOT NULL UNIQUE,
    password_hash TEXT COLLATE "C" NOT NULL,
    role          TEXT COLLATE "C" NOT NULL CHECK (role IN ('admin', 'approver', 'desk')),
    disabled      BIGINT           NOT NULL DEFAULT 0,
    created_at    BIGINT           NOT NULL,
    updated_at    BIGINT           NOT NULL
);

-- A session's id is 32 random bytes held by the browser; only its SHA-256
-- is stored, so a copy of the database does not hand out sessions.
CREATE TABLE sessions (
    id_hash    BYTEA            PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT           NOT NULL,
    last_seen  BIGINT           NOT NULL,
    expires_at BIGINT           NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- hash = SHA-256(prev_hash || the row's fields), so a changed, removed or
-- inserted row breaks the chain (Store.VerifyAudit).
CREATE TABLE audit_log (
    id        BIGINT           PRIMARY KEY,
    at        BIGINT           NOT NULL,
    actor     TEXT COLLATE "C" NOT NULL,
    action    TEXT COLLATE "C" NOT NULL,
    object    TEXT COLLATE "C" NOT NULL DEFAULT '',
    detail    TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    prev_hash TEXT COLLATE "C" NOT NULL,
    hash      TEXT COLLATE "C" NOT NULL UNIQUE
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Failed logins per key ("user:NAME", "ip:ADDR") since the last success.
CREATE TABLE login_attempts (
    key           TEXT COLLATE "C" PRIMARY KEY,
    failures      BIGINT           NOT NULL,
    first_failure BIGINT           NOT NULL,
    last_failure  BIGINT           NOT NULL
);
