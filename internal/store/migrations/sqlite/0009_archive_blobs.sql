-- 0009_archive_blobs: the archive in the database (Options.ArchiveInDB),
-- for gateway nodes that share a database but no file system. The
-- store uses it on PostgreSQL only; SQLite keeps the table, empty, so
-- that both drivers have the same migrations.
CREATE TABLE archive_blobs (
    sha256     TEXT    PRIMARY KEY,  -- 64 lower-case hex digits
    size       INTEGER NOT NULL,
    body       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
