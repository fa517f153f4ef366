-- v14 (applied once): which error body shape an API client reads (`http`: status_code is the
-- HTTP status, the default; `bsre`: status_code is the BSrE error code, as some ECS clients read it).
ALTER TABLE api_clients ADD COLUMN error_shape TEXT NOT NULL DEFAULT 'http';
