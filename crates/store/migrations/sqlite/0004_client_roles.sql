-- v4 (applied once, tracked in schema_version): API client roles. "app" clients sign and
-- verify; "admin" clients may also read the audit log and list clients through /api/v1.
ALTER TABLE api_clients ADD COLUMN role TEXT NOT NULL DEFAULT 'app' CHECK (role IN ('app', 'admin'));
