package s3

import (
	"encoding/xml"
	"strings"
)

// Canned ACLs. Kumo stores a bucket's or object's canned ACL and derives
// grants from it; grant lists (x-amz-grant-*, an AccessControlPolicy body)
// are not supported. Every object belongs to its bucket's owner, as in S3
// with Object Ownership "bucket owner enforced".
const (
	aclPrivate                = "private"
	aclPublicRead             = "public-read"
	aclPublicReadWrite        = "public-read-write"
	aclAuthenticatedRead      = "authenticated-read"
	aclBucketOwnerRead        = "bucket-owner-read"
	aclBucketOwnerFullControl = "bucket-owner-full-control"
)

// parseCannedACL checks an x-amz-acl value ("" is private).
func parseCannedACL(v string, object bool) (string, *Error) {
	switch v {
	case "":
		return aclPrivate, nil
	case aclPrivate, aclPublicRead, aclPublicReadWrite, aclAuthenticatedRead:
		return v, nil
	case aclBucketOwnerRead, aclBucketOwnerFullControl:
		if object {
			return aclPrivate, nil // the bucket owner owns every object already
		}
	}
	return "", apiError(ErrInvalidArgument, "The canned ACL %q is not supported; use private, public-read, public-read-write or authenticated-read.", v)
}

// aclReaches reports whether an ACL's grantee group includes the caller.
func aclReaches(acl string, c Caller) bool {
	switch acl {
	case aclPublicRead, aclPublicReadWrite:
		return true
	case aclAuthenticatedRead:
		return !c.Anonymous
	}
	return false
}

// bucketACLAllows: READ on a bucket lists it; WRITE (public-read-write)
// creates, overwrites and deletes its objects.
func bucketACLAllows(acl string, c Caller, action string) bool {
	if !aclReaches(acl, c) {
		return false
	}
	switch action {
	case "s3:ListBucket", "s3:ListBucketMultipartUploads":
		return true
	case "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts":
		return acl == aclPublicReadWrite
	}
	return false
}

// objectACLAllows: READ on an object gets it.
func objectACLAllows(acl string, c Caller, action string) bool {
	return action == "s3:GetObject" && aclReaches(acl, c)
}

// accessControlPolicy is the GetBucketAcl/GetObjectAcl answer.
type accessControlPolicy struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccessControlPolicy"`
	Owner   owner    `xml:"Owner"`
	Grants  []grant  `xml:"AccessControlList>Grant"`
}

type grant struct {
	Grantee    grantee `xml:"Grantee"`
	Permission string  `xml:"Permission"`
}

type grantee struct {
	XMLNS       string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID,omitempty"`
	DisplayName string `xml:"DisplayName,omitempty"`
	URI         string `xml:"URI,omitempty"`
}

const (
	allUsersURI      = "http://acs.amazonaws.com/groups/global/AllUsers"
	authenticatedURI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	xsiNS            = "http://www.w3.org/2001/XMLSchema-instance"
)

// aclPolicy lists the grants a canned ACL stands for.
func aclPolicy(acl string, o owner) accessControlPolicy {
	p := accessControlPolicy{Owner: o, Grants: []grant{{
		Grantee:    grantee{XMLNS: xsiNS, Type: "CanonicalUser", ID: o.ID, DisplayName: o.DisplayName},
		Permission: "FULL_CONTROL",
	}}}
	group := func(uri, perm string) grant {
		return grant{Grantee: grantee{XMLNS: xsiNS, Type: "Group", URI: uri}, Permission: perm}
	}
	switch acl {
	case aclPublicRead:
		p.Grants = append(p.Grants, group(allUsersURI, "READ"))
	case aclPublicReadWrite:
		p.Grants = append(p.Grants, group(allUsersURI, "READ"), group(allUsersURI, "WRITE"))
	case aclAuthenticatedRead:
		p.Grants = append(p.Grants, group(authenticatedURI, "READ"))
	}
	return p
}

// isPolicyAction: the owner may always manage the bucket policy, even
// one that denies it everything, so a bad policy cannot lock it out.
func isPolicyAction(action string) bool {
	return strings.HasSuffix(action, "BucketPolicy")
}
