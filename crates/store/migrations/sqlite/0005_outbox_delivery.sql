-- v5 (applied once): delivery state of outbox messages, for the SMTP sender. A message is
-- claimed by setting sent_at before it is sent (one process sends it); a failure clears
-- sent_at again, counts the attempt and keeps the error.
ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
