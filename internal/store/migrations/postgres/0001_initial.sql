-- The initial schema, PostgreSQL's version of migrations/sqlite: the
-- same tables, columns, keys and indexes. Times are BIGINT unix
-- nanoseconds UTC; calendar dates are TEXT YYYY-MM-DD; decimals are TEXT
-- as the sender wrote them; JSON is TEXT (the canonical bytes, not
-- jsonb). Text compares bytewise (COLLATE "C", SQLite's BINARY), so
-- ordering and prefix ranges do not depend on the database's locale.
-- Flags stay integers (0/1) as in SQLite. Absent text is '' rather than
-- NULL, except where NULL means "none" for a reference or a time.

CREATE TABLE documents (
    id           TEXT COLLATE "C" PRIMARY KEY,
    channel      TEXT COLLATE "C" NOT NULL,
    source_key   TEXT COLLATE "C" NOT NULL,
    sha256       TEXT COLLATE "C" NOT NULL,
    size         BIGINT           NOT NULL,
    filename     TEXT COLLATE "C" NOT NULL DEFAULT '',
    content_type TEXT COLLATE "C" NOT NULL DEFAULT '',
    received_at  BIGINT           NOT NULL,
    partner_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
    standard     TEXT COLLATE "C" NOT NULL DEFAULT '',
    status       TEXT COLLATE "C" NOT NULL,
    error        TEXT COLLATE "C" NOT NULL DEFAULT '',
    metadata     TEXT COLLATE "C",
    updated_at   BIGINT           NOT NULL,
    UNIQUE (channel, source_key)
);
CREATE INDEX documents_received_at ON documents (received_at, id);
CREATE INDEX documents_status ON documents (status, received_at, id);
CREATE INDEX documents_partner ON documents (partner_id, received_at, id);
CREATE INDEX documents_sha256 ON documents (sha256);

CREATE TABLE orders (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    document_id        TEXT COLLATE "C" NOT NULL REFERENCES documents (id),
    message_index      BIGINT           NOT NULL,
    revision           BIGINT           NOT NULL,
    status             TEXT COLLATE "C" NOT NULL,
    channel            TEXT COLLATE "C" NOT NULL,
    partner_id         TEXT COLLATE "C" NOT NULL DEFAULT '',
    customer_id        TEXT COLLATE "C" NOT NULL DEFAULT '',
    po_number          TEXT COLLATE "C" NOT NULL DEFAULT '',
    purpose            TEXT COLLATE "C" NOT NULL DEFAULT '',
    po_date            TEXT COLLATE "C" NOT NULL DEFAULT '',
    requested_delivery TEXT COLLATE "C" NOT NULL DEFAULT '',
    currency           TEXT COLLATE "C" NOT NULL DEFAULT '',
    total              TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at         BIGINT           NOT NULL,
    updated_at         BIGINT           NOT NULL,
    canonical          TEXT COLLATE "C" NOT NULL,
    UNIQUE (document_id, message_index)
);
CREATE INDEX orders_created_at ON orders (created_at, id);
CREATE INDEX orders_status ON orders (status, created_at, id);
CREATE INDEX orders_channel ON orders (channel, created_at, id);
CREATE INDEX orders_partner ON orders (partner_id, created_at, id);
CREATE INDEX orders_customer ON orders (customer_id, created_at, id);
CREATE INDEX orders_po_number ON orders (po_number, created_at, id);

CREATE TABLE order_events (
    id          TEXT COLLATE "C" PRIMARY KEY,
    order_id    TEXT COLLATE "C" REFERENCES orders (id),
    document_id TEXT COLLATE "C" REFERENCES documents (id),
    at          BIGINT           NOT NULL,
    actor       TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,
    reason      TEXT COLLATE "C" NOT NULL DEFAULT '',
    data        TEXT COLLATE "C",
    CHECK (order_id IS NOT NULL OR document_id IS NOT NULL)
);
CREATE INDEX order_events_order ON order_events (order_id, at, id);
CREATE INDEX order_events_document ON order_events (document_id, at, id);
CREATE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'order_events is append-only';
END;
$$;
CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_append_only();
CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_append_only();
CREATE TRIGGER order_events_no_truncate BEFORE TRUNCATE ON order_events
    FOR EACH STATEMENT EXECUTE FUNCTION order_events_append_only();

-- Loose references (no foreign keys): a key may outlive the retention of
-- the document that first claimed it.
CREATE TABLE duplicate_keys (
    layer             TEXT COLLATE "C" NOT NULL,
    key               TEXT COLLATE "C" NOT NULL,
    first_document_id TEXT COLLATE "C" NOT NULL DEFAULT '',
    first_order_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at        BIGINT           NOT NULL,
    expires_at        BIGINT,
    PRIMARY KEY (layer, key)
);
CREATE INDEX duplicate_keys_expires_at ON duplicate_keys (expires_at);

CREATE TABLE acks (
    id              TEXT COLLATE "C" PRIMARY KEY,
    document_id     TEXT COLLATE "C" NOT NULL REFERENCES documents (id),
    partner_id      TEXT COLLATE "C" NOT NULL DEFAULT '',
    kind            TEXT COLLATE "C" NOT NULL,
    sha256          TEXT COLLATE "C" NOT NULL,
    destination     TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    attempts        BIGINT           NOT NULL DEFAULT 0,
    next_attempt_at BIGINT           NOT NULL,
    created_at      BIGINT           NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT COLLATE "C" NOT NULL DEFAULT '',
    UNIQUE (document_id, kind)
);
CREATE INDEX acks_due ON acks (status, next_attempt_at, id);

CREATE TABLE control_numbers (
    partner_id TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    last_value BIGINT           NOT NULL,
    PRIMARY KEY (partner_id, kind)
);

CREATE TABLE deliveries (
    id              TEXT COLLATE "C" PRIMARY KEY,
    order_id        TEXT COLLATE "C" NOT NULL REFERENCES orders (id),
    order_revision  BIGINT           NOT NULL,
    route           TEXT COLLATE "C" NOT NULL,
    backend         TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    attempts        BIGINT           NOT NULL DEFAULT 0,
    next_attempt_at BIGINT           NOT NULL,
    last_error      TEXT COLLATE "C" NOT NULL DEFAULT '',
    receipt         TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at      BIGINT           NOT NULL,
    updated_at      BIGINT           NOT NULL,
    UNIQUE (order_id, backend, order_revision)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at, id);
CREATE INDEX deliveries_order ON deliveries (order_id);

CREATE TABLE quarantine (
    id           TEXT COLLATE "C" PRIMARY KEY,
    topic        TEXT COLLATE "C" NOT NULL,
    message_uuid TEXT COLLATE "C" NOT NULL,
    payload      BYTEA            NOT NULL,
    metadata     TEXT COLLATE "C",
    error        TEXT COLLATE "C" NOT NULL,
    at           BIGINT           NOT NULL,
    UNIQUE (topic, message_uuid)
);
CREATE INDEX quarantine_at ON quarantine (at, id);
