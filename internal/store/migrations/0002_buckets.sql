-- S3 buckets: the registry of names, owners and access settings. Objects
-- themselves live in the object backend (local disk or an external S3).
-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are unix ms.

CREATE TABLE buckets (
    name       TEXT PRIMARY KEY,                -- globally unique, as in S3
    account_id TEXT NOT NULL REFERENCES accounts(id), -- no cascade: an account that owns buckets cannot be deleted
    acl        TEXT NOT NULL,                   -- canned ACL: private, public-read, ...
    policy     TEXT NOT NULL,                   -- bucket policy JSON, '' = none
    created_at BIGINT NOT NULL
);
CREATE INDEX buckets_account ON buckets (account_id);
