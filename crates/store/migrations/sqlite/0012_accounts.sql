-- v12 (applied once): person accounts (officials, RA staff, administrators) and their browser
-- sessions. Passwords are Argon2id PHC strings, TOTP secrets are sealed under the master key,
-- setup links and sessions are kept as the SHA-256 of their token.
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    role            TEXT    NOT NULL,
    official_id     INTEGER UNIQUE REFERENCES officials(id),
    unit            TEXT,
    email           TEXT    NOT NULL,
    email_lower     TEXT    NOT NULL UNIQUE,
    nip             TEXT    UNIQUE,
    name            TEXT    NOT NULL,
    password_hash   TEXT,
    totp_sealed     TEXT,
    totp_confirmed  INTEGER NOT NULL DEFAULT 0,
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE TABLE account_setup_links (
    token_sha256  TEXT    PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE TABLE sessions (
    token_sha256  TEXT    PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    stage         TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    ip            TEXT    NOT NULL,
    user_agent    TEXT    NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
