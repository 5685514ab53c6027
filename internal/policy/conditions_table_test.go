package policy

import (
	"fmt"
	"testing"
)

// condCase is one Condition block and one request context, from the
// examples of AWS's condition operator pages ("IAM JSON policy elements:
// Condition operators", "Single-valued vs. multivalued context keys",
// "Condition with multiple context keys or values", "Policy variables").
// The block sits in an Allow statement (or a Deny one, deny=true, behind
// an Allow of everything): want says whether the condition holds, which
// the table checks as the decision and the statement that made it.
type condCase struct {
	cond string   // the Condition element's JSON
	ctx  []string // "key=v1|v2"; "key=" is present and empty
	want bool
	deny bool
}

var conditionCases = []condCase{
	// String operators: case-sensitive equality, IgnoreCase, Like.
	{cond: `{"StringEquals":{"aws:username":"johndoe"}}`, ctx: []string{"aws:username=johndoe"}, want: true},
	{cond: `{"StringEquals":{"aws:username":"johndoe"}}`, ctx: []string{"aws:username=JohnDoe"}, want: false},
	{cond: `{"StringEqualsIgnoreCase":{"aws:username":"johndoe"}}`, ctx: []string{"aws:username=JohnDoe"}, want: true},
	{cond: `{"StringEqualsIgnoreCase":{"aws:username":"johndoe"}}`, ctx: []string{"aws:username=jane"}, want: false},
	{cond: `{"StringEquals":{"aws:username":"johndoe"}}`, want: false},
	{cond: `{"StringNotEquals":{"aws:username":"johndoe"}}`, want: true},
	{cond: `{"StringNotEquals":{"aws:username":"johndoe"}}`, ctx: []string{"aws:username=jane"}, want: true},
	{cond: `{"StringNotEquals":{"aws:username":"johndoe"}}`, ctx: []string{"aws:username=johndoe"}, want: false},
	{cond: `{"StringNotEquals":{"aws:username":"johndoe"}}`, ctx: []string{"aws:username=JohnDoe"}, want: true},
	{cond: `{"StringNotEqualsIgnoreCase":{"aws:username":"johndoe"}}`, ctx: []string{"aws:username=JOHNDOE"}, want: false},
	{cond: `{"StringNotEqualsIgnoreCase":{"aws:username":"johndoe"}}`, ctx: []string{"aws:username=jane"}, want: true},
	{cond: `{"StringNotEqualsIgnoreCase":{"aws:username":"johndoe"}}`, want: true},
	{cond: `{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}`, ctx: []string{"aws:PrincipalTag/job-category=iamuser-admin"}, want: true},
	{cond: `{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}`, ctx: []string{"aws:PrincipalTag/job-category=admin"}, want: false},
	{cond: `{"StringEquals":{"aws:RequestedRegion":["us-east-1","us-west-1"]}}`, ctx: []string{"aws:RequestedRegion=us-west-1"}, want: true},
	{cond: `{"StringEquals":{"aws:RequestedRegion":["us-east-1","us-west-1"]}}`, ctx: []string{"aws:RequestedRegion=eu-west-1"}, want: false},
	{cond: `{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-1"]}}`, ctx: []string{"aws:RequestedRegion=eu-west-1"}, want: true},
	{cond: `{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-1"]}}`, ctx: []string{"aws:RequestedRegion=us-east-1"}, want: false},
	{cond: `{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`, ctx: []string{"s3:prefix=home/", "aws:username=alice"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`, ctx: []string{`s3:prefix=""`, "aws:username=alice"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`, ctx: []string{"s3:prefix=", "aws:username=alice"}, want: false},
	{cond: `{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`, ctx: []string{"s3:prefix=home/alice/docs", "aws:username=alice"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`, ctx: []string{"s3:prefix=home/bob/docs", "aws:username=alice"}, want: false},
	{cond: `{"StringLike":{"s3:prefix":"home/*"}}`, ctx: []string{"s3:prefix=Home/x"}, want: false},
	{cond: `{"StringLike":{"s3:prefix":"home/*"}}`, ctx: []string{"s3:prefix=home/"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":"ho?e"}}`, ctx: []string{"s3:prefix=home"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":"ho?e"}}`, ctx: []string{"s3:prefix=hoome"}, want: false},
	{cond: `{"StringLike":{"s3:prefix":"*"}}`, ctx: []string{"s3:prefix=anything/at/all"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":"*"}}`, want: false},
	{cond: `{"StringLike":{"ec2:InstanceType":["t2.*","t3.*"]}}`, ctx: []string{"ec2:InstanceType=t3.micro"}, want: true},
	{cond: `{"StringLike":{"ec2:InstanceType":["t2.*","t3.*"]}}`, ctx: []string{"ec2:InstanceType=m5.large"}, want: false},
	{cond: `{"StringNotLike":{"ec2:InstanceType":["*.nano","*.small","*.micro"]}}`, ctx: []string{"ec2:InstanceType=m5.large"}, want: true},
	{cond: `{"StringNotLike":{"ec2:InstanceType":["*.nano","*.small","*.micro"]}}`, ctx: []string{"ec2:InstanceType=t2.micro"}, want: false},
	{cond: `{"StringNotLike":{"ec2:InstanceType":["*.nano","*.small","*.micro"]}}`, want: true},
	{cond: `{"StringEquals":{"AWS:UserName":"alice"}}`, ctx: []string{"aws:username=alice"}, want: true},
	{cond: `{"StringEquals":{"aws:requesttag/CostCenter":"12345"}}`, ctx: []string{"aws:RequestTag/costcenter=12345"}, want: true},
	{cond: `{"StringEquals":{"s3:max-keys":10}}`, ctx: []string{"s3:max-keys=10"}, want: true},
	{cond: `{"StringEquals":{"aws:SecureTransport":true}}`, ctx: []string{"aws:SecureTransport=true"}, want: true},
	{cond: `{"StringEquals":{"aws:TagKeys":"b"}}`, ctx: []string{"aws:TagKeys=a|b"}, want: true},
	{cond: `{"StringEquals":{"aws:TagKeys":"c"}}`, ctx: []string{"aws:TagKeys=a|b"}, want: false},
	{cond: `{"StringNotEquals":{"aws:TagKeys":"b"}}`, ctx: []string{"aws:TagKeys=a|b"}, want: false},
	{cond: `{"StringNotEquals":{"aws:TagKeys":"c"}}`, ctx: []string{"aws:TagKeys=a|b"}, want: true},
	// ...IfExists: a missing key passes, a present key is checked.
	{cond: `{"StringEqualsIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`, want: true},
	{cond: `{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`, ctx: []string{"ec2:InstanceType=t2.micro"}, want: true},
	{cond: `{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`, ctx: []string{"ec2:InstanceType=m5.large"}, want: false},
	{cond: `{"StringEqualsIfExists":{"ec2:InstanceType":"t2.micro"}}`, ctx: []string{"ec2:InstanceType=t2.micro"}, want: true},
	{cond: `{"StringNotEqualsIfExists":{"ec2:InstanceType":"t2.micro"}}`, want: true},
	{cond: `{"StringNotEqualsIfExists":{"ec2:InstanceType":"t2.micro"}}`, ctx: []string{"ec2:InstanceType=t2.micro"}, want: false},
	{cond: `{"StringNotEqualsIfExists":{"ec2:InstanceType":"t2.micro"}}`, ctx: []string{"ec2:InstanceType=t3.micro"}, want: true},
	{cond: `{"StringEqualsIgnoreCaseIfExists":{"ec2:Region":"US-EAST-1"}}`, ctx: []string{"ec2:Region=us-east-1"}, want: true},
	// Numeric operators (s3:max-keys examples).
	{cond: `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=10"}, want: true},
	{cond: `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=9"}, want: true},
	{cond: `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=11"}, want: false},
	{cond: `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, want: false},
	{cond: `{"NumericLessThan":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=10"}, want: false},
	{cond: `{"NumericLessThan":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=9.5"}, want: true},
	{cond: `{"NumericLessThan":{"s3:max-keys":0}}`, ctx: []string{"s3:max-keys=-1"}, want: true},
	{cond: `{"NumericGreaterThan":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=11"}, want: true},
	{cond: `{"NumericGreaterThan":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=10"}, want: false},
	{cond: `{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=10"}, want: true},
	{cond: `{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=9"}, want: false},
	{cond: `{"NumericEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=10.0"}, want: true},
	{cond: `{"NumericEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=1e1"}, want: true},
	{cond: `{"NumericEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=ten"}, want: false},
	{cond: `{"NumericEquals":{"s3:max-keys":"ten"}}`, ctx: []string{"s3:max-keys=10"}, want: false},
	{cond: `{"NumericEquals":{"s3:max-keys":["5","10"]}}`, ctx: []string{"s3:max-keys=5"}, want: true},
	{cond: `{"NumericNotEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=11"}, want: true},
	{cond: `{"NumericNotEquals":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=10"}, want: false},
	{cond: `{"NumericNotEquals":{"s3:max-keys":"10"}}`, want: true},
	{cond: `{"NumericLessThanEqualsIfExists":{"s3:max-keys":"10"}}`, want: true},
	{cond: `{"NumericLessThanEqualsIfExists":{"s3:max-keys":"10"}}`, ctx: []string{"s3:max-keys=100"}, want: false},
	{cond: `{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`, ctx: []string{"aws:MultiFactorAuthAge=120"}, want: true},
	{cond: `{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}`, deny: true, ctx: []string{"aws:MultiFactorAuthAge=7200"}, want: true},
	{cond: `{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}`, deny: true, want: false},
	// Date operators (aws:CurrentTime, aws:EpochTime, aws:TokenIssueTime).
	{cond: `{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=2020-05-01T00:00:00Z"}, want: true},
	{cond: `{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=2020-03-01T00:00:00Z"}, want: false},
	{cond: `{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=2020-04-01T00:00:00Z"}, want: false},
	{cond: `{"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}`, ctx: []string{"aws:CurrentTime=2020-07-01T00:00:00Z"}, want: false},
	{cond: `{"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}`, ctx: []string{"aws:CurrentTime=2020-06-30T23:59:58Z"}, want: true},
	{cond: `{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}`, ctx: []string{"aws:CurrentTime=2020-05-15T12:00:00Z"}, want: true},
	{cond: `{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}`, ctx: []string{"aws:CurrentTime=2020-08-15T12:00:00Z"}, want: false},
	{cond: `{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}`, ctx: []string{"aws:CurrentTime=2020-01-15T12:00:00Z"}, want: false},
	{cond: `{"DateEquals":{"aws:CurrentTime":"1577836800"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, want: true},
	{cond: `{"DateEquals":{"aws:CurrentTime":"2020-01-01T01:00:00+01:00"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, want: true},
	{cond: `{"DateEquals":{"aws:CurrentTime":"2020-01-01"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, want: true},
	{cond: `{"DateEquals":{"aws:CurrentTime":"2020-01-01"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:01Z"}, want: false},
	{cond: `{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=2020-01-02T00:00:00Z"}, want: true},
	{cond: `{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, want: false},
	{cond: `{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, want: true},
	{cond: `{"DateLessThanEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, want: true},
	{cond: `{"DateLessThanEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:01Z"}, want: false},
	{cond: `{"DateGreaterThanEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, want: true},
	{cond: `{"DateGreaterThanEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=2019-12-31T23:59:59Z"}, want: false},
	{cond: `{"DateLessThan":{"aws:EpochTime":"1600000000"}}`, ctx: []string{"aws:EpochTime=1500000000"}, want: true},
	{cond: `{"DateLessThan":{"aws:EpochTime":"1600000000"}}`, ctx: []string{"aws:EpochTime=1700000000"}, want: false},
	{cond: `{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:00Z"}}`, want: false},
	{cond: `{"DateGreaterThanIfExists":{"aws:TokenIssueTime":"2020-01-01T00:00:00Z"}}`, want: true},
	{cond: `{"DateGreaterThanIfExists":{"aws:TokenIssueTime":"2020-01-01T00:00:00Z"}}`, ctx: []string{"aws:TokenIssueTime=2019-01-01T00:00:00Z"}, want: false},
	{cond: `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx: []string{"aws:CurrentTime=yesterday"}, want: false},
	{cond: `{"DateGreaterThan":{"aws:CurrentTime":"not a date"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, want: false},
	{cond: `{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00.500Z"}}`, ctx: []string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, want: true},
	// Bool (aws:SecureTransport, aws:MultiFactorAuthPresent).
	{cond: `{"Bool":{"aws:SecureTransport":"true"}}`, ctx: []string{"aws:SecureTransport=true"}, want: true},
	{cond: `{"Bool":{"aws:SecureTransport":"true"}}`, ctx: []string{"aws:SecureTransport=false"}, want: false},
	{cond: `{"Bool":{"aws:SecureTransport":"true"}}`, ctx: []string{"aws:SecureTransport=TRUE"}, want: true},
	{cond: `{"Bool":{"aws:SecureTransport":"true"}}`, want: false},
	{cond: `{"Bool":{"aws:SecureTransport":true}}`, ctx: []string{"aws:SecureTransport=true"}, want: true},
	{cond: `{"Bool":{"aws:SecureTransport":"false"}}`, deny: true, ctx: []string{"aws:SecureTransport=false"}, want: true},
	{cond: `{"Bool":{"aws:SecureTransport":"false"}}`, deny: true, ctx: []string{"aws:SecureTransport=true"}, want: false},
	{cond: `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`, want: false},
	{cond: `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`, ctx: []string{"aws:MultiFactorAuthPresent=true"}, want: true},
	{cond: `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, deny: true, want: true},
	{cond: `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, deny: true, ctx: []string{"aws:MultiFactorAuthPresent=false"}, want: true},
	{cond: `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, deny: true, ctx: []string{"aws:MultiFactorAuthPresent=true"}, want: false},
	{cond: `{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`, deny: true, want: false},
	// BinaryEquals compares base64 text.
	{cond: `{"BinaryEquals":{"key:name":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`, ctx: []string{"key:name=QmluYXJ5VmFsdWVJbkJhc2U2NA=="}, want: true},
	{cond: `{"BinaryEquals":{"key:name":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`, ctx: []string{"key:name=QmluYXJ5"}, want: false},
	{cond: `{"BinaryEquals":{"key:name":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`, want: false},
	{cond: `{"BinaryEqualsIfExists":{"key:name":"QmluYXJ5"}}`, want: true},
	// IpAddress / NotIpAddress, IPv4 and IPv6.
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx: []string{"aws:SourceIp=203.0.113.5"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx: []string{"aws:SourceIp=203.0.114.1"}, want: false},
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, want: false},
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx: []string{"aws:SourceIp=::ffff:203.0.113.5"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx: []string{"aws:SourceIp=2001:db8::1"}, want: false},
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx: []string{"aws:SourceIp=not-an-ip"}, want: false},
	{cond: `{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`, ctx: []string{"aws:SourceIp=2001:db8:1234:5678::1"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`, ctx: []string{"aws:SourceIp=2001:db8:1234:5679::1"}, want: false},
	{cond: `{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}`, ctx: []string{"aws:SourceIp=2001:DB8:1234:5678:ffff::9"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}`, ctx: []string{"aws:SourceIp=203.0.113.200"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, ctx: []string{"aws:SourceIp=203.0.113.7"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, ctx: []string{"aws:SourceIp=203.0.113.8"}, want: false},
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.7/32"}}`, ctx: []string{"aws:SourceIp=203.0.113.7"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, ctx: []string{"aws:SourceIp=198.51.100.1"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":"::/0"}}`, ctx: []string{"aws:SourceIp=2001:db8::5"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":"203.0.113.9/24"}}`, ctx: []string{"aws:SourceIp=203.0.113.1"}, want: true},
	{cond: `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}`, deny: true, ctx: []string{"aws:SourceIp=192.0.2.9"}, want: false},
	{cond: `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}`, deny: true, ctx: []string{"aws:SourceIp=10.0.0.1"}, want: true},
	{cond: `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}`, deny: true, want: true},
	{cond: `{"NotIpAddress":{"aws:SourceIp":"2001:DB8::/32"}}`, ctx: []string{"aws:SourceIp=2001:db8::1"}, want: false},
	{cond: `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, want: true},
	{cond: `{"NotIpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx: []string{"aws:SourceIp=10.9.9.9"}, want: false},
	// Arn operators: segment by segment, wildcards in both.
	{cond: `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:topic"}}`, ctx: []string{"aws:SourceArn=arn:aws:sns:us-east-1:111122223333:topic"}, want: true},
	{cond: `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:topic"}}`, ctx: []string{"aws:SourceArn=arn:aws:sns:us-east-1:111122223333:other"}, want: false},
	{cond: `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`, ctx: []string{"aws:SourceArn=arn:aws:sns:eu-west-1:111122223333:topic"}, want: true},
	{cond: `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`, ctx: []string{"aws:SourceArn=arn:aws:sns:eu-west-1:444455556666:topic"}, want: false},
	{cond: `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`, want: false},
	{cond: `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`, ctx: []string{"aws:SourceArn=not-an-arn"}, want: false},
	{cond: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`, ctx: []string{"aws:PrincipalArn=arn:aws:iam::111122223333:role/AdminTeam"}, want: true},
	{cond: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`, ctx: []string{"aws:PrincipalArn=arn:aws:iam::111122223333:user/AdminTeam"}, want: false},
	{cond: `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::bucket-*"}}`, ctx: []string{"aws:SourceArn=arn:aws:s3:::bucket-logs"}, want: true},
	{cond: `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:bucket"}}`, ctx: []string{"aws:SourceArn=arn:aws:s3:::bucket"}, want: true},
	{cond: `{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:us-east-1:*:instance/*"}}`, ctx: []string{"aws:SourceArn=arn:aws:ec2:us-east-1:111122223333:volume/vol-1"}, want: false},
	{cond: `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/Admin"}}`, ctx: []string{"aws:PrincipalArn=arn:aws:iam::111122223333:role/Dev"}, want: true},
	{cond: `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/Admin"}}`, ctx: []string{"aws:PrincipalArn=arn:aws:iam::111122223333:role/Admin"}, want: false},
	{cond: `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/Admin"}}`, want: true},
	{cond: `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`, deny: true, ctx: []string{"aws:PrincipalArn=arn:aws:iam::111122223333:role/AdminX"}, want: false},
	{cond: `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`, deny: true, ctx: []string{"aws:PrincipalArn=arn:aws:iam::111122223333:user/alice"}, want: true},
	{cond: `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`, want: true},
	// Null: is the key absent?
	{cond: `{"Null":{"aws:TokenIssueTime":"true"}}`, want: true},
	{cond: `{"Null":{"aws:TokenIssueTime":"true"}}`, ctx: []string{"aws:TokenIssueTime=2020-01-01T00:00:00Z"}, want: false},
	{cond: `{"Null":{"aws:TokenIssueTime":"false"}}`, ctx: []string{"aws:TokenIssueTime=2020-01-01T00:00:00Z"}, want: true},
	{cond: `{"Null":{"aws:TokenIssueTime":"false"}}`, want: false},
	{cond: `{"Null":{"aws:TokenIssueTime":true}}`, want: true},
	{cond: `{"Null":{"aws:RequestTag/team":"false"}}`, ctx: []string{"aws:RequestTag/Team=blue"}, want: true},
	{cond: `{"Null":{"aws:TagKeys":"false"}}`, ctx: []string{"aws:TagKeys=a"}, want: true},
	{cond: `{"Null":{"ec2:ResourceTag/team":"true"}}`, deny: true, want: true},
	// ForAllValues / ForAnyValue over multivalued keys (aws:TagKeys).
	{cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, ctx: []string{"aws:TagKeys=environment"}, want: true},
	{cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, ctx: []string{"aws:TagKeys=environment|cost-center"}, want: true},
	{cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, ctx: []string{"aws:TagKeys=environment|owner"}, want: false},
	{cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, want: true},
	{cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, ctx: []string{"aws:TagKeys="}, want: true},
	{cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, ctx: []string{"aws:TagKeys=Environment"}, want: false},
	{cond: `{"ForAllValues:StringEqualsIgnoreCase":{"aws:TagKeys":["environment","cost-center"]}}`, ctx: []string{"aws:TagKeys=Environment|COST-CENTER"}, want: true},
	{cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]},"Null":{"aws:TagKeys":"false"}}`, want: false},
	{cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]},"Null":{"aws:TagKeys":"false"}}`, ctx: []string{"aws:TagKeys=environment"}, want: true},
	{cond: `{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, ctx: []string{"aws:TagKeys=environment|owner"}, want: true},
	{cond: `{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, ctx: []string{"aws:TagKeys=owner"}, want: false},
	{cond: `{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, want: false},
	{cond: `{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}`, ctx: []string{"aws:TagKeys="}, want: false},
	{cond: `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["environment"]}}`, want: true},
	{cond: `{"ForAllValues:StringLike":{"aws:TagKeys":"key*"}}`, ctx: []string{"aws:TagKeys=key1|key2"}, want: true},
	{cond: `{"ForAllValues:StringLike":{"aws:TagKeys":"key*"}}`, ctx: []string{"aws:TagKeys=key1|other"}, want: false},
	{cond: `{"ForAnyValue:StringLike":{"aws:TagKeys":"key*"}}`, ctx: []string{"aws:TagKeys=other|key9"}, want: true},
	{cond: `{"ForAnyValue:StringLike":{"aws:TagKeys":"key*"}}`, ctx: []string{"aws:TagKeys=other"}, want: false},
	{cond: `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, ctx: []string{"aws:TagKeys=a|b"}, want: true},
	{cond: `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, ctx: []string{"aws:TagKeys=a|secret"}, want: false},
	{cond: `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, want: true},
	{cond: `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["secret"]}}`, ctx: []string{"aws:TagKeys=secret"}, want: false},
	{cond: `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["secret"]}}`, ctx: []string{"aws:TagKeys=secret|a"}, want: true},
	{cond: `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["secret"]}}`, want: false},
	{cond: `{"ForAllValues:StringNotLike":{"aws:TagKeys":"aws:*"}}`, ctx: []string{"aws:TagKeys=team|env"}, want: true},
	{cond: `{"ForAllValues:StringNotLike":{"aws:TagKeys":"aws:*"}}`, ctx: []string{"aws:TagKeys=team|aws:cloudformation:stack"}, want: false},
	{cond: `{"ForAnyValue:StringNotLike":{"aws:TagKeys":"aws:*"}}`, ctx: []string{"aws:TagKeys=aws:x|aws:y"}, want: false},
	{cond: `{"ForAnyValue:StringLike":{"aws:TagKeys":"aws:*"}}`, deny: true, ctx: []string{"aws:TagKeys=team|aws:x"}, want: true},
	{cond: `{"ForAnyValue:StringLike":{"aws:TagKeys":"aws:*"}}`, deny: true, ctx: []string{"aws:TagKeys=team"}, want: false},
	{cond: `{"ForAnyValue:ArnLike":{"aws:CalledVia":"arn:aws:iam::*:role/*"}}`, ctx: []string{"aws:CalledVia=x|arn:aws:iam::111122223333:role/r"}, want: true},
	{cond: `{"ForAllValues:StringEquals":{"aws:CalledVia":["cloudformation.amazonaws.com"]}}`, ctx: []string{"aws:CalledVia=cloudformation.amazonaws.com|athena.amazonaws.com"}, want: false},
	{cond: `{"ForAnyValue:StringEquals":{"aws:CalledVia":["athena.amazonaws.com"]}}`, ctx: []string{"aws:CalledVia=cloudformation.amazonaws.com|athena.amazonaws.com"}, want: true},
	// Several keys are ANDed; several values are ORed; several operators are ANDed.
	{cond: `{"StringEquals":{"aws:PrincipalTag/dept":"eng","aws:PrincipalTag/team":"blue"}}`, ctx: []string{"aws:PrincipalTag/dept=eng", "aws:PrincipalTag/team=blue"}, want: true},
	{cond: `{"StringEquals":{"aws:PrincipalTag/dept":"eng","aws:PrincipalTag/team":"blue"}}`, ctx: []string{"aws:PrincipalTag/dept=eng"}, want: false},
	{cond: `{"StringEquals":{"aws:PrincipalTag/dept":"eng","aws:PrincipalTag/team":"blue"}}`, ctx: []string{"aws:PrincipalTag/dept=ops", "aws:PrincipalTag/team=blue"}, want: false},
	{cond: `{"StringEquals":{"aws:PrincipalTag/dept":["eng","ops"]}}`, ctx: []string{"aws:PrincipalTag/dept=ops"}, want: true},
	{cond: `{"StringEquals":{"aws:username":"alice"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx: []string{"aws:username=alice", "aws:SourceIp=10.1.1.1"}, want: true},
	{cond: `{"StringEquals":{"aws:username":"alice"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx: []string{"aws:username=alice", "aws:SourceIp=192.168.1.1"}, want: false},
	{cond: `{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, ctx: []string{"aws:username=alice", "aws:SecureTransport=true", "aws:CurrentTime=2026-01-01T00:00:00Z"}, want: true},
	{cond: `{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, ctx: []string{"aws:username=alice", "aws:SecureTransport=false", "aws:CurrentTime=2026-01-01T00:00:00Z"}, want: false},
	{cond: `{}`, want: true},
	// Policy variables in condition values.
	{cond: `{"StringEquals":{"ec2:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, ctx: []string{"ec2:ResourceTag/team=blue", "aws:PrincipalTag/team=blue"}, want: true},
	{cond: `{"StringEquals":{"ec2:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, ctx: []string{"ec2:ResourceTag/team=red", "aws:PrincipalTag/team=blue"}, want: false},
	{cond: `{"StringEquals":{"ec2:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, ctx: []string{"ec2:ResourceTag/team=blue"}, want: false},
	{cond: `{"StringNotEquals":{"ec2:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, deny: true, ctx: []string{"ec2:ResourceTag/team=blue"}, want: false},
	{cond: `{"StringNotEquals":{"ec2:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, deny: true, ctx: []string{"ec2:ResourceTag/team=red", "aws:PrincipalTag/team=blue"}, want: true},
	{cond: `{"StringEquals":{"ec2:ResourceTag/team":"${aws:PrincipalTag/team, 'shared'}"}}`, ctx: []string{"ec2:ResourceTag/team=shared"}, want: true},
	{cond: `{"StringEquals":{"ec2:ResourceTag/owner":"${aws:username}"}}`, ctx: []string{"ec2:ResourceTag/owner=alice", "aws:username=alice"}, want: true},
	{cond: `{"StringEquals":{"ec2:ResourceTag/owner":"${AWS:UserName}"}}`, ctx: []string{"ec2:ResourceTag/owner=alice", "aws:username=alice"}, want: true},
	{cond: `{"StringEquals":{"ec2:ResourceTag/owner":"${aws:userid}"}}`, ctx: []string{"ec2:ResourceTag/owner=AIDAEXAMPLE", "aws:userid=AIDAEXAMPLE"}, want: true},
	{cond: `{"StringEquals":{"ec2:ResourceTag/owner":"${aws:TagKeys}"}}`, ctx: []string{"ec2:ResourceTag/owner=a", "aws:TagKeys=a|b"}, want: false},
	{cond: `{"StringEquals":{"ec2:ResourceTag/owner":["${aws:username}","admin"]}}`, ctx: []string{"ec2:ResourceTag/owner=admin"}, want: true},
	{cond: `{"StringEquals":{"s3:prefix":"${*}"}}`, ctx: []string{"s3:prefix=*"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":"${*}"}}`, ctx: []string{"s3:prefix=x"}, want: false},
	{cond: `{"StringLike":{"s3:prefix":"a${?}"}}`, ctx: []string{"s3:prefix=a?"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":"a${?}"}}`, ctx: []string{"s3:prefix=ab"}, want: false},
	{cond: `{"StringEquals":{"s3:prefix":"${$}{aws:username}"}}`, ctx: []string{"s3:prefix=${aws:username}", "aws:username=alice"}, want: true},
	{cond: `{"StringEquals":{"s3:prefix":"${aws:username, 'it''s'}"}}`, ctx: []string{"s3:prefix=it's"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctx: []string{"s3:prefix=home/a*b/x", "aws:username=a*b"}, want: true},
	{cond: `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctx: []string{"s3:prefix=home/aXb/x", "aws:username=a*b"}, want: false},
	{cond: `{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::${aws:username}-logs"}}`, ctx: []string{"aws:SourceArn=arn:aws:s3:::alice-logs", "aws:username=alice"}, want: true},
	{cond: `{"NumericLessThan":{"s3:max-keys":"${aws:PrincipalTag/limit}"}}`, ctx: []string{"s3:max-keys=5", "aws:PrincipalTag/limit=10"}, want: true},
	{cond: `{"IpAddress":{"aws:SourceIp":"${aws:PrincipalTag/net}"}}`, ctx: []string{"aws:SourceIp=10.1.2.3", "aws:PrincipalTag/net=10.0.0.0/8"}, want: true},
}

// TestConditionTable runs conditionCases as whole evaluations.
func TestConditionTable(t *testing.T) {
	for i, c := range conditionCases {
		t.Run(fmt.Sprintf("%03d", i), func(t *testing.T) {
			var doc, want string
			if c.deny {
				doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
					{"Effect":"Deny","Action":"*","Resource":"*","Condition":` + c.cond + `}]}`
				want = "allow I0.0"
				if c.want {
					want = "deny I0.1"
				}
			} else {
				doc = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + c.cond + `}}`
				want = "implicit identity-based"
				if c.want {
					want = "allow I0.0"
				}
			}
			p := mustParse(t, Identity, doc)
			d := Evaluate(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: ctxOf(c.ctx...)},
				PolicySet{Identity: []*Policy{p}})
			if got := describe(d); got != want {
				t.Fatalf("condition %s with %v: got %q, want %q", c.cond, c.ctx, got, want)
			}
		})
	}
}
