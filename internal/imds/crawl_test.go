package imds

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// crawler walks the service the way cloud-init 22.4's EC2 datasource does
// (its MetadataMaterializer): children ("name/") are fetched as "name/",
// leaves as "name", "N=keyname" as "N/openssh-key"; single-line leaves are
// strings, multi-line ones lists, "{...}" JSON. Every fetch must answer 200.
type crawler struct {
	t     *testing.T
	h     http.Handler
	token string
	seen  int
}

func (c *crawler) fetch(path string) string {
	c.t.Helper()
	c.seen++
	code, body, _ := do(c.t, c.h, http.MethodGet, path, map[string]string{HeaderToken: c.token})
	if code != 200 {
		c.t.Errorf("crawl: GET %s answered %d, cloud-init would drop all metadata", path, code)
	}
	return body
}

func (c *crawler) materialize(base string) map[string]any {
	out := map[string]any{}
	for _, field := range strings.Split(c.fetch(base), "\n") {
		field = strings.TrimSpace(field)
		name := strings.TrimRight(field, "/")
		switch {
		case name == "":
		case strings.HasSuffix(field, "/"):
			out[name] = c.materialize(strings.TrimSuffix(base, "/") + "/" + name + "/")
		default:
			resource := name
			if id, key, ok := strings.Cut(name, "="); ok {
				if _, err := strconv.Atoi(id); err == nil {
					resource, name = id+"/openssh-key", key
				}
			}
			out[name] = decodeLeaf(c.fetch(strings.TrimSuffix(base, "/") + "/" + resource))
		}
	}
	return out
}

func decodeLeaf(s string) any {
	if strings.HasPrefix(s, "{") {
		var v map[string]any
		if json.Unmarshal([]byte(s), &v) == nil {
			return v
		}
	}
	if strings.Contains(s, "\n") {
		return strings.Split(s, "\n")
	}
	return s
}

func crawlInstances() map[string]*Instance {
	pub := fullInstance()
	pub.PublicIP, pub.KernelID, pub.RamdiskID, pub.AvailabilityZoneID = "203.0.113.7", "aki-1", "ari-1", "euw1-az1"
	required := fullInstance()
	required.HTTPTokensRequired = true
	return map[string]*Instance{"full": fullInstance(), "bare": bareInstance(), "public": pub, "required": required}
}

func TestCrawlLikeCloudInit(t *testing.T) {
	for name, in := range crawlInstances() {
		t.Run(name, func(t *testing.T) {
			s := newServer(fixed(in), nil)
			c := &crawler{t: t, h: s, token: putToken(t, s, "21600")}
			c.fetch("/2021-03-23/meta-data/instance-id") // the version probe
			md := c.materialize("/2021-03-23/meta-data/")
			id := c.materialize("/2021-03-23/dynamic/instance-identity")
			checkCrawl(t, in, md, id)
		})
	}
}

func checkCrawl(t *testing.T, in *Instance, md, id map[string]any) {
	t.Helper()
	if md["instance-id"] != in.ID || md["local-hostname"] != "ip-10-0-1-5.eu-west-1.compute.internal" {
		t.Errorf("instance-id %v local-hostname %v", md["instance-id"], md["local-hostname"])
	}
	macs := md["network"].(map[string]any)["interfaces"].(map[string]any)["macs"].(map[string]any)
	if got := slices.Collect(maps.Keys(macs)); len(got) != 1 || got[0] != "52:54:00:ab:cd:01" {
		t.Errorf("macs %v", got)
	}
	if keys, ok := md["public-keys"].(map[string]any); ok != (in.PublicKey != "") {
		t.Errorf("public-keys present=%v with key %q", ok, in.PublicKey)
	} else if ok && keys[in.KeyName] != strings.TrimSpace(in.PublicKey) {
		t.Errorf("public-keys %v", keys)
	}
	doc, _ := id["document"].(map[string]any)
	if doc["instanceId"] != in.ID || doc["version"] != "2017-09-30" {
		t.Errorf("document %v", doc)
	}
}

// TestEveryListedPathAnswers follows every listed name, with and without a
// trailing slash on directories, for each kind of instance.
func TestEveryListedPathAnswers(t *testing.T) {
	for name, in := range crawlInstances() {
		t.Run(name, func(t *testing.T) {
			s := newServer(fixed(in), nil)
			c := &crawler{t: t, h: s, token: putToken(t, s, "60")}
			for v := range strings.SplitSeq(c.fetch("/"), "\n") {
				c.every("/" + v + "/") // its entries: dynamic, meta-data, user-data
				c.every("/" + v + "/meta-data/")
				c.every("/" + v + "/dynamic/")
			}
			if c.seen < 26*40 {
				t.Errorf("crawled only %d paths", c.seen)
			}
		})
	}
}

func (c *crawler) every(dir string) {
	for _, entry := range strings.Split(c.fetch(dir), "\n") {
		if entry == "" {
			c.t.Errorf("empty line in listing of %s", dir)
			continue
		}
		name, _, labelled := strings.Cut(entry, "=")
		switch {
		case labelled:
			c.fetch(dir + name)
			c.every(dir + name + "/")
		case strings.HasSuffix(entry, "/"):
			c.fetch(dir + strings.TrimSuffix(entry, "/"))
			c.every(dir + entry)
		default:
			c.fetch(dir + entry)
		}
	}
}

func TestIdentityDocument(t *testing.T) {
	in := fullInstance()
	s := newServer(fixed(in), nil)
	_, body := get(t, s, "/latest/dynamic/instance-identity/document")
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	want := map[string]any{
		"accountId": "123456789012", "architecture": "x86_64", "availabilityZone": "eu-west-1a",
		"billingProducts": nil, "devpayProductCodes": nil, "marketplaceProductCodes": nil,
		"imageId": "ami-0123456789abcdef0", "instanceId": "i-0a1b2c3d4e5f60718", "instanceType": "t3.micro",
		"kernelId": nil, "pendingTime": "2026-11-25T10:59:30Z", "privateIp": "10.0.1.5",
		"ramdiskId": nil, "region": "eu-west-1", "version": "2017-09-30",
	}
	if !maps.Equal(doc, want) {
		t.Errorf("document\n got %v\nwant %v", doc, want)
	}
	in.KernelID, in.RamdiskID = "aki-1", "ari-1"
	_, body = get(t, s, "/latest/dynamic/instance-identity/document")
	doc = nil
	_ = json.Unmarshal([]byte(body), &doc)
	if doc["kernelId"] != "aki-1" || doc["ramdiskId"] != "ari-1" {
		t.Errorf("kernelId %v ramdiskId %v", doc["kernelId"], doc["ramdiskId"])
	}
}
