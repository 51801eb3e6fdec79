-- 0011_content_hash_rates: the business content hash of each order as
-- received and resolved, before the rules change it (a price corrected
-- to the contract, a quantity rounded to the pack): the duplicate rule
-- compares a new order with its earlier ones in this same state. Empty
-- for orders stored before (the decide stage then hashes the stored
-- order).
ALTER TABLE orders ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';

-- Exchange rates (master data kind "rates"): one unit of from_currency is
-- rate units of to_currency from valid_from ('' for always) until the
-- next row of the pair. The credit rule converts an order and the open
-- orders into the customer's currency with them.
CREATE TABLE exchange_rates (
    from_currency TEXT COLLATE "C" NOT NULL,
    to_currency   TEXT COLLATE "C" NOT NULL,
    valid_from    TEXT COLLATE "C" NOT NULL DEFAULT '',
    rate          TEXT COLLATE "C" NOT NULL,
    updated_at    BIGINT           NOT NULL,
    PRIMARY KEY (from_currency, to_currency, valid_from)
);

-- The approval roles a user decides held orders in (the rules' roles:
-- approver, sales-manager, finance, sales-rep, ...), comma-separated;
-- '' for none. The UI role (admin, approver, desk) says which screens a
-- user sees; these say which holds the user may clear.
ALTER TABLE users ADD COLUMN approval_roles TEXT NOT NULL DEFAULT '';
-- Before this, an approver decided the holds of the rules' role
-- "approver": they keep it.
UPDATE users SET approval_roles = 'approver' WHERE role = 'approver';
