package ec2

// EBS volume types and the limits AWS documents for each (CreateVolume,
// EbsBlockDevice, ModifyVolume): size in GiB, IOPS, throughput in MiB/s.

// volumeKind is one volume type's limits.
type volumeKind struct {
	minSize, maxSize int64
	// IOPS: provisioned (gp3, io1, io2) with a range, a default (0:
	// required) and a ceiling per GiB; none for the others.
	provisioned        bool
	minIOPS, maxIOPS   int64
	defaultIOPS        int64
	iopsPerGiB         int64
	throughput         bool // gp3 only
	multiAttachAllowed bool // io1, io2
}

const (
	gp3MinThroughput     = 125
	gp3MaxThroughput     = 1000
	gp3DefaultThroughput = 125
	// gp3's throughput may be at most 0.25 MiB/s per provisioned IOPS.
	gp3ThroughputPerIOPS = 0.25
	// defaultVolumeType is CreateVolume's (and a mapping's) default.
	defaultVolumeType = "gp2"
)

var volumeKinds = map[string]volumeKind{
	"standard": {minSize: 1, maxSize: 1024},
	"gp2":      {minSize: 1, maxSize: 16384},
	"gp3": {minSize: 1, maxSize: 16384, provisioned: true, minIOPS: 3000, maxIOPS: 16000, defaultIOPS: 3000, iopsPerGiB: 500,
		throughput: true},
	"io1": {minSize: 4, maxSize: 16384, provisioned: true, minIOPS: 100, maxIOPS: 64000, iopsPerGiB: 50, multiAttachAllowed: true},
	"io2": {minSize: 4, maxSize: 65536, provisioned: true, minIOPS: 100, maxIOPS: 256000, iopsPerGiB: 1000, multiAttachAllowed: true},
	"st1": {minSize: 125, maxSize: 16384},
	"sc1": {minSize: 125, maxSize: 16384},
}

// volumePerf is a volume's type, size and performance as asked.
type volumePerf struct {
	Type        string
	Size        int64 // GiB
	IOPS        int64
	Throughput  int64
	MultiAttach bool
}

// perfRequest is what a request gives (nil: not given).
type perfRequest struct {
	Type        string
	Size        *int32
	IOPS        *int32
	Throughput  *int32
	MultiAttach *bool
}

// resolvePerf validates a request against its type's limits and fills the
// defaults; snapSize is the source snapshot's size (0: none).
func resolvePerf(r perfRequest, snapSize int64, snapID string) (volumePerf, error) {
	p := volumePerf{Type: r.Type}
	if p.Type == "" {
		p.Type = defaultVolumeType
	}
	k, ok := volumeKinds[p.Type]
	if !ok {
		return p, invalid("Value (%s) for parameter volumeType is invalid. Valid values: standard, gp2, gp3, io1, io2, st1, sc1.", p.Type)
	}
	switch {
	case r.Size != nil:
		p.Size = int64(*r.Size)
	case snapSize > 0:
		p.Size = snapSize
	default:
		return p, apiErr("MissingParameter", "The request must contain the parameter size or snapshotId")
	}
	if err := checkSize(p, k, snapSize, snapID); err != nil {
		return p, err
	}
	var err error
	if p.IOPS, err = resolveIOPS(p, k, r.IOPS); err != nil {
		return p, err
	}
	if p.Throughput, err = resolveThroughput(p, k, r.Throughput); err != nil {
		return p, err
	}
	if r.MultiAttach != nil && *r.MultiAttach {
		if !k.multiAttachAllowed {
			return p, apiErr("InvalidParameterCombination", "Multi-Attach is supported only for io1 and io2 volumes; %s volumes cannot be multi-attached.", p.Type)
		}
		p.MultiAttach = true
	}
	return p, nil
}

func checkSize(p volumePerf, k volumeKind, snapSize int64, snapID string) error {
	switch {
	case p.Size < k.minSize:
		return invalid("Volume of %dGiB is too small; minimum is %dGiB for %s volumes.", p.Size, k.minSize, p.Type)
	case p.Size > k.maxSize:
		return invalid("Volume of %dGiB is too large; maximum is %dGiB for %s volumes.", p.Size, k.maxSize, p.Type)
	case snapSize > 0 && p.Size < snapSize:
		return invalid("Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", p.Size, snapID, snapSize)
	}
	return nil
}

func resolveIOPS(p volumePerf, k volumeKind, req *int32) (int64, error) {
	if !k.provisioned {
		if req != nil {
			return 0, invalid("The parameter iops is not supported for %s volumes.", p.Type)
		}
		if p.Type == "gp2" {
			return min(max(3*p.Size, 100), 16000), nil // gp2's baseline: 3 IOPS per GiB
		}
		return 0, nil
	}
	iops := k.defaultIOPS
	if req != nil {
		iops = int64(*req)
	}
	switch {
	case iops == 0:
		return 0, apiErr("MissingParameter", "The parameter iops must be specified for %s volumes.", p.Type)
	case iops < k.minIOPS:
		return 0, invalid("Volume iops of %d is too low; minimum is %d for %s volumes.", iops, k.minIOPS, p.Type)
	case iops > k.maxIOPS:
		return 0, invalid("Volume iops of %d is too high; maximum is %d for %s volumes.", iops, k.maxIOPS, p.Type)
	case iops > max(k.defaultIOPS, k.iopsPerGiB*p.Size): // gp3's 3000 baseline holds at any size
		return 0, invalid("Iops to volume size ratio of %.1f is too high; maximum is %d.", float64(iops)/float64(p.Size), k.iopsPerGiB)
	}
	return iops, nil
}

func resolveThroughput(p volumePerf, k volumeKind, req *int32) (int64, error) {
	if !k.throughput {
		if req != nil {
			return 0, invalid("The parameter throughput is not supported for %s volumes; it is valid only for gp3 volumes.", p.Type)
		}
		return 0, nil
	}
	tp := int64(gp3DefaultThroughput)
	if req != nil {
		tp = int64(*req)
	}
	switch {
	case tp < gp3MinThroughput:
		return 0, invalid("Throughput of %dMiB/s is too low; minimum is %dMiB/s.", tp, gp3MinThroughput)
	case tp > gp3MaxThroughput:
		return 0, invalid("Throughput of %dMiB/s is too high; maximum is %dMiB/s.", tp, gp3MaxThroughput)
	case float64(tp) > gp3ThroughputPerIOPS*float64(p.IOPS):
		return 0, invalid("Throughput to iops ratio of %.3f is too high; maximum is %.2f MiB/s per iops.", float64(tp)/float64(p.IOPS), gp3ThroughputPerIOPS)
	}
	return tp, nil
}
