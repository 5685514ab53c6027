-- Snapshots, machine/kernel/ramdisk images, their sharing, and import tasks.

CREATE TABLE snapshots (
    id            TEXT PRIMARY KEY,             -- snap-…
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    volume_id     TEXT NOT NULL,                -- vol-ffffffff for imported snapshots, as AWS
    volume_size   BIGINT NOT NULL,              -- GiB, rounded up
    size_bytes    BIGINT NOT NULL,              -- exact bytes in the chunk store
    state         TEXT NOT NULL,                -- pending | completed | error
    progress      BIGINT NOT NULL,              -- percent
    description   TEXT NOT NULL,
    state_message TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX snapshots_account ON snapshots (account_id);

CREATE TABLE snapshot_permissions (
    snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    grantee     TEXT NOT NULL,                  -- an account id, or 'all'
    PRIMARY KEY (snapshot_id, grantee)
);

CREATE TABLE images (
    id                  TEXT PRIMARY KEY,       -- ami-… | aki-… | ari-…
    account_id          TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL,
    image_type          TEXT NOT NULL,          -- machine | kernel | ramdisk
    state               TEXT NOT NULL,          -- pending | available | failed
    state_reason        TEXT NOT NULL,
    architecture        TEXT NOT NULL,
    root_device_name    TEXT NOT NULL,
    root_device_type    TEXT NOT NULL,          -- ebs | instance-store
    virtualization_type TEXT NOT NULL,
    boot_mode           TEXT NOT NULL,
    kernel_id           TEXT NOT NULL,
    ramdisk_id          TEXT NOT NULL,
    location            TEXT NOT NULL,          -- object key of a kernel/ramdisk file
    size_bytes          BIGINT NOT NULL,
    ena_support         BOOLEAN NOT NULL,
    public              BOOLEAN NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX images_account ON images (account_id);
CREATE UNIQUE INDEX images_name ON images (account_id, name);

CREATE TABLE image_block_devices (
    image_id              TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    device_name           TEXT NOT NULL,
    snapshot_id           TEXT NOT NULL,        -- '' for an empty volume
    volume_size           BIGINT NOT NULL,      -- GiB
    volume_type           TEXT NOT NULL,
    delete_on_termination BOOLEAN NOT NULL,
    virtual_name          TEXT NOT NULL,
    no_device             BOOLEAN NOT NULL,
    PRIMARY KEY (image_id, device_name)
);
CREATE INDEX image_block_devices_snapshot ON image_block_devices (snapshot_id);

CREATE TABLE image_permissions (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    grantee  TEXT NOT NULL,                     -- an account id ('all' is images.public)
    PRIMARY KEY (image_id, grantee)
);
CREATE INDEX image_permissions_grantee ON image_permissions (grantee);

CREATE TABLE import_tasks (
    id             TEXT PRIMARY KEY,            -- import-ami-… | import-snap-…
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,               -- image | snapshot
    status         TEXT NOT NULL,               -- active | completed | deleting | deleted
    status_message TEXT NOT NULL,
    progress       BIGINT NOT NULL,             -- percent
    description    TEXT NOT NULL,
    format         TEXT NOT NULL,               -- as asked: raw | qcow2 | vmdk | vhd ('' = detect)
    s3_bucket      TEXT NOT NULL,
    s3_key         TEXT NOT NULL,
    disk_size      BIGINT NOT NULL,             -- bytes of the source object
    snapshot_id    TEXT NOT NULL,
    image_id       TEXT NOT NULL,
    architecture   TEXT NOT NULL,
    boot_mode      TEXT NOT NULL,
    client_token   TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX import_tasks_account ON import_tasks (account_id);
CREATE INDEX import_tasks_status ON import_tasks (status);
