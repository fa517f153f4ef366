-- v18 (applied once): failed API authentications per source address and per client name, in
-- fixed windows, shared by every server on this database (issue 14). Rows older than a day are
-- swept when a failure is counted.
CREATE TABLE IF NOT EXISTS auth_failures (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX IF NOT EXISTS auth_failures_window ON auth_failures (window_start);
