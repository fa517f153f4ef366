-- v17 (applied once): the dashboard counts a year of refusals from indexes alone. Policy
-- refusals are the `sign.refused` entries whose text names a class; this partial index holds
-- only those, so counting them reads no entry text.
CREATE INDEX IF NOT EXISTS audit_log_policy_refusals ON audit_log (at_micros)
    WHERE action = 'sign.refused' AND detail LIKE 'class=%';
