-- Checkpoints: where a channel left off (an IMAP mailbox's UIDVALIDITY and
-- last UID), so a restart does not scan everything again.
CREATE TABLE checkpoints (
    key        TEXT COLLATE "C" PRIMARY KEY,
    value      TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT           NOT NULL
);
