-- EBS volumes: the volume (what the API asked for, where its data lives),
-- its attachments to instances, its modifications, and the usage ledger
-- that records volume lifetimes, sizes and types for billing.

CREATE TABLE volumes (
    id                TEXT PRIMARY KEY,        -- vol-…
    account_id        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    availability_zone TEXT NOT NULL,
    size_gib          BIGINT NOT NULL,         -- as asked (after ModifyVolume: the target)
    volume_type       TEXT NOT NULL,           -- standard | gp2 | gp3 | io1 | io2 | st1 | sc1
    iops              BIGINT NOT NULL,         -- provisioned or baseline; 0 when the type has none
    throughput        BIGINT NOT NULL,         -- MiB/s, gp3 only; 0 otherwise
    snapshot_id       TEXT NOT NULL,           -- '' for an empty volume
    multi_attach      BOOLEAN NOT NULL,
    auto_enable_io    BOOLEAN NOT NULL,
    state             TEXT NOT NULL,           -- creating | available | in-use | deleting | error
    backend           TEXT NOT NULL,           -- local | rbd
    -- The node holding the data ('' : none yet, the first node to attach
    -- it makes it; a root volume's home is its instance's node), the size
    -- that node last reported (bytes) and its NBD export while exported.
    home_node         TEXT NOT NULL,
    data_bytes        BIGINT NOT NULL,
    export_url        TEXT NOT NULL,
    root_instance     TEXT NOT NULL,           -- the instance whose root disk this is ('' otherwise)
    created_at        BIGINT NOT NULL
);
CREATE INDEX volumes_account ON volumes (account_id);
CREATE INDEX volumes_home ON volumes (home_node);

CREATE TABLE volume_attachments (
    volume_id             TEXT NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,
    instance_id           TEXT NOT NULL,
    account_id            TEXT NOT NULL,
    device                TEXT NOT NULL,
    state                 TEXT NOT NULL,       -- attaching | attached | detaching (detached rows are removed)
    force_detach          BOOLEAN NOT NULL,
    delete_on_termination BOOLEAN NOT NULL,
    attach_time           BIGINT NOT NULL,
    PRIMARY KEY (volume_id, instance_id)
);
CREATE UNIQUE INDEX volume_attachments_device ON volume_attachments (instance_id, device);
CREATE INDEX volume_attachments_account ON volume_attachments (account_id);

-- Copies of a volume's data left on a node it moved away from (or that a
-- node still holds after the volume was deleted): the node is told to
-- delete them until it reports them gone.
CREATE TABLE volume_stale_copies (
    volume_id TEXT NOT NULL,
    node_id   TEXT NOT NULL,
    PRIMARY KEY (volume_id, node_id)
);

CREATE TABLE volume_modifications (
    volume_id         TEXT NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,
    started_at        BIGINT NOT NULL,         -- unix ms
    reached_at        BIGINT NOT NULL,         -- when the data reached the target size (0: not yet)
    original_size     BIGINT NOT NULL,
    original_type     TEXT NOT NULL,
    original_iops     BIGINT NOT NULL,
    original_throughput BIGINT NOT NULL,
    original_multi    BOOLEAN NOT NULL,
    target_size       BIGINT NOT NULL,
    target_type       TEXT NOT NULL,
    target_iops       BIGINT NOT NULL,
    target_throughput BIGINT NOT NULL,
    target_multi      BOOLEAN NOT NULL,
    PRIMARY KEY (volume_id, started_at)
);

-- The usage ledger: one row per change that moves what an account is
-- billed for, written in the transaction that makes the change.
CREATE TABLE usage_events (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    resource_type TEXT NOT NULL,               -- volume
    event         TEXT NOT NULL,               -- create | modify | delete
    volume_type   TEXT NOT NULL,
    size_gib      BIGINT NOT NULL,
    iops          BIGINT NOT NULL,
    throughput    BIGINT NOT NULL,
    at            BIGINT NOT NULL              -- unix ms
);
CREATE INDEX usage_events_account ON usage_events (account_id, at);
CREATE INDEX usage_events_resource ON usage_events (resource_id);

-- Existing instances' root disks become volumes (gp2, as EC2's default).
INSERT INTO volumes (id, account_id, availability_zone, size_gib, volume_type, iops, throughput, snapshot_id, multi_attach,
    auto_enable_io, state, backend, home_node, data_bytes, export_url, root_instance, created_at)
SELECT 'vol-' || substr(id, 3), account_id, availability_zone, root_size_gib, 'gp2',
    CASE WHEN root_size_gib * 3 < 100 THEN 100 ELSE root_size_gib * 3 END, 0, root_snapshot_id, FALSE,
    FALSE, 'in-use', 'local', node_id, 0, '', id, created_at
FROM instances WHERE state <> 'terminated' AND root_device_type = 'ebs';
INSERT INTO volume_attachments (volume_id, instance_id, account_id, device, state, force_detach, delete_on_termination, attach_time)
SELECT 'vol-' || substr(id, 3), id, account_id, root_device_name, 'attached', FALSE, TRUE, created_at
FROM instances WHERE state <> 'terminated' AND root_device_type = 'ebs';
