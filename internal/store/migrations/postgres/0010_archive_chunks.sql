-- 0010_archive_chunks: content of any size in the database archive:
-- archive_blobs keeps the size and the first chunk (store.BlobChunk
-- bytes), and archive_chunks the following chunks in order (seq 1, 2,
-- ...), so the store streams a large document through about one chunk
-- of memory. Rows written before keep their whole content in body,
-- which the store reads the same way (a first chunk as long as the
-- content).
ALTER TABLE archive_blobs DROP CONSTRAINT archive_blobs_check;
ALTER TABLE archive_blobs ADD CHECK (octet_length(body) <= size);
CREATE TABLE archive_chunks (
    sha256 TEXT COLLATE "C" NOT NULL,
    seq    INTEGER NOT NULL CHECK (seq >= 1),
    data   BYTEA   NOT NULL,
    PRIMARY KEY (sha256, seq)
);
ALTER TABLE archive_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
-- PruneArchive looks for content no row refers to: acks that keep their
-- bytes in the archive (body IS NULL) are found by hash.
CREATE INDEX acks_archived ON acks (sha256) WHERE body IS NULL;
