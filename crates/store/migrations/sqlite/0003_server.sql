-- Server state (v3): API clients, document-class policy, audit chain, one-time downloads,
-- outbox and one-time codes. Every piece of state several server processes share.
CREATE TABLE IF NOT EXISTS api_clients (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    secret_sha256  TEXT    NOT NULL,
    allow_ips      TEXT    NOT NULL DEFAULT '',
    default_class  TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS doc_classes (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    rule        TEXT NOT NULL CHECK (rule IN ('allowed', 'forbidden', 'required')),
    positions   TEXT NOT NULL DEFAULT '',
    regulation  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
    seq              INTEGER PRIMARY KEY,
    at_micros        INTEGER NOT NULL,
    action           TEXT    NOT NULL,
    actor            TEXT    NOT NULL,
    client           TEXT,
    document_sha256  TEXT,
    result           TEXT    NOT NULL,
    detail           TEXT    NOT NULL,
    prev_hash        TEXT    NOT NULL,
    hash             TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000')
ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS audit_anchors (
    seq        INTEGER PRIMARY KEY,
    hash       TEXT    NOT NULL,
    token_der  BLOB    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS downloads (
    id          TEXT    PRIMARY KEY,
    blob_key    TEXT    NOT NULL,
    client      TEXT,
    expires_at  INTEGER NOT NULL,
    taken_at    INTEGER
);
CREATE TABLE IF NOT EXISTS outbox (
    id         INTEGER PRIMARY KEY,
    recipient  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_recipient ON outbox(recipient);
CREATE TABLE IF NOT EXISTS one_time_codes (
    id           INTEGER PRIMARY KEY,
    official_id  INTEGER NOT NULL REFERENCES officials(id),
    code_sha256  TEXT    NOT NULL,
    uses_left    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS one_time_codes_official ON one_time_codes(official_id);
CREATE INDEX IF NOT EXISTS officials_email ON officials(email);
