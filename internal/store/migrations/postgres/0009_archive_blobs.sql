-- 0009_archive_blobs: the archive in the database (Options.ArchiveInDB),
-- for gateway nodes that share a database but no file system. The
-- bodies are stored EXTERNAL (uncompressed: the gateway's documents are
-- small, and EDI compresses poorly enough that the CPU is better spent
-- elsewhere).
CREATE TABLE archive_blobs (
    sha256     TEXT COLLATE "C" PRIMARY KEY CHECK (length(sha256) = 64),
    size       BIGINT NOT NULL CHECK (size >= 0),
    body       BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK (octet_length(body) = size)
);
