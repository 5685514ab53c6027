-- Network ACLs: a VPC's stateless subnet firewalls. Every VPC has one
-- default ACL (is_default) and every subnet is associated with exactly one
-- ACL of its VPC (the default one unless ReplaceNetworkAclAssociation moved
-- it). Entries are numbered per direction; 32767 is the "*" rule (deny
-- all) every ACL ends with, which no action can change.

CREATE TABLE network_acls (
    id           TEXT PRIMARY KEY,               -- acl-…
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    vpc_id       TEXT NOT NULL REFERENCES vpcs(id) ON DELETE CASCADE, -- DeleteVpc refuses while a non-default one is left
    is_default   BOOLEAN NOT NULL,
    client_token TEXT NOT NULL,                  -- CreateNetworkAcl's ClientToken, '' when none
    created_at   BIGINT NOT NULL
);
CREATE INDEX network_acls_account ON network_acls (account_id);
CREATE INDEX network_acls_vpc ON network_acls (vpc_id);
-- One default ACL per VPC.
CREATE UNIQUE INDEX network_acls_default ON network_acls (vpc_id) WHERE is_default;

CREATE TABLE network_acl_entries (
    network_acl_id  TEXT NOT NULL REFERENCES network_acls(id) ON DELETE CASCADE,
    egress          BOOLEAN NOT NULL,
    rule_number     INTEGER NOT NULL,            -- 1..32766; 32767 is "*"
    protocol        TEXT NOT NULL,               -- '-1' or an IP protocol number
    rule_action     TEXT NOT NULL,               -- allow | deny
    cidr_block      TEXT NOT NULL,               -- IPv4 CIDR, '' when ipv6_cidr_block is set
    ipv6_cidr_block TEXT NOT NULL,               -- '' when none
    port_from       INTEGER,                     -- PortRange, NULL when none
    port_to         INTEGER,
    icmp_type       INTEGER,                     -- IcmpTypeCode, NULL when none
    icmp_code       INTEGER,
    PRIMARY KEY (network_acl_id, egress, rule_number)
);

CREATE TABLE network_acl_associations (
    id             TEXT PRIMARY KEY,             -- aclassoc-…
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    network_acl_id TEXT NOT NULL REFERENCES network_acls(id),
    subnet_id      TEXT NOT NULL UNIQUE REFERENCES subnets(id) ON DELETE CASCADE, -- one ACL per subnet
    created_at     BIGINT NOT NULL
);
CREATE INDEX network_acl_associations_acl ON network_acl_associations (network_acl_id);

-- VPCs made before this migration get their default ACL with AWS's
-- default entries, and their subnets an association with it.
INSERT INTO network_acls (id, account_id, vpc_id, is_default, client_token, created_at)
    SELECT 'acl-' || substr(id, 5), account_id, id, TRUE, '', created_at FROM vpcs;
INSERT INTO network_acl_entries (network_acl_id, egress, rule_number, protocol, rule_action, cidr_block, ipv6_cidr_block)
    SELECT 'acl-' || substr(id, 5), FALSE, 100, '-1', 'allow', '0.0.0.0/0', '' FROM vpcs;
INSERT INTO network_acl_entries (network_acl_id, egress, rule_number, protocol, rule_action, cidr_block, ipv6_cidr_block)
    SELECT 'acl-' || substr(id, 5), TRUE, 100, '-1', 'allow', '0.0.0.0/0', '' FROM vpcs;
INSERT INTO network_acl_entries (network_acl_id, egress, rule_number, protocol, rule_action, cidr_block, ipv6_cidr_block)
    SELECT 'acl-' || substr(id, 5), FALSE, 32767, '-1', 'deny', '0.0.0.0/0', '' FROM vpcs;
INSERT INTO network_acl_entries (network_acl_id, egress, rule_number, protocol, rule_action, cidr_block, ipv6_cidr_block)
    SELECT 'acl-' || substr(id, 5), TRUE, 32767, '-1', 'deny', '0.0.0.0/0', '' FROM vpcs;
INSERT INTO network_acl_associations (id, account_id, network_acl_id, subnet_id, created_at)
    SELECT 'aclassoc-' || substr(id, 8), account_id, 'acl-' || substr(vpc_id, 5), id, created_at FROM subnets;
