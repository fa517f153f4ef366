-- v8 (applied once): the registration authority (RA).
-- Staff accounts are API clients with the roles "operator" (scoped to one unit, submits
-- requests) and "verifikator" (Diskominfo, decides them); person_nik links an account to the
-- person using it, so nobody decides a request about themselves. SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt (nothing references it).
CREATE TABLE api_clients_v8 (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    secret_sha256  TEXT    NOT NULL,
    allow_ips      TEXT    NOT NULL DEFAULT '',
    default_class  TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    role           TEXT    NOT NULL DEFAULT 'app'
                   CHECK (role IN ('app', 'admin', 'operator', 'verifikator')),
    unit           TEXT,
    person_nik     TEXT
);
INSERT INTO api_clients_v8 (id, name, secret_sha256, allow_ips, default_class, disabled, created_at, role)
    SELECT id, name, secret_sha256, allow_ips, default_class, disabled, created_at, role FROM api_clients;
DROP TABLE api_clients;
ALTER TABLE api_clients_v8 RENAME TO api_clients;

-- The RA stage of an official: NEW, WAITING_FOR_VERIFICATION, NO_CERTIFICATE or RENEW; NULL
-- when the status follows from the newest certificate (ISSUE, SUSPEND, REVOKE, EXPIRED).
ALTER TABLE officials ADD COLUMN ra_status TEXT;

-- One request letter (surat permohonan) and the officials it names (collective requests).
CREATE TABLE ra_submissions (
    id            TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL,
    submitted_by  TEXT    NOT NULL,
    submitted_at  INTEGER NOT NULL
);
-- One official's request inside a submission.
CREATE TABLE ra_requests (
    id             TEXT    PRIMARY KEY,
    submission_id  TEXT    NOT NULL REFERENCES ra_submissions(id),
    kind           TEXT    NOT NULL CHECK (kind IN ('enroll', 'renew', 'mutasi', 'reset')),
    nik            TEXT    NOT NULL,
    nip            TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    position       TEXT    NOT NULL,
    unit           TEXT    NOT NULL,
    state          TEXT    NOT NULL
                   CHECK (state IN ('NEW', 'WAITING_FOR_VERIFICATION', 'APPROVED', 'REJECTED', 'ACTIVATED')),
    official_id    INTEGER REFERENCES officials(id),
    submitted_by   TEXT    NOT NULL,
    submitted_at   INTEGER NOT NULL,
    decided_by     TEXT,
    decided_at     INTEGER,
    reason         TEXT
);
CREATE INDEX ra_requests_state ON ra_requests (state, submitted_at);
CREATE INDEX ra_requests_nik ON ra_requests (nik);
-- Evidence files (kept in the blob store; the hash is checked on every read). request_id NULL:
-- the submission's letter, shared by all its requests.
CREATE TABLE ra_evidence (
    id             INTEGER PRIMARY KEY,
    submission_id  TEXT    NOT NULL REFERENCES ra_submissions(id),
    request_id     TEXT    REFERENCES ra_requests(id),
    kind           TEXT    NOT NULL,
    blob_key       TEXT    NOT NULL,
    sha256         TEXT    NOT NULL,
    media_type     TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    file_name      TEXT
);
CREATE INDEX ra_evidence_submission ON ra_evidence (submission_id);
-- Single-use activation links: only the SHA-256 of the token is kept.
CREATE TABLE activation_links (
    token_sha256  TEXT    PRIMARY KEY,
    request_id    TEXT    NOT NULL REFERENCES ra_requests(id),
    official_id   INTEGER NOT NULL REFERENCES officials(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
