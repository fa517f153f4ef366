-- v10 (applied once): at most one open registration request per NIK, enforced by the database
-- (two concurrent submissions cannot both pass the check in the application).
CREATE UNIQUE INDEX IF NOT EXISTS ra_requests_one_open ON ra_requests (nik)
    WHERE state IN ('NEW', 'WAITING_FOR_VERIFICATION', 'APPROVED');
