#!/usr/bin/env bash
# Walks the S3 side of the object-storage issue with the AWS CLI, verbatim,
# against a fresh `kumo dev`: buckets, a 200 MiB multipart upload checked by
# SHA-256, s3api object and multipart commands, copies, a presigned URL
# fetched with curl, another account's AccessDenied until a bucket policy
# grants it, bucket and object tags, the configuration reads Terraform
# makes and a create-only (If-None-Match) put. Ports default to 38773-38775 so neither `make dev` nor
# cli-walkthrough.sh is disturbed; set KUMO_EC2_PORT/KUMO_S3_PORT/
# KUMO_ADMIN_PORT to change them, KUMO_S3_BIG_MIB the big file's size.
set -euo pipefail
cd "$(dirname "$0")/.."
ec2_port=${KUMO_EC2_PORT:-38773}
s3_port=${KUMO_S3_PORT:-38774}
admin_port=${KUMO_ADMIN_PORT:-38775}
big_mib=${KUMO_S3_BIG_MIB:-200}
work=$(mktemp -d /tmp/kumo-s3.XXXXXX)
go build -o "$work/kumo" ./cmd/kumo
kumo="$work/kumo"

"$kumo" dev --data-dir "$work/data" --ec2-listen 127.0.0.1:$ec2_port --s3-listen 127.0.0.1:$s3_port \
  --admin-listen 127.0.0.1:$admin_port --log-format json >"$work/dev.out" 2>"$work/dev.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$admin_port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

checks=0
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then echo "FAIL: $1: want '$2', got '$3'" >&2; echo "server log:" >&2; tail -n 20 "$work/dev.log" >&2; exit 1; fi
  checks=$((checks+1)); echo "ok: $1"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
errcode() { sed -n 's/.*(\([A-Za-z]*\)).*/\1/p' | head -1; } # "An error occurred (Code) when ..." -> Code

# Two team accounts; the AWS CLI is configured only by its environment.
export HOME="$work/home" AWS_CONFIG_FILE="$work/home/config" AWS_SHARED_CREDENTIALS_FILE="$work/home/credentials"
export AWS_DEFAULT_REGION=kumo-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
mkdir -p "$HOME"
"$kumo" admin --data-dir "$work/data" account create team-a --json > "$work/a.json"
"$kumo" admin --data-dir "$work/data" account create team-b --json > "$work/b.json"
export AWS_ACCESS_KEY_ID=$(json 'd["AccessKeyId"]' < "$work/a.json")
export AWS_SECRET_ACCESS_KEY=$(json 'd["SecretAccessKey"]' < "$work/a.json")
b_id=$(json 'd["AccountId"]' < "$work/b.json")
as_b() { AWS_ACCESS_KEY_ID=$(json 'd["AccessKeyId"]' < "$work/b.json") AWS_SECRET_ACCESS_KEY=$(json 'd["SecretAccessKey"]' < "$work/b.json") "$@"; }
s3="aws --endpoint-url http://127.0.0.1:$s3_port"
s3api="aws --endpoint-url http://127.0.0.1:$s3_port --output json s3api"

# Buckets.
check "s3 mb" "make_bucket: team-a-images" "$($s3 s3 mb s3://team-a-images)"
$s3 s3 mb s3://team-a-data >/dev/null
check "s3 ls lists both buckets" "team-a-data team-a-images" "$($s3 s3 ls | awk '{print $3}' | sort | xargs)"
check "mb of an existing name is BucketAlreadyOwnedByYou" "BucketAlreadyOwnedByYou" "$($s3 s3 mb s3://team-a-images 2>&1 >/dev/null | errcode)"

# A big file: the CLI uploads it in 8 MiB parts; the ETag says how many.
head -c $((big_mib << 20)) /dev/urandom > "$work/big.img"
$s3 s3 cp "$work/big.img" s3://team-a-images/ --only-show-errors
parts=$(( (big_mib + 7) / 8 ))
check "multipart ETag of the ${big_mib} MiB upload" "-$parts\"" "$($s3api head-object --bucket team-a-images --key big.img | json 'd["ETag"][-len("-'$parts'\""):]')"
check "s3 ls shows its size" "$((big_mib << 20)) big.img" "$($s3 s3 ls s3://team-a-images/ | awk '{print $3, $4}')"
$s3 s3 cp s3://team-a-images/big.img "$work/big.out" --only-show-errors
check "the download has the same SHA-256" "$(sha256sum < "$work/big.img")" "$(sha256sum < "$work/big.out")"
rm -f "$work/big.out"

# s3api object commands.
printf 'hello, kumo\n' > "$work/hello.txt"
$s3api put-object --bucket team-a-images --key docs/hello.txt --body "$work/hello.txt" --content-type text/plain --metadata team=a >/dev/null
check "head-object: content type and metadata" "text/plain a" "$($s3api head-object --bucket team-a-images --key docs/hello.txt | json 'd["ContentType"] + " " + d["Metadata"]["team"]')"
$s3api get-object --bucket team-a-images --key docs/hello.txt --range bytes=0-4 "$work/range.out" >/dev/null
check "get-object --range" "hello" "$(cat "$work/range.out")"
check "list-objects-v2 --prefix" "docs/hello.txt" "$($s3api list-objects-v2 --bucket team-a-images --prefix docs/ | json '" ".join(o["Key"] for o in d["Contents"])')"
check "missing key is NoSuchKey" "NoSuchKey" "$($s3api get-object --bucket team-a-images --key nope "$work/x" 2>&1 >/dev/null | errcode)"
$s3 s3 cp s3://team-a-images/docs/hello.txt s3://team-a-data/copy.txt --only-show-errors
check "s3 cp between buckets" "hello, kumo" "$($s3 s3 cp s3://team-a-data/copy.txt -)"

# s3api multipart, part by part.
head -c $((5 << 20)) /dev/urandom > "$work/part1"
upload=$($s3api create-multipart-upload --bucket team-a-data --key assembled.bin | json 'd["UploadId"]')
e1=$($s3api upload-part --bucket team-a-data --key assembled.bin --upload-id "$upload" --part-number 1 --body "$work/part1" | json 'd["ETag"]')
e2=$($s3api upload-part --bucket team-a-data --key assembled.bin --upload-id "$upload" --part-number 2 --body "$work/hello.txt" | json 'd["ETag"]')
check "list-parts" "2" "$($s3api list-parts --bucket team-a-data --key assembled.bin --upload-id "$upload" | json 'len(d["Parts"])')"
parts_json=$(python3 -c 'import json,sys; print(json.dumps({"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(sys.argv[1:])]}))' "$e1" "$e2")
etag=$($s3api complete-multipart-upload --bucket team-a-data --key assembled.bin --upload-id "$upload" --multipart-upload "$parts_json" | json 'd["ETag"]')
check "complete-multipart-upload ETag has 2 parts" "-2\"" "${etag: -3}"
check "the assembled object's size" "$(( (5 << 20) + 12 ))" "$($s3api head-object --bucket team-a-data --key assembled.bin | json 'd["ContentLength"]')"
check "delete-objects" "2" "$($s3api delete-objects --bucket team-a-data --delete '{"Objects":[{"Key":"copy.txt"},{"Key":"assembled.bin"}]}' | json 'len(d["Deleted"])')"

# A presigned URL works with plain curl, and only for what it names.
url=$($s3 s3 presign s3://team-a-images/docs/hello.txt --expires-in 300)
check "presigned URL fetched with curl" "hello, kumo" "$(curl -fsS "$url")"
check "anonymous GET without a signature is 403" "403" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$s3_port/team-a-images/docs/hello.txt")"

# Another account: AccessDenied everywhere, until a bucket policy grants reads.
check "team-b: s3 ls of team-a's bucket" "AccessDenied" "$(as_b $s3 s3 ls s3://team-a-images 2>&1 | errcode)"
check "team-b: get-object" "AccessDenied" "$(as_b $s3api get-object --bucket team-a-images --key docs/hello.txt "$work/x" 2>&1 | errcode)"
check "team-b: put-object" "AccessDenied" "$(as_b $s3api put-object --bucket team-a-images --key planted --body "$work/hello.txt" 2>&1 | errcode)"
check "team-b: delete-object" "AccessDenied" "$(as_b $s3api delete-object --bucket team-a-images --key docs/hello.txt 2>&1 | errcode)"
check "team-b: delete-bucket" "AccessDenied" "$(as_b $s3api delete-bucket --bucket team-a-images 2>&1 | errcode)"
check "team-b: get-bucket-policy" "AccessDenied" "$(as_b $s3api get-bucket-policy --bucket team-a-images 2>&1 | errcode)"
check "team-b: mb of team-a's name" "BucketAlreadyExists" "$(as_b $s3 s3 mb s3://team-a-images 2>&1 | errcode)"
$s3api put-bucket-policy --bucket team-a-images --policy "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",
  \"Principal\":{\"AWS\":\"arn:aws:iam::$b_id:root\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::team-a-images/docs/*\"}]}"
check "team-b reads what the policy grants" "hello, kumo" "$(as_b $s3 s3 cp s3://team-a-images/docs/hello.txt -)"
check "team-b still may not list" "AccessDenied" "$(as_b $s3 s3 ls s3://team-a-images 2>&1 | errcode)"

# Tags and the configuration reads Terraform makes, and conditional
# writes as OpenTofu's S3 state lock (use_lockfile) makes them.
$s3api put-bucket-tagging --bucket team-a-images --tagging 'TagSet=[{Key=env,Value=dev},{Key=team,Value=a}]'
check "get-bucket-tagging" "env=dev team=a" "$($s3api get-bucket-tagging --bucket team-a-images | json '" ".join(t["Key"] + "=" + t["Value"] for t in d["TagSet"])')"
check "get-bucket-cors of a bucket without CORS" "NoSuchCORSConfiguration" "$($s3api get-bucket-cors --bucket team-a-images 2>&1 | errcode)"
check "get-bucket-lifecycle-configuration" "NoSuchLifecycleConfiguration" "$($s3api get-bucket-lifecycle-configuration --bucket team-a-images 2>&1 | errcode)"
check "get-bucket-request-payment" "BucketOwner" "$($s3api get-bucket-request-payment --bucket team-a-images | json 'd["Payer"]')"
$s3api delete-bucket-tagging --bucket team-a-images
check "get-bucket-tagging after delete-bucket-tagging" "NoSuchTagSet" "$($s3api get-bucket-tagging --bucket team-a-images 2>&1 | errcode)"
$s3api put-object --bucket team-a-images --key docs/tagged.txt --body "$work/hello.txt" --tagging 'project=kumo&owner=team%20a' >/dev/null
check "put-object --tagging, get-object-tagging" "owner=team a project=kumo" "$($s3api get-object-tagging --bucket team-a-images --key docs/tagged.txt | json '" ".join(t["Key"] + "=" + t["Value"] for t in d["TagSet"])')"
$s3api put-object-tagging --bucket team-a-images --key docs/tagged.txt --tagging 'TagSet=[{Key=stage,Value=2}]'
check "put-object-tagging replaces the set" "stage=2" "$($s3api get-object-tagging --bucket team-a-images --key docs/tagged.txt | json '" ".join(t["Key"] + "=" + t["Value"] for t in d["TagSet"])')"
check "11 object tags is InvalidTag" "InvalidTag" "$($s3api put-object-tagging --bucket team-a-images --key docs/tagged.txt --tagging "TagSet=[$(seq -s, -f '{Key=k%g,Value=v}' 11)]" 2>&1 | errcode)"
$s3api put-object --bucket team-a-images --key state/lock --body "$work/hello.txt" --if-none-match '*' >/dev/null
check "a second create-only put-object is PreconditionFailed" "PreconditionFailed" "$($s3api put-object --bucket team-a-images --key state/lock --body "$work/hello.txt" --if-none-match '*' 2>&1 | errcode)"

# Clean up with the CLI too.
$s3 s3 rm --recursive s3://team-a-images --only-show-errors
check "rb of an emptied bucket" "remove_bucket: team-a-images" "$($s3 s3 rb s3://team-a-images)"
check "rb of a bucket with objects is BucketNotEmpty" "BucketNotEmpty" "$($s3 s3 cp "$work/hello.txt" s3://team-a-data/x --only-show-errors; $s3 s3 rb s3://team-a-data 2>&1 | errcode)"
echo "s3 walk-through: $checks passed, 0 failed"
