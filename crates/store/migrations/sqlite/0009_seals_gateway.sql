-- v9 (applied once): institutional seals and gateway mode.
-- kind: 'person' (an official) or 'seal' (an institution's or unit's e-seal: no person; its
-- "nik" column holds the seal's idSubscriber). upstream: 1 when the official's signing is
-- forwarded to the upstream ECS (gateway mode); such officials have no local key.
ALTER TABLE officials ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';
ALTER TABLE officials ADD COLUMN upstream INTEGER NOT NULL DEFAULT 0;
-- What a one-time code is for: 'sign' (a signer's second factor), 'seal-activation' (the
-- seal's activation code) or 'seal-batch' (one batch of seal signatures).
ALTER TABLE one_time_codes ADD COLUMN purpose TEXT NOT NULL DEFAULT 'sign';
