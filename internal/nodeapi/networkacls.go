package nodeapi

// SubnetNetworkACL is the network ACL one subnet of a VPC uses (its
// associated ACL, or the VPC's default one).
type SubnetNetworkACL struct {
	SubnetID     string            `json:"subnetId"`
	CIDR         string            `json:"cidr"` // the subnet's IPv4 range
	NetworkACLID string            `json:"networkAclId"`
	Entries      []NetworkACLEntry `json:"entries,omitempty"` // ordered: direction, then rule number
}

// NetworkACLEntry is one numbered entry: Protocol "-1" or an IP protocol
// number; CIDR the peer range (IPv4 or IPv6); FromPort/ToPort the
// destination port range for tcp and udp (-1: all), the ICMP type and code
// for icmp (-1: any). Rule 32767 is the "*" entry (deny).
type NetworkACLEntry struct {
	RuleNumber int    `json:"ruleNumber"`
	Egress     bool   `json:"egress,omitempty"`
	Allow      bool   `json:"allow,omitempty"`
	Protocol   string `json:"protocol"`
	CIDR       string `json:"cidr"`
	FromPort   int    `json:"fromPort"`
	ToPort     int    `json:"toPort"`
}
