-- Elastic network interfaces as resources of their own: a description, the
-- source/destination check, the attachment (id, time, delete on
-- termination), the ClientToken of CreateNetworkInterface, the interface's
-- own security groups and its secondary private addresses. The status is
-- derived: in-use while instance_id <> '', else available.
ALTER TABLE network_interfaces ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE network_interfaces ADD COLUMN source_dest_check BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE network_interfaces ADD COLUMN attachment_id TEXT NOT NULL DEFAULT '';      -- eni-attach-… while attached
ALTER TABLE network_interfaces ADD COLUMN delete_on_termination BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE network_interfaces ADD COLUMN attach_time BIGINT NOT NULL DEFAULT 0;       -- unix ms; 0 while detached
ALTER TABLE network_interfaces ADD COLUMN client_token TEXT NOT NULL DEFAULT '';       -- '' when none was given

-- Interfaces launched with their instances (device 0) are attached and
-- deleted with them.
UPDATE network_interfaces SET attachment_id = 'eni-attach-' || substr(id, 5), delete_on_termination = TRUE, attach_time = created_at
    WHERE instance_id <> '';

-- The groups of an interface that is not an instance's primary (the
-- primary's are the instance's, in instance_security_groups).
CREATE TABLE network_interface_groups (
    interface_id TEXT NOT NULL REFERENCES network_interfaces(id) ON DELETE CASCADE,
    group_id     TEXT NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (interface_id, group_id)
);
CREATE INDEX network_interface_groups_group ON network_interface_groups (group_id);

-- Secondary private addresses (AssignPrivateIpAddresses). An address is
-- unique on its subnet across these and network_interfaces.private_ip
-- (the API checks both).
CREATE TABLE network_interface_addresses (
    interface_id TEXT NOT NULL REFERENCES network_interfaces(id) ON DELETE CASCADE,
    subnet_id    TEXT NOT NULL,
    private_ip   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (interface_id, private_ip),
    UNIQUE (subnet_id, private_ip)
);
