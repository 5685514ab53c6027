package imds

import "strings"

// versionList is GET /: AWS's dated versions up to 2021-03-23, and latest.
// cloud-init probes 2021-03-23, 2018-09-24, 2016-09-02, then 2009-04-04.
// Every version serves the same tree.
const versionList = "1.0\n" +
	"2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n" +
	"2008-02-01\n2008-09-01\n2009-04-04\n" +
	"2011-01-01\n2011-05-01\n2012-01-12\n2014-02-25\n2014-11-05\n" +
	"2015-10-20\n2016-04-01\n2016-06-30\n2016-09-02\n" +
	"2018-03-28\n2018-08-17\n2018-09-24\n2019-10-01\n" +
	"2020-10-27\n2021-01-03\n2021-03-23\n" +
	"latest"

func knownVersion(v string) bool {
	for known := range strings.SplitSeq(versionList, "\n") {
		if v == known {
			return true
		}
	}
	return false
}

// versionRoot is the tree under /<version>/. AWS lists it without
// trailing slashes ("dynamic", "meta-data", "user-data"); cloud-init never
// crawls it, it starts at meta-data/ and dynamic/instance-identity.
func versionRoot(in *Instance) *node {
	root := newDir()
	root.bare = true
	root.put("dynamic", dynamicData(in))
	root.put("meta-data", metaData(in))
	if len(in.UserData) > 0 {
		root.blob("user-data", in.UserData)
	}
	return root
}
