-- Public IPv4 addresses assigned at launch (MapPublicIpOnLaunch,
-- AssociatePublicIpAddress). They come from the same operator pool as
-- elastic IPs and live in the same table, so an address is never handed out
-- twice (public_ip is UNIQUE) and the node maps them exactly as elastic IPs.
-- An auto-assigned row has kind 'auto', an internal allocation_id
-- ('auto-' || public_ip, never shown), an empty association_id and the
-- instance's primary interface and address; it is deleted when the instance
-- stops or terminates, or an elastic IP takes its place.
ALTER TABLE addresses ADD COLUMN kind TEXT NOT NULL DEFAULT 'elastic'; -- 'elastic' or 'auto'

-- The primary interfaces launched with a public address: they get a new one
-- each time their instance starts (or an elastic IP leaves them), as EC2
-- does. No foreign key to network_interfaces: rows of interfaces that are
-- gone are ignored and cleaned up by store.SweepPublicIPs.
CREATE TABLE public_ip_interfaces (
    network_interface_id TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
);
