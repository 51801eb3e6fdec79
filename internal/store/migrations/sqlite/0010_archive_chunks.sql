-- 0010_archive_chunks: the archive in the database (Options.ArchiveInDB)
-- on SQLite too, and content of any size on both drivers: archive_blobs
-- keeps the size and the first chunk (store.BlobChunk bytes), and
-- archive_chunks the following chunks in order (seq 1, 2, ...), so the
-- store streams a large document through about one chunk of memory.
-- On SQLite, intake writes them in its own transaction: the WAL commit
-- is the archive's only fsync.
CREATE TABLE archive_chunks (
    sha256 TEXT    NOT NULL,  -- archive_blobs.sha256
    seq    INTEGER NOT NULL CHECK (seq >= 1),
    data   BLOB    NOT NULL,
    PRIMARY KEY (sha256, seq)
);
-- PruneArchive looks for content no row refers to: acks that keep their
-- bytes in the archive (body IS NULL) are found by hash.
CREATE INDEX acks_archived ON acks (sha256) WHERE body IS NULL;
