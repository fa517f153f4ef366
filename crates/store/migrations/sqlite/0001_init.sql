-- Sahih schema v1 (SQLite). Times are Unix seconds, UTC.
CREATE TABLE IF NOT EXISTS ca (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('root', 'issuing')),
    generation  INTEGER NOT NULL,
    cert_der    BLOB    NOT NULL,
    sealed_key  TEXT    NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS officials (
    id               INTEGER PRIMARY KEY,
    nik              TEXT    NOT NULL UNIQUE,
    nip              TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    position         TEXT    NOT NULL,
    unit             TEXT    NOT NULL,
    failed_attempts  INTEGER NOT NULL DEFAULT 0,
    locked_until     INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS certificates (
    id                 INTEGER PRIMARY KEY,
    official_id        INTEGER NOT NULL REFERENCES officials(id),
    issuer_ca_id       INTEGER NOT NULL REFERENCES ca(id),
    serial_hex         TEXT    NOT NULL,
    cert_der           BLOB    NOT NULL,
    sealed_key         TEXT    NOT NULL,
    key_algorithm      TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('ISSUE', 'REVOKE')),
    not_before         INTEGER NOT NULL,
    not_after          INTEGER NOT NULL,
    revoked_at         INTEGER,
    revocation_reason  TEXT,
    created_at         INTEGER NOT NULL,
    UNIQUE (issuer_ca_id, serial_hex)
);
CREATE INDEX IF NOT EXISTS certificates_official ON certificates(official_id);
CREATE TABLE IF NOT EXISTS signed_documents (
    id              TEXT    PRIMARY KEY,
    sha256_hex      TEXT    NOT NULL,
    official_id     INTEGER NOT NULL REFERENCES officials(id),
    certificate_id  INTEGER NOT NULL REFERENCES certificates(id),
    signed_at       INTEGER NOT NULL,
    field_name      TEXT    NOT NULL,
    file_name       TEXT,
    level           TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS signed_documents_sha ON signed_documents(sha256_hex);
