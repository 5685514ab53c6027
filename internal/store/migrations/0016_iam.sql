-- IAM resources beyond users and keys: groups, roles, customer managed
-- policies and their versions, inline policies, attachments, instance
-- profiles, login profiles and account aliases. AWS managed policies live
-- in the binary, so attachments name policies by ARN. Names are unique per
-- account case-insensitively (name_key = lower(name)), as IAM's are.

CREATE TABLE iam_groups (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_id   TEXT NOT NULL UNIQUE,            -- AGPA…
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    path       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name_key)
);

CREATE TABLE iam_group_members (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_id   TEXT NOT NULL REFERENCES iam_groups(group_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX iam_group_members_user ON iam_group_members (user_id);

CREATE TABLE iam_roles (
    account_id           TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role_id              TEXT NOT NULL UNIQUE,  -- AROA…
    name                 TEXT NOT NULL,
    name_key             TEXT NOT NULL,
    path                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    trust_policy         TEXT NOT NULL,         -- as the caller wrote it
    max_session_duration BIGINT NOT NULL,       -- seconds
    permissions_boundary TEXT NOT NULL,         -- '' or a policy ARN
    created_at           BIGINT NOT NULL,
    PRIMARY KEY (account_id, name_key)
);

CREATE TABLE iam_policies (
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    policy_id       TEXT NOT NULL UNIQUE,       -- ANPA…
    arn             TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    path            TEXT NOT NULL,
    description     TEXT NOT NULL,
    default_version TEXT NOT NULL,              -- v1, v2…
    next_version    BIGINT NOT NULL,            -- the number the next version gets
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, name_key)
);

CREATE TABLE iam_policy_versions (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    policy_id  TEXT NOT NULL REFERENCES iam_policies(policy_id) ON DELETE CASCADE,
    version_id TEXT NOT NULL,
    document   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version_id)
);

-- Managed policies (customer or AWS) attached to users, groups and roles.
CREATE TABLE iam_attachments (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    entity_type TEXT NOT NULL,                  -- user | group | role
    entity_id   TEXT NOT NULL,                  -- AIDA…, AGPA…, AROA…
    policy_arn  TEXT NOT NULL,
    attached_at BIGINT NOT NULL,
    PRIMARY KEY (entity_id, policy_arn)
);
CREATE INDEX iam_attachments_policy ON iam_attachments (account_id, policy_arn);

-- Inline policies embedded in users, groups and roles.
CREATE TABLE iam_inline_policies (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (entity_id, name)
);

CREATE TABLE iam_instance_profiles (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL UNIQUE,            -- AIPA…
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    path       TEXT NOT NULL,
    role_id    TEXT NOT NULL,                   -- '' or the one role it holds
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name_key)
);
CREATE INDEX iam_instance_profiles_role ON iam_instance_profiles (role_id);

-- Console passwords: an argon2id hash, never the password.
CREATE TABLE iam_login_profiles (
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id        TEXT PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    password_hash  TEXT NOT NULL,
    reset_required BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL
);

-- An account has at most one alias; aliases are unique across accounts.
CREATE TABLE iam_account_aliases (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    alias      TEXT NOT NULL UNIQUE
);

-- A user's permissions boundary: '' or a managed policy ARN.
ALTER TABLE users ADD COLUMN permissions_boundary TEXT NOT NULL DEFAULT '';
