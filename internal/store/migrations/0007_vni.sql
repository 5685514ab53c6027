-- One VXLAN network identifier per VPC, unique in the region. Existing VPCs
-- get 101, 102, … in id order; new ones get MAX(vni)+1 (store.InsertVPC,
-- serialised on PostgreSQL by an advisory lock). VNIs are never reused
-- while their VPC exists.
ALTER TABLE vpcs ADD COLUMN vni BIGINT;
UPDATE vpcs SET vni = 100 + (SELECT COUNT(*) FROM vpcs v2 WHERE v2.id <= vpcs.id);
CREATE UNIQUE INDEX vpcs_vni ON vpcs (vni);
