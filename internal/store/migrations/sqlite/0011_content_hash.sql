-- 0011_content_hash: the business content hash of each order as
-- received and resolved, before the rules change it (a price corrected
-- to the contract, a quantity rounded to the pack): the duplicate rule
-- compares a new order with its earlier ones in this same state. Empty
-- for orders stored before (the decide stage then hashes the stored
-- order).
ALTER TABLE orders ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
