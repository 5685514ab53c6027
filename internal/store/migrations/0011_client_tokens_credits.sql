-- Idempotency of EC2 actions whose request carries a ClientToken and whose
-- resource has no column of its own for it (CreateRouteTable, CopyImage,
-- ModifyInstanceCreditSpecification): the token, a digest of the request's
-- other parameters (a retry with different ones is
-- IdempotentParameterMismatch) and what the first request made.
CREATE TABLE client_tokens (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    action      TEXT NOT NULL,
    token       TEXT NOT NULL,
    params      TEXT NOT NULL,   -- hex SHA-256 of the request without token and DryRun
    resource_id TEXT NOT NULL,   -- what the first request made or changed
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, action, token)
);

-- The CPU credit option of a burstable instance (standard or unlimited);
-- '' means the type's default (standard for t2, unlimited for t3, t3a, t4g).
ALTER TABLE instances ADD COLUMN cpu_credits TEXT NOT NULL DEFAULT '';
