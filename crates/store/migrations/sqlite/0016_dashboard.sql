-- v16 (applied once): the administrator's dashboard counts signatures per day, unit and document
-- class. The class was only in the audit entry ("class=X level=..."); it becomes a column, filled
-- for earlier signatures from their audit entries.
ALTER TABLE signed_documents ADD COLUMN class TEXT;
UPDATE signed_documents SET class = (
    SELECT substr(a.detail, 7, instr(a.detail || ' ', ' ') - 7)
    FROM audit_log a
    WHERE a.action = 'sign' AND a.document_sha256 = signed_documents.sha256_hex
      AND a.detail LIKE 'class=%'
    ORDER BY a.seq DESC LIMIT 1);
-- Counting by day, unit and class reads only this index.
CREATE INDEX IF NOT EXISTS signed_documents_signed_at ON signed_documents (signed_at, official_id, class);
-- Refusals in a period: by action, then time.
CREATE INDEX IF NOT EXISTS audit_log_action_at ON audit_log (action, at_micros);
CREATE INDEX IF NOT EXISTS certificates_not_after ON certificates (not_after);
