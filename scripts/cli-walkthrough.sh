#!/usr/bin/env bash
# Walks the README's AWS CLI commands against a fresh `kumo dev` and checks
# every answer. Ports default to 18773/18775 so a running `make dev` is not
# disturbed; set KUMO_EC2_PORT/KUMO_ADMIN_PORT to change them.
set -euo pipefail
cd "$(dirname "$0")/.."
ec2_port=${KUMO_EC2_PORT:-18773}
admin_port=${KUMO_ADMIN_PORT:-18775}
work=$(mktemp -d /tmp/kumo-cli.XXXXXX)
go build -o "$work/kumo" ./cmd/kumo
kumo="$work/kumo"
demo=${KUMO_DEMO_IMAGE_DIR:-$HOME/.cache/kumo/images/demo}
images/demo/build.sh "$demo" >"$work/demo-build.log" 2>&1 || { cat "$work/demo-build.log"; exit 1; }

prefix=${KUMO_NETNS_PREFIX:-kumowalk}
"$kumo" dev --data-dir "$work/data" --ec2-listen 127.0.0.1:$ec2_port --s3-listen 127.0.0.1:${KUMO_S3_PORT:-18774} --admin-listen 127.0.0.1:$admin_port \
  --node-listen 127.0.0.1:${KUMO_NODE_PORT:-18776} --netns-prefix $prefix \
  --demo-image "$demo" --log-format json >"$work/dev.out" 2>"$work/dev.log" &
pid=$!
cleanup() {
  kill $pid 2>/dev/null; wait $pid 2>/dev/null || true
  # Guests outlive kumo by design: end the walk-through's own, with
  # everything else its data dir put on the host.
  if [ "$(id -u)" = 0 ]; then "$kumo" dev --reset --data-dir "$work/data" >/dev/null || true; fi
}
trap cleanup EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$admin_port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

checks=0
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then echo "FAIL: $1: want '$2', got '$3'" >&2; echo "server log:" >&2; tail -n 20 "$work/dev.log" >&2; exit 1; fi
  checks=$((checks+1)); echo "ok: $1"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# The README, step by step.
"$kumo" admin --data-dir "$work/data" account create team-a --json > "$work/acct.json"
export AWS_ACCESS_KEY_ID=$(json 'd["AccessKeyId"]' < "$work/acct.json")
export AWS_SECRET_ACCESS_KEY=$(json 'd["SecretAccessKey"]' < "$work/acct.json")
export AWS_DEFAULT_REGION=kumo-1
account=$(json 'd["AccountId"]' < "$work/acct.json")
aws="aws --endpoint-url http://127.0.0.1:$ec2_port --region kumo-1 --output json"

check "sts get-caller-identity" "arn:aws:iam::$account:root" "$($aws sts get-caller-identity | json 'd["Arn"]')"
check "create-key-pair" "-----BEGIN RSA PRIVATE KEY-----" "$($aws ec2 create-key-pair --key-name k1 | json 'd["KeyMaterial"].splitlines()[0]')"
check "duplicate key pair is refused" "InvalidKeyPair.Duplicate" \
  "$($aws ec2 create-key-pair --key-name k1 2>&1 >/dev/null | sed -n 's/.*(\(.*\)).*/\1/p' | head -1)"
sg=$($aws ec2 create-security-group --group-name web --description web | json 'd["GroupId"]')
check "create-security-group returns an sg- id" "sg-" "${sg:0:3}"
rule=$($aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 10.0.0.0/8 | json 'd["SecurityGroupRules"][0]["SecurityGroupRuleId"]')
check "authorize-security-group-ingress returns an sgr- id" "sgr-" "${rule:0:4}"
$aws ec2 create-tags --resources "$sg" --tags Key=team,Value=blue
check "describe-security-groups by tag" "$sg tcp 22 10.0.0.0/8" \
  "$($aws ec2 describe-security-groups --filters Name=tag:team,Values=blue --max-results 5 | json '" ".join([d["SecurityGroups"][0]["GroupId"], d["SecurityGroups"][0]["IpPermissions"][0]["IpProtocol"], str(d["SecurityGroups"][0]["IpPermissions"][0]["FromPort"]), d["SecurityGroups"][0]["IpPermissions"][0]["IpRanges"][0]["CidrIp"]])')"
check "default VPC exists" "172.31.0.0/16 True" "$($aws ec2 describe-vpcs --filters Name=is-default,Values=true | json 'd["Vpcs"][0]["CidrBlock"] + " " + str(d["Vpcs"][0]["IsDefault"])')"
check "three default subnets" "3" "$($aws ec2 describe-subnets | json 'len(d["Subnets"])')"
vpc=$($aws ec2 create-vpc --cidr-block 10.20.0.0/16 | json 'd["Vpc"]["VpcId"]')
check "create-subnet in a new VPC" "10.20.1.0/24" "$($aws ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.20.1.0/24 | json 'd["Subnet"]["CidrBlock"]')"
check "describe-tags" "team=blue" "$($aws ec2 describe-tags --filters Name=resource-id,Values=$sg | json 'd["Tags"][0]["Key"] + "=" + d["Tags"][0]["Value"]')"
check "not yet implemented actions say so" "UnsupportedOperation" \
  "$($aws ec2 describe-nat-gateways 2>&1 >/dev/null | sed -n 's/.*(\(.*\)).*/\1/p' | head -1)"
check "the demo image is public" "kumo-demo machine True kumo" \
  "$($aws ec2 describe-images --filters Name=name,Values=kumo-demo | json '" ".join([d["Images"][0]["Name"], d["Images"][0]["ImageType"], str(d["Images"][0]["Public"]), d["Images"][0]["ImageOwnerAlias"]])')"
check "metrics are served" "1" "$(curl -fs http://127.0.0.1:$admin_port/metrics | grep -c '^kumo_db_connections_in_use')"
# Compute: the README's run-instances walk-through (the node needs root).
if [ "$(id -u)" != 0 ]; then
  echo "skip: compute walk-through (kumo dev's node needs root)"
else
  cat > "$work/hello.sh" <<'EOF'
#!/bin/sh
echo "KUMO-HELLO: $(kumo-imds meta-data/instance-id)"
EOF
  ami=$($aws ec2 describe-images --filters Name=name,Values=kumo-demo --query 'Images[0].ImageId' --output text)
  iid=$($aws ec2 run-instances --image-id "$ami" --instance-type t3.micro --key-name k1 \
        --user-data "file://$work/hello.sh" --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=web1}]' \
        --query 'Instances[0].InstanceId' --output text)
  check "run-instances returns an i- id" "i-" "${iid:0:2}"
  $aws ec2 wait instance-running --instance-ids "$iid"
  check "describe-instances by tag:Name" "$iid running" \
    "$($aws ec2 describe-instances --filters Name=tag:Name,Values=web1 --query 'Reservations[0].Instances[0].[InstanceId,State.Name]' --output text | tr '\t' ' ')"
  hello=""
  for _ in $(seq 180); do
    hello=$($aws ec2 get-console-output --instance-id "$iid" --latest --query Output --output text | tr -d '\r' | grep -m1 '^KUMO-HELLO: ' || true)
    [ -n "$hello" ] && break; sleep 1
  done
  check "get-console-output shows the user data's output with the instance id" "KUMO-HELLO: $iid" "$hello"
  ip=$($aws ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].PrivateIpAddress' --output text)
  # The default security group lets in only its own members, as in AWS: open ICMP to ping from the host.
  check "ping is refused before a rule allows it" "1" "$(ping -c 1 -W 2 "$ip" >/dev/null 2>&1; echo $?)"
  $aws ec2 authorize-security-group-ingress --group-name default --protocol icmp --port -1 --cidr 0.0.0.0/0 >/dev/null
  check "the guest answers ping from the host at its private address $ip" "0" "$(ping -c 1 -W 5 "$ip" >/dev/null 2>&1; echo $?)"
  read -r alloc eip <<<"$($aws ec2 allocate-address --domain vpc --query '[AllocationId,PublicIp]' --output text)"
  check "allocate-address returns an eipalloc- id" "eipalloc-" "${alloc:0:9}"
  $aws ec2 associate-address --instance-id "$iid" --allocation-id "$alloc" >/dev/null
  check "describe-instances shows the elastic IP" "$eip" \
    "$($aws ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].PublicIpAddress' --output text)"
  pinged=1
  for _ in $(seq 10); do ping -c 1 -W 1 "$eip" >/dev/null 2>&1 && { pinged=0; break; }; sleep 1; done
  check "the guest answers ping from the host at its elastic IP $eip (1:1 NAT on the node)" "0" "$pinged"
  $aws ec2 disassociate-address --association-id "$($aws ec2 describe-addresses --allocation-ids "$alloc" --query 'Addresses[0].AssociationId' --output text)"
  gone=1
  for _ in $(seq 10); do ping -c 1 -W 1 "$eip" >/dev/null 2>&1 || { gone=0; break; }; sleep 1; done
  check "after disassociate-address the elastic IP answers no more" "0" "$gone"
  $aws ec2 release-address --allocation-id "$alloc"
  $aws ec2 stop-instances --instance-ids "$iid" >/dev/null
  $aws ec2 wait instance-stopped --instance-ids "$iid"
  check "stop-instances" "stopped" "$($aws ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].State.Name' --output text)"
  $aws ec2 start-instances --instance-ids "$iid" >/dev/null
  $aws ec2 wait instance-running --instance-ids "$iid"
  check "start-instances" "running" "$($aws ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].State.Name' --output text)"
  $aws ec2 reboot-instances --instance-ids "$iid"
  check "reboot-instances keeps it running" "running" "$($aws ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].State.Name' --output text)"
  # Volumes: the README's "Volumes" walk-through, on the same instance.
  vol=$($aws ec2 create-volume --availability-zone kumo-1a --size 10 --volume-type gp3 \
        --tag-specifications 'ResourceType=volume,Tags=[{Key=team,Value=blue}]' --query VolumeId --output text)
  check "create-volume returns a vol- id" "vol-" "${vol:0:4}"
  $aws ec2 wait volume-available --volume-ids "$vol"
  check "describe-volumes by tag" "$vol 10 gp3 available" \
    "$($aws ec2 describe-volumes --filters Name=tag:team,Values=blue --query 'Volumes[0].[VolumeId,Size,VolumeType,State]' --output text | tr '\t' ' ')"
  $aws ec2 attach-volume --volume-id "$vol" --instance-id "$iid" --device /dev/sdf >/dev/null
  state=""
  for _ in $(seq 60); do
    state=$($aws ec2 describe-volumes --volume-ids "$vol" --query 'Volumes[0].[State,Attachments[0].State,Attachments[0].Device]' --output text | tr '\t' ' ')
    [ "$state" = "in-use attached /dev/sdf" ] && break; sleep 1
  done
  check "attach-volume: in-use, attached as /dev/sdf" "in-use attached /dev/sdf" "$state"
  serial=${vol/-/}
  console_marker() { # console_marker REGEX: the first console line matching it, waiting up to 60 s
    local line=""
    for _ in $(seq 60); do
      line=$($aws ec2 get-console-output --instance-id "$iid" --latest --query Output --output text | tr -d '\r' | grep -m1 -E "$1" || true)
      [ -n "$line" ] && break; sleep 1
    done
    echo "$line"
  }
  disk=$(console_marker "^KUMO-DEMO: disk vd[a-z]+ size=[0-9]+ serial=$serial\$")
  check "the guest sees a disk of exactly 10 GiB with the volume's serial" "size=10737418240 serial=$serial" "${disk#KUMO-DEMO: disk vd? }"
  dev=$(echo "$disk" | cut -d' ' -f3)
  $aws ec2 modify-volume --volume-id "$vol" --size 20 >/dev/null
  check "modify-volume --size 20: the guest sees 20 GiB without a detach" "KUMO-DEMO: disk-resized $dev size=21474836480" \
    "$(console_marker "^KUMO-DEMO: disk-resized $dev size=21474836480\$")"
  check "describe-volumes shows 20 GiB" "20" "$($aws ec2 describe-volumes --volume-ids "$vol" --query 'Volumes[0].Size' --output text)"
  $aws ec2 detach-volume --volume-id "$vol" >/dev/null
  $aws ec2 wait volume-available --volume-ids "$vol"
  check "detach-volume: available again" "available" "$($aws ec2 describe-volumes --volume-ids "$vol" --query 'Volumes[0].State' --output text)"
  $aws ec2 delete-volume --volume-id "$vol"
  $aws ec2 wait volume-deleted --volume-ids "$vol"
  check "delete-volume: the volume is gone" "InvalidVolume.NotFound" \
    "$($aws ec2 describe-volumes --volume-ids "$vol" 2>&1 >/dev/null | sed -n 's/.*(\(.*\)).*/\1/p' | head -1)"
  $aws ec2 terminate-instances --instance-ids "$iid" >/dev/null
  $aws ec2 wait instance-terminated --instance-ids "$iid"
  check "terminate-instances" "terminated" "$($aws ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].State.Name' --output text)"
fi
echo "cli walk-through: $checks passed, 0 failed"
