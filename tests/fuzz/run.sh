#!/bin/bash
# Runs every fuzz target for FUZZ_TIME seconds (default 30), seeded from the
# tests' own inputs, after replaying its saved regression inputs
# (tests/fuzz/regressions/TARGET/). Prints TAP, one line per target.
# A crash leaves its input in BUILD/fuzz/artifacts/ (keep it as a regression).
#   usage: tests/fuzz/run.sh FUZZ_BUILD_DIR
set -u
cd "$(dirname "$0")/../.."
b=${1:?usage: run.sh FUZZ_BUILD_DIR}
t=${FUZZ_TIME:-30}
work=$b/fuzz
n=0 failed=0
mkdir -p "$work/artifacts"

seed() {	# seed TARGET DIR
	local target=$1 dir=$2
	rm -rf "$dir"
	mkdir -p "$dir"
	case $target in
	fuzz_conf)
		cp conf/examples/*.conf tests/conf/good/*.conf tests/conf/bad/*.conf \
		    "$dir"/ 2>/dev/null ;;
	fuzz_ctl)
		printf '%s\n' "help" "show info" "show info --json" "show config" \
		    "show config --json" "reload" "reload --json" "show" "frob x y" |
		    split -l 1 - "$dir/cmd-" ;;
	fuzz_health)
		printf '\x01HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' > "$dir/cl"
		printf '\x07HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' > "$dir/chunked"
		printf '\x03up 75%%\ndrain\nmaint # x\n' > "$dir/agent" ;;
	fuzz_sync)
		# A hello, a DATA datagram with one record, an empty one, an
		# oversized one ahead of a gap, each as
		# "length (2 bytes, little-endian), clock step, datagram".
		python3 - "$dir" <<'PY'
import struct, sys, os
def hdr(t, count, msgid, seq, flags=0):
    return (b'LBS\x01' + struct.pack('>BBH', t, flags, count) +
            struct.pack('>QIIQQQQQQ', 2, 200, 100, msgid, seq, 1, 0, 0, 5))
rec = bytes([1, 6, 2, 2, 1]) + bytes(range(24))
d1 = hdr(2, 0, 1, 0)
d2 = hdr(1, 1, 2, 1, 1) + rec
d3 = hdr(1, 0, 3, 2, 2)
# Far larger than the link's own datagrams, ahead of a gap.
d4 = hdr(1, 280, 4, 63) + rec * 280
seq = b''.join(struct.pack('<HB', len(d), 5) + d for d in (d1, d2, d3, d4))
open(os.path.join(sys.argv[1], 'stream'), 'wb').write(seq)
PY
		;;
	fuzz_vrrp)
		# VRRPv3 advertisements for the routers of fuzz_vrrp's node and
		# for another VRID, as "length (2 bytes), clock step, event, frame".
		python3 - "$dir" <<'PY'
import struct, sys, os
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def adv(vrid, prio):
    src, dst = bytes([10, 0, 0, 9]), bytes([224, 0, 0, 18])
    body = struct.pack('!BBBBH', 0x31, vrid, prio, 1, 10) + bytes([10, 0, 0, 100])
    c = csum(src + dst + struct.pack('!BBH', 0, 112, len(body)) + body)
    body = body[:6] + struct.pack('!H', c) + body[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0xc0, 20 + len(body), 0, 0, 255,
                     112, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return bytes.fromhex('01005e000012') + bytes.fromhex('00005e000133') + \
        b'\x08\x00' + ip + body
seq = b''.join(struct.pack('<HBB', len(f), 40, ev) + f
               for f, ev in ((adv(51, 200), 0), (adv(7, 50), 0x20 | 0x10),
                             (adv(51, 0), 0), (adv(52, 150), 0xc1),
                             (adv(60, 250), 0x80)))
open(os.path.join(sys.argv[1], 'adverts'), 'wb').write(seq)
PY
		;;
	fuzz_frames)
		# Golden input frames as "length/2, interface, frame".
		python3 - "$dir" tests/packets/golden/*.in.pcap <<'PY'
import struct, sys, os
out = sys.argv[1]
for path in sys.argv[2:]:
    data = open(path, 'rb').read()[24:]
    seq = b''
    while len(data) >= 16:
        _, _, incl, _ = struct.unpack('<IIII', data[:16])
        frame = data[16:16 + incl]
        data = data[16 + incl:]
        if len(frame) % 2:
            frame += b'\0'
        if len(frame) <= 510:
            seq += bytes([len(frame) // 2, 0]) + frame
    open(os.path.join(out, os.path.basename(path)), 'wb').write(seq)
PY
		;;
	esac
}

for bin in "$b"/tests/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	target=$(basename "$bin")
	corpus=$work/corpus/$target
	seed "$target" "$corpus"
	reg=tests/fuzz/regressions/$target
	n=$((n + 1))
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
		if ! "$bin" -runs=0 "$reg"/* > "$work/$target.reg.log" 2>&1; then
			failed=$((failed + 1))
			echo "not ok $n - $target: a saved regression input crashes again"
			tail -20 "$work/$target.reg.log" | sed 's/^/#   /'
			continue
		fi
	fi
	"$bin" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$work/artifacts/$target-" -print_final_stats=1 \
	    "$corpus" > "$work/$target.log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$')
	if [ $rc = 0 ]; then
		echo "ok $n - $target: ${t}s, ${runs:-?} inputs, no crash"
	else
		failed=$((failed + 1))
		echo "not ok $n - $target: crashed (input in $work/artifacts/)"
		grep -E "ERROR|SUMMARY|#[0-9] " "$work/$target.log" | head -15 | sed 's/^/#   /'
	fi
done
[ $n = 0 ] && { echo "not ok 1 - fuzz targets built in $b"; n=1; failed=1; }
echo "1..$n"
[ $failed = 0 ]
