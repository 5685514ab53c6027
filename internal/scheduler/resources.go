package scheduler

import "math"

// Add returns r plus o.
func (r Resources) Add(o Resources) Resources {
	return Resources{
		VCPUs:     r.VCPUs + o.VCPUs,
		MemoryMiB: r.MemoryMiB + o.MemoryMiB,
		DiskGiB:   r.DiskGiB + o.DiskGiB,
	}
}

// Within reports whether every amount of r is at most the same amount
// of limit.
func (r Resources) Within(limit Resources) bool {
	return r.VCPUs <= limit.VCPUs &&
		r.MemoryMiB <= limit.MemoryMiB &&
		r.DiskGiB <= limit.DiskGiB
}

// negative reports whether any amount of r is below zero.
func (r Resources) negative() bool {
	return r.VCPUs < 0 || r.MemoryMiB < 0 || r.DiskGiB < 0
}

// Capacity returns what may be promised to instances on n: its physical
// resources scaled by the overcommit ratios, rounded down.
func (o Options) Capacity(n Node) Resources {
	return Resources{
		VCPUs:     int(scale(int64(n.VCPUs), o.VCPUOvercommit)),
		MemoryMiB: scale(n.MemoryMiB, o.MemoryOvercommit),
		DiskGiB:   n.DiskGiB,
	}
}

// scale multiplies v by ratio (1.0 when ratio <= 0), rounding down.
func scale(v int64, ratio float64) int64 {
	if ratio <= 0 || ratio == 1 {
		return v
	}
	return int64(math.Floor(float64(v) * ratio))
}

// dominantShare is the largest fraction of capacity that used takes in
// any dimension; a dimension with no capacity counts as empty.
func dominantShare(used, capacity Resources) float64 {
	return max(
		share(int64(used.VCPUs), int64(capacity.VCPUs)),
		share(used.MemoryMiB, capacity.MemoryMiB),
		share(used.DiskGiB, capacity.DiskGiB),
	)
}

func share(used, capacity int64) float64 {
	if capacity <= 0 {
		return 0
	}
	return float64(used) / float64(capacity)
}
