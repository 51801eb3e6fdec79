-- Master data: customers and their ship-to addresses, products, prices and
-- the cross-references from a partner's ids and unit codes to ours. Rows
-- are keyed by their natural keys (customer number, SKU, ...) because the
-- ERP export that feeds them knows nothing of our ids. Decimals are TEXT in
-- canonical form (govalues/decimal String, trailing zeros of quantities
-- trimmed so that a key compares equal); money is a decimal and a currency
-- (ISO 4217). Dates are TEXT YYYY-MM-DD, '' for "open". search_* columns
-- are lower-case (phone: digits only) copies for prefix search.

CREATE TABLE customers (
    number          TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    phone           TEXT    NOT NULL DEFAULT '',
    email           TEXT    NOT NULL DEFAULT '',
    currency        TEXT    NOT NULL,
    credit_limit    TEXT    NOT NULL DEFAULT '',
    open_balance    TEXT    NOT NULL DEFAULT '0',
    payment_terms   TEXT    NOT NULL DEFAULT '',
    blocked         INTEGER NOT NULL DEFAULT 0,
    price_list      TEXT    NOT NULL DEFAULT '',
    sales_rep       TEXT    NOT NULL DEFAULT '',
    sales_rep_email TEXT    NOT NULL DEFAULT '',
    search_number   TEXT    NOT NULL,
    search_name     TEXT    NOT NULL,
    search_phone    TEXT    NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL
);
CREATE INDEX customers_search_number ON customers (search_number);
CREATE INDEX customers_search_name ON customers (search_name);
CREATE INDEX customers_search_phone ON customers (search_phone) WHERE search_phone <> '';

CREATE TABLE ship_tos (
    customer_number TEXT    NOT NULL REFERENCES customers (number),
    code            TEXT    NOT NULL,
    name            TEXT    NOT NULL DEFAULT '',
    street          TEXT    NOT NULL DEFAULT '',
    city            TEXT    NOT NULL DEFAULT '',
    region          TEXT    NOT NULL DEFAULT '',
    postal_code     TEXT    NOT NULL DEFAULT '',
    country         TEXT    NOT NULL DEFAULT '',
    gln             TEXT    NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (customer_number, code)
);
CREATE INDEX ship_tos_gln ON ship_tos (gln) WHERE gln <> '';

-- pack_units: "CA=12;PL=480", the units a product is sold in besides its
-- base unit, each with how many base units it holds, sorted by unit.
CREATE TABLE products (
    sku                TEXT    PRIMARY KEY,
    gtin               TEXT    NOT NULL DEFAULT '',
    gtin14             TEXT    NOT NULL DEFAULT '',
    description        TEXT    NOT NULL,
    base_unit          TEXT    NOT NULL,
    pack_units         TEXT    NOT NULL DEFAULT '',
    min_order_qty      TEXT    NOT NULL DEFAULT '',
    search_sku         TEXT    NOT NULL,
    search_description TEXT    NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX products_gtin14 ON products (gtin14) WHERE gtin14 <> '';
CREATE INDEX products_search_sku ON products (search_sku);
CREATE INDEX products_search_description ON products (search_description);

-- A price row is a contract price (customer_number set), a price list's
-- price (price_list set) or the standard list price (both ''). min_qty is
-- the quantity break (in the product's base unit) from which it applies.
CREATE TABLE prices (
    customer_number TEXT    NOT NULL DEFAULT '',
    price_list      TEXT    NOT NULL DEFAULT '',
    sku             TEXT    NOT NULL REFERENCES products (sku),
    min_qty         TEXT    NOT NULL,
    valid_from      TEXT    NOT NULL DEFAULT '',
    valid_to        TEXT    NOT NULL DEFAULT '',
    price           TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (customer_number, price_list, sku, min_qty, valid_from),
    CHECK (customer_number = '' OR price_list = '')
);
CREATE INDEX prices_sku ON prices (sku, customer_number, price_list);

-- partner_id '' applies to every partner; scheme '' to every id scheme.
CREATE TABLE party_xrefs (
    partner_id      TEXT    NOT NULL,
    scheme          TEXT    NOT NULL,
    party_id        TEXT    NOT NULL,
    customer_number TEXT    NOT NULL REFERENCES customers (number),
    ship_to_code    TEXT    NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (partner_id, scheme, party_id)
);
CREATE INDEX party_xrefs_party ON party_xrefs (party_id);

CREATE TABLE item_xrefs (
    partner_id   TEXT    NOT NULL,
    partner_item TEXT    NOT NULL,
    sku          TEXT    NOT NULL REFERENCES products (sku),
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (partner_id, partner_item)
);
CREATE INDEX item_xrefs_item ON item_xrefs (partner_item);

CREATE TABLE unit_xrefs (
    partner_id   TEXT    NOT NULL,
    partner_unit TEXT    NOT NULL,
    unit         TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (partner_id, partner_unit)
);
