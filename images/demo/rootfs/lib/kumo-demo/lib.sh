# Shared shell functions of the Kumo demo guest (busybox ash).
# Sourced by /etc/kumo-demo/boot, /usr/bin/kumo-imds and the udhcpc script.

KD_RUN=/run/kumo-demo
mkdir -p "$KD_RUN"

# marker EVENT [FIELDS...]: one whole line "KUMO-DEMO: EVENT FIELDS" on the
# console, in a single write. The protocol is in images/demo/README.md.
# After "ready" the console may end in a prompt without a newline (busybox
# init's "Please press Enter", a shell's), so later markers start with one.
marker() {
	if [ -e "$KD_RUN/ready" ]; then
		printf '\nKUMO-DEMO: %s\n' "$*" >/dev/console
	else
		printf 'KUMO-DEMO: %s\n' "$*" >/dev/console
	fi
}

# cmdline_get NAME: value of NAME=VALUE on the kernel command line.
cmdline_get() {
	local w
	for w in $(cat /proc/cmdline); do
		case $w in "$1="*) echo "${w#*=}"; return 0 ;; esac
	done
	return 1
}

uptime_s() { cut -d. -f1 /proc/uptime; }

# The metadata service: 169.254.169.254 port 80 unless the kernel command
# line says kumo.imds=HOST[:PORT] (for debugging only).
IMDS_HOST=169.254.169.254
IMDS_PORT=80
if v=$(cmdline_get kumo.imds); then
	IMDS_HOST=${v%%:*}
	case $v in *:*) IMDS_PORT=${v##*:} ;; esac
fi
if [ "$IMDS_PORT" = 80 ]; then IMDS_URL=http://$IMDS_HOST; else IMDS_URL=http://$IMDS_HOST:$IMDS_PORT; fi
IMDS_TOKEN_FILE=$KD_RUN/imds-token
IMDS_VERSION_FILE=$KD_RUN/imds-version

# imds_token: IMDSv2 session token with PUT /latest/api/token (busybox wget
# cannot PUT, so the request is written by hand and sent with nc).
# Prints the token and returns 0 on 200; sets IMDS_STATUS (000 = no answer).
imds_token() {
	local resp
	resp=$(printf 'PUT /latest/api/token HTTP/1.0\r\nHost: %s\r\nUser-Agent: kumo-demo\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\n\r\n' "$IMDS_HOST" |
		timeout 10 nc "$IMDS_HOST" "$IMDS_PORT" 2>/dev/null | tr -d '\r')
	IMDS_STATUS=$(printf '%s\n' "$resp" | head -n 1 | sed -n 's|^HTTP/[0-9.]* \([0-9][0-9][0-9]\).*|\1|p')
	[ -n "$IMDS_STATUS" ] || IMDS_STATUS=000
	[ "$IMDS_STATUS" = 200 ] || return 1
	printf '%s\n' "$resp" | sed '1,/^$/d' | tr -d '\n'
}

# imds_get PATH OUTFILE: GET /latest/PATH into OUTFILE, with the session
# token when there is one (a 401 renews it once). Sets IMDS_STATUS to the
# HTTP status, 000 when nothing answered. Returns 0 on 200.
imds_get() {
	local path=$1 out=$2 tok="" try
	for try in 1 2; do
		[ -s "$IMDS_TOKEN_FILE" ] && tok=$(cat "$IMDS_TOKEN_FILE")
		rm -f "$out.part"
		if [ -n "$tok" ]; then
			timeout 10 wget -O "$out.part" --header "X-aws-ec2-metadata-token: $tok" "$IMDS_URL/latest/$path" 2>"$out.err"
		else
			timeout 10 wget -O "$out.part" "$IMDS_URL/latest/$path" 2>"$out.err"
		fi
		if [ $? = 0 ]; then
			mv -f "$out.part" "$out"
			rm -f "$out.err"
			IMDS_STATUS=200
			return 0
		fi
		rm -f "$out.part"
		IMDS_STATUS=$(sed -n 's|.*server returned error: HTTP/[0-9.]* \([0-9][0-9][0-9]\).*|\1|p' "$out.err" | head -n 1)
		[ -n "$IMDS_STATUS" ] || IMDS_STATUS=000
		rm -f "$out.err"
		if [ "$IMDS_STATUS" = 401 ] && [ -n "$tok" ] && [ $try = 1 ]; then
			imds_token >"$IMDS_TOKEN_FILE.new" && mv -f "$IMDS_TOKEN_FILE.new" "$IMDS_TOKEN_FILE" && continue
		fi
		return 1
	done
	return 1
}

# ssh_fingerprint "TYPE BASE64 [COMMENT]": "TYPE SHA256:..." as ssh-keygen -l prints it.
ssh_fingerprint() {
	local type blob fp
	set -- $1
	type=$1 blob=$2
	fp=$(printf '%s' "$blob" | base64 -d 2>/dev/null | sha256sum | cut -d' ' -f1 | xxd -r -p | base64 -w 0 | tr -d '=')
	echo "$type SHA256:$fp"
}

# disk_marker NAME: "disk NAME size=BYTES serial=SERIAL|-" for /sys/block/NAME.
# The serial is virtio-blk's, NVMe's (20 bytes, padded) or SCSI's VPD page 0x80.
disk_marker() {
	local d=/sys/block/$1 serial
	if [ -r "$d/serial" ]; then
		serial=$(cat "$d/serial")
	elif [ -r "$d/device/serial" ]; then
		serial=$(cat "$d/device/serial")
	elif [ -r "$d/device/vpd_pg80" ]; then
		serial=$(tail -c +5 "$d/device/vpd_pg80" | tr -d '\000')
	fi
	serial=$(echo $serial | tr ' ' '_')
	marker disk "$1" size=$(($(cat "$d/size" 2>/dev/null || echo 0) * 512)) serial=${serial:--}
}

# is_disk NAME: a disk worth reporting (not a loop, ram, CD or floppy device).
is_disk() {
	case $1 in loop* | ram* | zram* | sr* | fd* | nbd*) return 1 ;; esac
	[ -e "/sys/block/$1" ]
}

# disk_data NAME: "disk-data NAME sha256=SUM" for the first MiB of a
# hot-plugged volume (serial vol…). With kumo.disk_fill on the kernel
# command line, a first MiB of zeros is first filled with random bytes
# (synced) and the marker says written=1: a test writes a pattern from one
# guest and reads it back from another.
ZERO_MIB_SHA256=30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58
disk_data() {
	local sum
	case $(cat "/sys/block/$1/serial" 2>/dev/null) in vol*) ;; *) return 0 ;; esac
	sum=$(dd if="/dev/$1" bs=1048576 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
	if [ "$sum" = "$ZERO_MIB_SHA256" ] && grep -qw kumo.disk_fill /proc/cmdline; then
		dd if=/dev/urandom of="/dev/$1" bs=1048576 count=1 conv=fsync 2>/dev/null
		echo 1 >/proc/sys/vm/drop_caches
		sum=$(dd if="/dev/$1" bs=1048576 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
		marker disk-data "$1" sha256=$sum written=1
		return 0
	fi
	marker disk-data "$1" sha256=$sum
}
