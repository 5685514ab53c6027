-- Elastic IP addresses: an account's allocation of one public address from
-- the operator's pool, and its association (if any) with a private address
-- of a network interface. The instance is not stored: it is the
-- interface's, so an association follows the interface and lapses when the
-- interface is gone or its instance is terminated (store.ListAddresses).

CREATE TABLE addresses (
    allocation_id        TEXT PRIMARY KEY,     -- eipalloc-…
    account_id           TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    public_ip            TEXT NOT NULL UNIQUE, -- one allocation per address across every account
    association_id       TEXT NOT NULL,        -- '' or eipassoc-…
    network_interface_id TEXT NOT NULL,        -- '' when not associated
    private_ip           TEXT NOT NULL,        -- '' when not associated
    created_at           BIGINT NOT NULL
);
CREATE INDEX addresses_account ON addresses (account_id);
CREATE INDEX addresses_interface ON addresses (network_interface_id);
