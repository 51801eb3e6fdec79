-- The initial schema. Times are INTEGER unix nanoseconds UTC; calendar
-- dates are TEXT YYYY-MM-DD; decimals are TEXT as the sender wrote them;
-- JSON is TEXT. Absent text is '' rather than NULL, except where NULL
-- means "none" for a reference or a time.

CREATE TABLE documents (
    id           TEXT    PRIMARY KEY,
    channel      TEXT    NOT NULL,
    source_key   TEXT    NOT NULL,
    sha256       TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    filename     TEXT    NOT NULL DEFAULT '',
    content_type TEXT    NOT NULL DEFAULT '',
    received_at  INTEGER NOT NULL,
    partner_id   TEXT    NOT NULL DEFAULT '',
    standard     TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL,
    error        TEXT    NOT NULL DEFAULT '',
    metadata     TEXT,
    updated_at   INTEGER NOT NULL,
    UNIQUE (channel, source_key)
);
CREATE INDEX documents_received_at ON documents (received_at, id);
CREATE INDEX documents_status ON documents (status, received_at, id);
CREATE INDEX documents_partner ON documents (partner_id, received_at, id);
CREATE INDEX documents_sha256 ON documents (sha256);

CREATE TABLE orders (
    id                 TEXT    PRIMARY KEY,
    document_id        TEXT    NOT NULL REFERENCES documents (id),
    message_index      INTEGER NOT NULL,
    revision           INTEGER NOT NULL,
    status             TEXT    NOT NULL,
    channel            TEXT    NOT NULL,
    partner_id         TEXT    NOT NULL DEFAULT '',
    customer_id        TEXT    NOT NULL DEFAULT '',
    po_number          TEXT    NOT NULL DEFAULT '',
    purpose            TEXT    NOT NULL DEFAULT '',
    po_date            TEXT    NOT NULL DEFAULT '',
    requested_delivery TEXT    NOT NULL DEFAULT '',
    currency           TEXT    NOT NULL DEFAULT '',
    total              TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    canonical          TEXT    NOT NULL,
    UNIQUE (document_id, message_index)
);
CREATE INDEX orders_created_at ON orders (created_at, id);
CREATE INDEX orders_status ON orders (status, created_at, id);
CREATE INDEX orders_channel ON orders (channel, created_at, id);
CREATE INDEX orders_partner ON orders (partner_id, created_at, id);
CREATE INDEX orders_customer ON orders (customer_id, created_at, id);
CREATE INDEX orders_po_number ON orders (po_number, created_at, id);

CREATE TABLE order_events (
    id          TEXT    PRIMARY KEY,
    order_id    TEXT    REFERENCES orders (id),
    document_id TEXT    REFERENCES documents (id),
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    data        TEXT,
    CHECK (order_id IS NOT NULL OR document_id IS NOT NULL)
);
CREATE INDEX order_events_order ON order_events (order_id, at, id);
CREATE INDEX order_events_document ON order_events (document_id, at, id);
CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'order_events is append-only');
END;
CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'order_events is append-only');
END;

-- Loose references (no foreign keys): a key may outlive the retention of
-- the document that first claimed it.
CREATE TABLE duplicate_keys (
    layer             TEXT    NOT NULL,
    key               TEXT    NOT NULL,
    first_document_id TEXT    NOT NULL DEFAULT '',
    first_order_id    TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    PRIMARY KEY (layer, key)
);
CREATE INDEX duplicate_keys_expires_at ON duplicate_keys (expires_at);

CREATE TABLE acks (
    id              TEXT    PRIMARY KEY,
    document_id     TEXT    NOT NULL REFERENCES documents (id),
    partner_id      TEXT    NOT NULL DEFAULT '',
    kind            TEXT    NOT NULL,
    sha256          TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    UNIQUE (document_id, kind)
);
CREATE INDEX acks_due ON acks (status, next_attempt_at, id);

CREATE TABLE control_numbers (
    partner_id TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    last_value INTEGER NOT NULL,
    PRIMARY KEY (partner_id, kind)
);

CREATE TABLE deliveries (
    id              TEXT    PRIMARY KEY,
    order_id        TEXT    NOT NULL REFERENCES orders (id),
    order_revision  INTEGER NOT NULL,
    route           TEXT    NOT NULL,
    backend         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    receipt         TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (order_id, backend, order_revision)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at, id);
CREATE INDEX deliveries_order ON deliveries (order_id);

CREATE TABLE quarantine (
    id           TEXT    PRIMARY KEY,
    topic        TEXT    NOT NULL,
    message_uuid TEXT    NOT NULL,
    payload      BLOB    NOT NULL,
    metadata     TEXT,
    error        TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    UNIQUE (topic, message_uuid)
);
CREATE INDEX quarantine_at ON quarantine (at, id);
