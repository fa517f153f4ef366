-- Trust services (v2): TSA and OCSP responder keys, TSA serial numbers, CRL numbers.
CREATE TABLE IF NOT EXISTS service_keys (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('tsa', 'ocsp')),
    issuer_ca_id  INTEGER NOT NULL REFERENCES ca(id),
    cert_der      BLOB    NOT NULL,
    sealed_key    TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);
-- Monotonic counters shared by every process (TSA serial blocks, CRL numbers per CA).
CREATE TABLE IF NOT EXISTS counters (
    name   TEXT    PRIMARY KEY,
    value  INTEGER NOT NULL
);
