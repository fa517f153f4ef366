-- v7 (applied once): which expiry notices (30 and 7 days before) went out for a certificate,
-- so each is sent once however many servers run.
CREATE TABLE IF NOT EXISTS renewal_notices (
    certificate_id  INTEGER NOT NULL REFERENCES certificates(id),
    days            INTEGER NOT NULL,
    sent_at         INTEGER NOT NULL,
    PRIMARY KEY (certificate_id, days)
);
