-- Checkpoints: where a channel left off (an IMAP mailbox's UIDVALIDITY and
-- last UID), so a restart does not scan everything again.
CREATE TABLE checkpoints (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
