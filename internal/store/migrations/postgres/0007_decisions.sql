-- Decisions: the approval state of held orders (the rules' state machine,
-- as JSON, with its audit trail) and the sales reps' tasks made from
-- customers' notes and special requests.
CREATE TABLE approvals (
    order_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES orders (id),
    status     TEXT COLLATE "C" NOT NULL,            -- pending | approved | rejected
    state      TEXT COLLATE "C" NOT NULL,            -- JSON: levels, holds, trail
    created_at BIGINT           NOT NULL,
    updated_at BIGINT           NOT NULL
);
CREATE INDEX approvals_status ON approvals (status, created_at);

CREATE TABLE tasks (
    id            TEXT COLLATE "C" PRIMARY KEY,
    order_id      TEXT COLLATE "C" NOT NULL REFERENCES orders (id),
    customer_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
    assignee      TEXT COLLATE "C" NOT NULL DEFAULT '',  -- the sales rep's name
    email         TEXT COLLATE "C" NOT NULL DEFAULT '',
    text          TEXT COLLATE "C" NOT NULL,
    wait          BIGINT           NOT NULL DEFAULT 0,   -- the order waits for the rep
    status        TEXT COLLATE "C" NOT NULL,             -- open | done
    mail_status   TEXT COLLATE "C" NOT NULL DEFAULT '',  -- '' (none) | pending | sent | failed
    mail_attempts BIGINT           NOT NULL DEFAULT 0,
    mail_error    TEXT COLLATE "C" NOT NULL DEFAULT '',
    next_mail_at  BIGINT           NOT NULL DEFAULT 0,
    done_by       TEXT COLLATE "C" NOT NULL DEFAULT '',
    done_at       BIGINT           NOT NULL DEFAULT 0,
    created_at    BIGINT           NOT NULL,
    updated_at    BIGINT           NOT NULL,
    UNIQUE (order_id, text)
);
CREATE INDEX tasks_open ON tasks (status, created_at);
CREATE INDEX tasks_mail ON tasks (mail_status, next_mail_at);
