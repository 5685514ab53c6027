-- Accounts (teams), IAM users and access keys; the first EC2 resources.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are unix ms.

CREATE TABLE accounts (
    id               TEXT PRIMARY KEY,          -- 12 digits
    name             TEXT NOT NULL UNIQUE,
    created_at       BIGINT NOT NULL,
    defaults_created BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE users (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL UNIQUE,            -- AIDA…
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,                   -- lower(name): IAM names are case-insensitive
    path       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name_key)
);

CREATE TABLE access_keys (
    id         TEXT PRIMARY KEY,                -- AKIA…
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_name  TEXT NOT NULL,                   -- '' = the account's root
    secret_enc TEXT NOT NULL,                   -- AES-GCM, key in the data dir
    status     TEXT NOT NULL,                   -- Active | Inactive
    created_at BIGINT NOT NULL,
    last_used  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX access_keys_owner ON access_keys (account_id, user_name);

CREATE TABLE key_pairs (
    id          TEXT PRIMARY KEY,               -- key-…
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    key_type    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE vpcs (
    id                   TEXT PRIMARY KEY,      -- vpc-…
    account_id           TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    cidr_block           TEXT NOT NULL,
    is_default           BOOLEAN NOT NULL,
    state                TEXT NOT NULL,
    instance_tenancy     TEXT NOT NULL,
    enable_dns_support   BOOLEAN NOT NULL,
    enable_dns_hostnames BOOLEAN NOT NULL,
    created_at           BIGINT NOT NULL
);
CREATE INDEX vpcs_account ON vpcs (account_id);

CREATE TABLE subnets (
    id                      TEXT PRIMARY KEY,   -- subnet-…
    account_id              TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    vpc_id                  TEXT NOT NULL REFERENCES vpcs(id),
    cidr_block              TEXT NOT NULL,
    availability_zone       TEXT NOT NULL,
    default_for_az          BOOLEAN NOT NULL,
    map_public_ip_on_launch BOOLEAN NOT NULL,
    state                   TEXT NOT NULL,
    created_at              BIGINT NOT NULL
);
CREATE INDEX subnets_account ON subnets (account_id);
CREATE INDEX subnets_vpc ON subnets (vpc_id);

CREATE TABLE security_groups (
    id          TEXT PRIMARY KEY,               -- sg-…
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    vpc_id      TEXT NOT NULL REFERENCES vpcs(id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (vpc_id, name)
);
CREATE INDEX security_groups_account ON security_groups (account_id);

CREATE TABLE security_group_rules (
    id                  TEXT PRIMARY KEY,       -- sgr-…
    account_id          TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_id            TEXT NOT NULL REFERENCES security_groups(id) ON DELETE CASCADE,
    is_egress           BOOLEAN NOT NULL,
    ip_protocol         TEXT NOT NULL,          -- "-1", "tcp", "udp", "icmp", "icmpv6" or a number
    from_port           BIGINT NOT NULL,
    to_port             BIGINT NOT NULL,
    cidr_ipv4           TEXT NOT NULL,
    cidr_ipv6           TEXT NOT NULL,
    prefix_list_id      TEXT NOT NULL,
    ref_group_id        TEXT NOT NULL,          -- '' or sg-… (the referenced group)
    ref_account_id      TEXT NOT NULL,
    description         TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX security_group_rules_group ON security_group_rules (group_id);
CREATE INDEX security_group_rules_ref ON security_group_rules (ref_group_id);

CREATE TABLE tags (
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    resource_id   TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (resource_id, key)
);
CREATE INDEX tags_account ON tags (account_id, resource_type);
