-- v6 (applied once): suspension (RFC 5280 certificateHold) of a certificate that stays ISSUE
-- in `status`; while suspended_at is set it reads as SUSPEND and is on the CRL and OCSP as
-- revoked with reason certificateHold.
ALTER TABLE certificates ADD COLUMN suspended_at INTEGER;
ALTER TABLE certificates ADD COLUMN suspend_reason TEXT;
