-- 0012_product_attributes: facts about a product that routes decide on
-- (order.lines[i].attributes in a route's when: hazmat, temperature,
-- warehouse, ...), "key=value;key=value" sorted by key, keys
-- [a-z0-9_]+, values without ';'. '' for none.
ALTER TABLE products ADD COLUMN attributes TEXT NOT NULL DEFAULT '';
