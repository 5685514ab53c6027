-- The accelerator each node runs its guests with (kvm or tcg), as its
-- start-up probe chose it, and why (what the KVM probe guest did).
ALTER TABLE nodes ADD COLUMN accel TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN accel_reason TEXT NOT NULL DEFAULT '';
