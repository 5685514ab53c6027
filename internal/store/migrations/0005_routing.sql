-- Routing: internet gateways, route tables with their routes and subnet
-- associations, DHCP options sets and the set each VPC uses.

CREATE TABLE internet_gateways (
    id         TEXT PRIMARY KEY,                 -- igw-…
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    vpc_id     TEXT NOT NULL,                    -- the attached VPC, '' when detached
    created_at BIGINT NOT NULL
);
CREATE INDEX internet_gateways_account ON internet_gateways (account_id);
-- One gateway per VPC.
CREATE UNIQUE INDEX internet_gateways_vpc ON internet_gateways (vpc_id) WHERE vpc_id <> '';

CREATE TABLE route_tables (
    id                  TEXT PRIMARY KEY,        -- rtb-…
    account_id          TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    vpc_id              TEXT NOT NULL REFERENCES vpcs(id),
    main_association_id TEXT NOT NULL,           -- rtbassoc-… while the VPC's main table, else ''
    created_at          BIGINT NOT NULL
);
CREATE INDEX route_tables_account ON route_tables (account_id);
-- One main table per VPC.
CREATE UNIQUE INDEX route_tables_main ON route_tables (vpc_id) WHERE main_association_id <> '';

CREATE TABLE routes (
    route_table_id       TEXT NOT NULL REFERENCES route_tables(id) ON DELETE CASCADE,
    destination_cidr     TEXT NOT NULL,
    gateway_id           TEXT NOT NULL,          -- 'local', igw-… or ''
    instance_id          TEXT NOT NULL,          -- i-… or ''
    network_interface_id TEXT NOT NULL,          -- eni-… or ''
    origin               TEXT NOT NULL,          -- CreateRouteTable | CreateRoute
    created_at           BIGINT NOT NULL,
    PRIMARY KEY (route_table_id, destination_cidr)
);
CREATE INDEX routes_gateway ON routes (gateway_id);

CREATE TABLE route_table_associations (
    id             TEXT PRIMARY KEY,             -- rtbassoc-…
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    route_table_id TEXT NOT NULL REFERENCES route_tables(id),
    subnet_id      TEXT NOT NULL UNIQUE REFERENCES subnets(id),  -- one table per subnet
    created_at     BIGINT NOT NULL
);
CREATE INDEX route_table_associations_table ON route_table_associations (route_table_id);

CREATE TABLE dhcp_options (
    id             TEXT PRIMARY KEY,             -- dopt-…
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    is_default     BOOLEAN NOT NULL,             -- the set new VPCs get
    configurations TEXT NOT NULL,                -- JSON: [{"Key": "...", "Values": ["..."]}]
    created_at     BIGINT NOT NULL
);
CREATE INDEX dhcp_options_account ON dhcp_options (account_id);

-- The DHCP options set of a VPC; no row: "default" (no options).
CREATE TABLE vpc_dhcp_options (
    vpc_id          TEXT PRIMARY KEY REFERENCES vpcs(id) ON DELETE CASCADE,
    dhcp_options_id TEXT NOT NULL REFERENCES dhcp_options(id)
);
CREATE INDEX vpc_dhcp_options_set ON vpc_dhcp_options (dhcp_options_id);

-- VPCs made before this migration get their main route table, with the
-- local route; default VPCs also an attached gateway and a default route.
INSERT INTO route_tables (id, account_id, vpc_id, main_association_id, created_at)
    SELECT 'rtb-' || substr(id, 5), account_id, id, 'rtbassoc-' || substr(id, 5), created_at FROM vpcs;
INSERT INTO routes (route_table_id, destination_cidr, gateway_id, instance_id, network_interface_id, origin, created_at)
    SELECT 'rtb-' || substr(id, 5), cidr_block, 'local', '', '', 'CreateRouteTable', created_at FROM vpcs;
INSERT INTO internet_gateways (id, account_id, vpc_id, created_at)
    SELECT 'igw-' || substr(id, 5), account_id, id, created_at FROM vpcs WHERE is_default;
INSERT INTO routes (route_table_id, destination_cidr, gateway_id, instance_id, network_interface_id, origin, created_at)
    SELECT 'rtb-' || substr(id, 5), '0.0.0.0/0', 'igw-' || substr(id, 5), '', '', 'CreateRoute', created_at FROM vpcs WHERE is_default;
