package imds

import (
	"encoding/json"
	"time"
)

// identityVersion is the document's version field, the same on every AWS instance.
const identityVersion = "2017-09-30"

// document is dynamic/instance-identity/document, in AWS's field order.
// Unset optional fields are JSON null, as on AWS.
type document struct {
	AccountID               string   `json:"accountId"`
	Architecture            string   `json:"architecture"`
	AvailabilityZone        string   `json:"availabilityZone"`
	BillingProducts         []string `json:"billingProducts"`
	DevpayProductCodes      []string `json:"devpayProductCodes"`
	MarketplaceProductCodes []string `json:"marketplaceProductCodes"`
	ImageID                 string   `json:"imageId"`
	InstanceID              string   `json:"instanceId"`
	InstanceType            string   `json:"instanceType"`
	KernelID                *string  `json:"kernelId"`
	PendingTime             string   `json:"pendingTime"`
	PrivateIP               string   `json:"privateIp"`
	RamdiskID               *string  `json:"ramdiskId"`
	Region                  string   `json:"region"`
	Version                 string   `json:"version"`
}

func identityDocument(in *Instance) []byte {
	doc := document{
		AccountID:        in.AccountID,
		Architecture:     "x86_64",
		AvailabilityZone: in.AvailabilityZone,
		ImageID:          in.ImageID,
		InstanceID:       in.ID,
		InstanceType:     in.InstanceType,
		KernelID:         nullable(in.KernelID),
		PendingTime:      in.PendingTime.UTC().Truncate(time.Second).Format(time.RFC3339),
		PrivateIP:        in.PrivateIP,
		RamdiskID:        nullable(in.RamdiskID),
		Region:           in.Region,
		Version:          identityVersion,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil { // cannot happen: only strings and nil slices
		return []byte("{}")
	}
	return b
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// dynamicData is the dynamic/ tree: only what is served is listed (no
// pkcs7, signature or rsa2048 until Kumo signs documents).
func dynamicData(in *Instance) *node {
	d := newDir()
	d.dir("instance-identity").blob("document", identityDocument(in))
	return d
}
