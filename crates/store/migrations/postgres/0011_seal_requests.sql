-- v11 (applied once): a seal is requested by one verifikator and issued by another (two
-- persons), so nobody alone can make a seal they could then use.
CREATE TABLE IF NOT EXISTS seal_requests (
    official_id   BIGINT NOT NULL PRIMARY KEY REFERENCES officials(id),
    requested_by  TEXT   NOT NULL,
    requested_at  BIGINT NOT NULL,
    approved_by   TEXT,
    approved_at   BIGINT
);
