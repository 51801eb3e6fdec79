-- Acknowledgements are small: their bytes may be kept in the row, so the
-- parse stage does not fsync an archive file per ack while it holds the
-- write lock.
ALTER TABLE acks ADD COLUMN body BYTEA;
