-- Decisions: the approval state of held orders (the rules' state machine,
-- as JSON, with its audit trail) and the sales reps' tasks made from
-- customers' notes and special requests.
CREATE TABLE approvals (
    order_id   TEXT    PRIMARY KEY REFERENCES orders (id),
    status     TEXT    NOT NULL,            -- pending | approved | rejected
    state      TEXT    NOT NULL,            -- JSON: levels, holds, trail
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX approvals_status ON approvals (status, created_at);

CREATE TABLE tasks (
    id            TEXT    PRIMARY KEY,
    order_id      TEXT    NOT NULL REFERENCES orders (id),
    customer_id   TEXT    NOT NULL DEFAULT '',
    assignee      TEXT    NOT NULL DEFAULT '',  -- the sales rep's name
    email         TEXT    NOT NULL DEFAULT '',
    text          TEXT    NOT NULL,
    wait          INTEGER NOT NULL DEFAULT 0,   -- the order waits for the rep
    status        TEXT    NOT NULL,             -- open | done
    mail_status   TEXT    NOT NULL DEFAULT '',  -- '' (none) | pending | sent | failed
    mail_attempts INTEGER NOT NULL DEFAULT 0,
    mail_error    TEXT    NOT NULL DEFAULT '',
    next_mail_at  INTEGER NOT NULL DEFAULT 0,
    done_by       TEXT    NOT NULL DEFAULT '',
    done_at       INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (order_id, text)
);
CREATE INDEX tasks_open ON tasks (status, created_at);
CREATE INDEX tasks_mail ON tasks (mail_status, next_mail_at);
