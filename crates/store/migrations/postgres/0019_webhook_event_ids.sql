-- v19 (applied once): each webhook event gets a random id when it is queued (sent as
-- `Sahih-Event-Id` and as `id` in the body). Row numbers were used before and could repeat after
-- a restore, so a receiver deduplicating by id could drop a new event. Older rows keep their row
-- number as their id.
ALTER TABLE webhook_events ADD COLUMN event_uid TEXT;
