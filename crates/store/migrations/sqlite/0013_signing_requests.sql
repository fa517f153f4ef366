-- v13 (applied once): signing requests filed by applications for an official, their documents,
-- and the webhook events about them (an outbox: written with the state change, delivered by
-- the server, retried with backoff). The client's webhook secret is sealed under the master key
-- (it must be usable to compute signatures, so it cannot be a hash).
ALTER TABLE api_clients ADD COLUMN webhook_secret_sealed TEXT;
CREATE TABLE signing_requests (
    id             TEXT    PRIMARY KEY,
    client_id      INTEGER NOT NULL REFERENCES api_clients(id),
    official_id    INTEGER NOT NULL REFERENCES officials(id),
    class          TEXT    NOT NULL,
    options_json   TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    due_at         INTEGER,
    callback_url   TEXT,
    status         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    opened_at      INTEGER,
    read_at        INTEGER,
    decided_at     INTEGER,
    reason         TEXT
);
CREATE INDEX signing_requests_official ON signing_requests (official_id, status);
CREATE INDEX signing_requests_client ON signing_requests (client_id);
CREATE TABLE signing_request_documents (
    request_id          TEXT    NOT NULL REFERENCES signing_requests(id),
    idx                 INTEGER NOT NULL,
    file_name           TEXT    NOT NULL,
    blob_key            TEXT    NOT NULL,
    sha256              TEXT    NOT NULL,
    size                INTEGER NOT NULL,
    signed_document_id  TEXT,
    signed_blob_key     TEXT,
    PRIMARY KEY (request_id, idx)
);
CREATE TABLE webhook_events (
    id              INTEGER PRIMARY KEY,
    client_id       INTEGER NOT NULL REFERENCES api_clients(id),
    request_id      TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    delivered_at    INTEGER,
    given_up_at     INTEGER,
    last_status     INTEGER,
    last_error      TEXT
);
CREATE INDEX webhook_events_due ON webhook_events (delivered_at, given_up_at, next_attempt_at);
CREATE INDEX webhook_events_client ON webhook_events (client_id, id);
