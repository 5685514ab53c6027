-- Compute: hypervisor nodes, their join tokens, instances and the network
-- interface each instance has on its subnet.

CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,             -- node-…
    name         TEXT NOT NULL UNIQUE,         -- the host's name, as the node reports it
    zone         TEXT NOT NULL,                -- availability zone name (kumo-1a)
    state        TEXT NOT NULL,                -- ready | draining (stale is derived from last_seen)
    vcpus        BIGINT NOT NULL,              -- capacity the node reports
    memory_mib   BIGINT NOT NULL,
    disk_gib     BIGINT NOT NULL,
    address      TEXT NOT NULL,                -- underlay address (VXLAN endpoint), '' until reported
    cert_serial  TEXT NOT NULL,                -- serial of the client certificate last issued to it
    version      TEXT NOT NULL,
    last_seen    BIGINT NOT NULL,              -- unix ms of the last report; 0 = never
    created_at   BIGINT NOT NULL
);

CREATE TABLE node_join_tokens (
    id          TEXT PRIMARY KEY,              -- the public half of a token
    secret_hash TEXT NOT NULL,                 -- hex sha256 of the secret half
    expires_at  BIGINT NOT NULL,               -- unix ms
    created_at  BIGINT NOT NULL
);

CREATE TABLE instances (
    id                      TEXT PRIMARY KEY,  -- i-…
    account_id              TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    reservation_id          TEXT NOT NULL,     -- r-…
    launch_index            BIGINT NOT NULL,
    client_token            TEXT NOT NULL,     -- '' when none was given
    image_id                TEXT NOT NULL,
    kernel_id               TEXT NOT NULL,     -- '' or aki-…
    ramdisk_id              TEXT NOT NULL,     -- '' or ari-…
    root_device_name        TEXT NOT NULL,     -- /dev/xvda
    root_device_type        TEXT NOT NULL,     -- ebs | instance-store
    root_snapshot_id        TEXT NOT NULL,     -- '' when the image has no root snapshot
    root_size_gib           BIGINT NOT NULL,
    instance_type           TEXT NOT NULL,
    vcpus                   BIGINT NOT NULL,
    memory_mib              BIGINT NOT NULL,
    availability_zone       TEXT NOT NULL,
    vpc_id                  TEXT NOT NULL,
    subnet_id               TEXT NOT NULL,
    key_name                TEXT NOT NULL,
    user_data               TEXT NOT NULL,     -- base64, as the API carries it
    smbios_uuid             TEXT NOT NULL,     -- ec2…, stable for the instance's life
    state                   TEXT NOT NULL,     -- pending | running | stopping | stopped | shutting-down | terminated
    state_reason_code       TEXT NOT NULL,
    state_reason_message    TEXT NOT NULL,
    state_transition_reason TEXT NOT NULL,
    state_changed_at        BIGINT NOT NULL,   -- unix ms
    shutdown_behavior       TEXT NOT NULL,     -- stop | terminate
    disable_api_termination BOOLEAN NOT NULL,
    node_id                 TEXT NOT NULL,     -- '' while not placed
    -- What the node is asked to do: power running | stopped | terminated,
    -- force for a forced stop, reboot_seq counts reboot requests.
    desired_power           TEXT NOT NULL,
    force_stop              BOOLEAN NOT NULL,
    reboot_seq              BIGINT NOT NULL,
    -- What the node last reported: '' before any report.
    observed_state          TEXT NOT NULL,
    observed_at             BIGINT NOT NULL,
    console_output          TEXT NOT NULL,     -- base64 of the last 64 KiB
    console_at              BIGINT NOT NULL,
    launch_time             BIGINT NOT NULL,   -- unix ms of the last start
    created_at              BIGINT NOT NULL
);
CREATE INDEX instances_account ON instances (account_id);
CREATE INDEX instances_node ON instances (node_id);
CREATE INDEX instances_client_token ON instances (account_id, client_token);

CREATE TABLE instance_security_groups (
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL,
    position    BIGINT NOT NULL,
    PRIMARY KEY (instance_id, group_id)
);
CREATE INDEX instance_security_groups_group ON instance_security_groups (group_id);

-- One primary network interface per instance for now (issue 5 adds more).
CREATE TABLE network_interfaces (
    id          TEXT PRIMARY KEY,              -- eni-…
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    subnet_id   TEXT NOT NULL,
    vpc_id      TEXT NOT NULL,
    private_ip  TEXT NOT NULL,
    mac         TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL,                 -- '' when detached
    device_index BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (subnet_id, private_ip)
);
CREATE INDEX network_interfaces_instance ON network_interfaces (instance_id);
