-- v15 (applied once): staff as person accounts. A staff account may carry the person's NIK, so
-- separation of duties can tell "a request about themselves" for people as it does for API
-- staff clients; a request remembers the unit that filed it, whoever filed it (an API client or
-- a person), so an operator's view of their unit does not depend on how the request came in.
ALTER TABLE accounts ADD COLUMN nik TEXT;
ALTER TABLE ra_requests ADD COLUMN submitted_unit TEXT;
UPDATE ra_requests SET submitted_unit =
    (SELECT unit FROM api_clients WHERE api_clients.name = ra_requests.submitted_by);
-- The audit page filters by action or actor, newest first.
CREATE INDEX IF NOT EXISTS audit_log_action_seq ON audit_log (action, seq);
CREATE INDEX IF NOT EXISTS audit_log_actor_seq ON audit_log (actor, seq);
