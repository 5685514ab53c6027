package ec2

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
)

// InstanceType is one entry of the catalogue: what a guest of that type gets.
type InstanceType struct {
	Name      string `json:"Name"`
	VCPUs     int32  `json:"VCpus"`
	MemoryMiB int64  `json:"MemoryMiB"`
	// Burstable marks t-family types.
	Burstable bool `json:"Burstable,omitempty"`
}

// DefaultInstanceTypes is the built-in catalogue, sized as AWS's types.
func DefaultInstanceTypes() []InstanceType {
	return []InstanceType{
		{"t3.nano", 2, 512, true}, {"t3.micro", 2, 1024, true}, {"t3.small", 2, 2048, true},
		{"t3.medium", 2, 4096, true}, {"t3.large", 2, 8192, true}, {"t3.xlarge", 4, 16384, true},
		{"t3.2xlarge", 8, 32768, true}, {"m5.large", 2, 8192, false}, {"m5.xlarge", 4, 16384, false},
		{"m5.2xlarge", 8, 32768, false},
	}
}

// LoadInstanceTypes reads a catalogue from a JSON file: a list of
// {"Name": "c1.huge", "VCpus": 16, "MemoryMiB": 65536}.
func LoadInstanceTypes(path string) ([]InstanceType, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("instance type catalogue: %w", err)
	}
	var list []InstanceType
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("instance type catalogue %s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, t := range list {
		if t.Name == "" || !strings.Contains(t.Name, ".") || t.VCPUs < 1 || t.MemoryMiB < 128 || seen[t.Name] {
			return nil, fmt.Errorf("instance type catalogue %s: entry %+v needs a unique family.size name, VCpus >= 1 and MemoryMiB >= 128", path, t)
		}
		seen[t.Name] = true
	}
	return list, nil
}

func apiInstanceType(t InstanceType) ec2api.InstanceTypeInfo {
	return ec2api.InstanceTypeInfo{
		InstanceType:                  str(t.Name),
		CurrentGeneration:             boolp(true),
		FreeTierEligible:              boolp(false),
		SupportedUsageClasses:         []string{"on-demand"},
		SupportedRootDeviceTypes:      []string{"ebs"},
		SupportedVirtualizationTypes:  []string{"hvm"},
		SupportedBootModes:            []string{"legacy-bios", "uefi"},
		BareMetal:                     boolp(false),
		Hypervisor:                    str("nitro"),
		ProcessorInfo:                 &ec2api.ProcessorInfo{SupportedArchitectures: []string{"x86_64"}},
		VCpuInfo:                      &ec2api.VCpuInfo{DefaultVCpus: i32(t.VCPUs), DefaultCores: i32(t.VCPUs), DefaultThreadsPerCore: i32(1)},
		MemoryInfo:                    &ec2api.MemoryInfo{SizeInMiB: i64(t.MemoryMiB)},
		InstanceStorageSupported:      boolp(false),
		BurstablePerformanceSupported: boolp(t.Burstable),
		HibernationSupported:          boolp(false),
		DedicatedHostsSupported:       boolp(false),
		AutoRecoverySupported:         boolp(false),
		NetworkInfo: &ec2api.NetworkInfo{
			NetworkPerformance: str("Up to 5 Gigabit"), MaximumNetworkInterfaces: i32(3),
			Ipv4AddressesPerInterface: i32(10), Ipv6AddressesPerInterface: i32(10), Ipv6Supported: boolp(false),
			EnaSupport: str("unsupported"), EfaSupported: boolp(false),
		},
	}
}

var instanceTypeFields = filter.Fields[InstanceType]{
	"instance-type":                         func(t InstanceType) []string { return filter.One(t.Name) },
	"vcpu-info.default-vcpus":               func(t InstanceType) []string { return filter.One(strconv.Itoa(int(t.VCPUs))) },
	"vcpu-info.default-cores":               func(t InstanceType) []string { return filter.One(strconv.Itoa(int(t.VCPUs))) },
	"memory-info.size-in-mib":               func(t InstanceType) []string { return filter.One(strconv.FormatInt(t.MemoryMiB, 10)) },
	"processor-info.supported-architecture": func(InstanceType) []string { return filter.One("x86_64") },
	"current-generation":                    func(InstanceType) []string { return filter.Bool(true) },
	"burstable-performance-supported":       func(t InstanceType) []string { return filter.Bool(t.Burstable) },
	"free-tier-eligible":                    func(InstanceType) []string { return filter.Bool(false) },
	"hypervisor":                            func(InstanceType) []string { return filter.One("nitro") },
	"bare-metal":                            func(InstanceType) []string { return filter.Bool(false) },
	"supported-usage-class":                 func(InstanceType) []string { return filter.One("on-demand") },
	"supported-root-device-type":            func(InstanceType) []string { return filter.One("ebs") },
	"supported-virtualization-type":         func(InstanceType) []string { return filter.One("hvm") },
}

// DescribeInstanceTypes answers from the configured catalogue.
func (s *Service) DescribeInstanceTypes(ctx context.Context, in *ec2api.DescribeInstanceTypesRequest) (*ec2api.DescribeInstanceTypesResult, error) {
	types := append([]InstanceType(nil), s.Cfg.InstanceTypes...)
	if len(in.InstanceTypes) > 0 {
		known := map[string]InstanceType{}
		for _, t := range types {
			known[t.Name] = t
		}
		var missing []string
		types = types[:0]
		for _, n := range in.InstanceTypes {
			if t, ok := known[n]; ok {
				types = append(types, t)
			} else {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return nil, apiErr("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", strings.Join(missing, ", "))
		}
	}
	page, next, err := describe(types, in.Filters, instanceTypeFields, nil, func(t InstanceType) string { return t.Name },
		in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 100})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceTypesResult{InstanceTypes: []ec2api.InstanceTypeInfo{}, NextToken: next}
	for _, t := range page {
		out.InstanceTypes = append(out.InstanceTypes, apiInstanceType(t))
	}
	return out, nil
}
