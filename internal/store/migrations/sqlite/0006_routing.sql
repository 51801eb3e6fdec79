-- Routing: each delivery carries the output format its route chose and,
-- for formats other than the canonical JSON, the rendered bytes (rendered
-- once at routing, so every attempt sends the same bytes with the same
-- control numbers).
ALTER TABLE deliveries ADD COLUMN format TEXT NOT NULL DEFAULT 'json';
ALTER TABLE deliveries ADD COLUMN payload BLOB;
CREATE INDEX deliveries_open ON deliveries (order_id, status);
