-- The instance profile associated with an instance (EC2's
-- IamInstanceProfileAssociation): at most one per instance. The profile
-- is named by id and ARN as at association time; the role is looked up
-- through the profile when credentials are issued, as AWS does.
CREATE TABLE instance_profile_associations (
    association_id TEXT NOT NULL PRIMARY KEY,    -- iip-assoc-…
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    instance_id    TEXT NOT NULL UNIQUE,
    profile_id     TEXT NOT NULL,                -- AIPA…
    profile_arn    TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX instance_profile_associations_account ON instance_profile_associations (account_id);
