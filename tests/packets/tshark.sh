#!/bin/bash
# Decode what the engine actually sent (OUTDIR/*.actual.pcap, written by
# replay) with tshark, an independent dissector, with checksum validation on,
# and require every IP, TCP, UDP, ICMP and ICMPv6 checksum, including those of
# packets embedded in ICMP errors, to be good. Prints TAP.
#   usage: tests/packets/tshark.sh OUTDIR
set -u
out=${1:?usage: tshark.sh OUTDIR}
n=0 failed=0
opts=(-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE
      -o udp.check_checksum:TRUE)
bad='ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0 || icmpv6.checksum.status == 0 || _ws.malformed || _ws.expert.severity >= error'
good='ip.checksum.status == 1 || tcp.checksum.status == 1 || udp.checksum.status == 1 || icmpv6.checksum.status == 1 || icmp.checksum.status == 1'

if ! command -v tshark >/dev/null; then
	echo "not ok 1 - tshark is installed (make deps installs it)"
	echo "1..1"
	exit 1
fi
for f in "$out"/*.actual.pcap; do
	name=$(basename "$f" .actual.pcap)
	frames=$(tshark -r "$f" "${opts[@]}" 2>/dev/null | wc -l)
	[ "$frames" = 0 ] && continue
	nbad=$(tshark -r "$f" "${opts[@]}" -Y "$bad" 2>/dev/null | wc -l)
	ngood=$(tshark -r "$f" "${opts[@]}" -Y "$good" 2>/dev/null | wc -l)
	n=$((n + 1))
	if [ "$nbad" = 0 ] && [ "$ngood" = "$frames" ]; then
		echo "ok $n - tshark: all $frames frames of $name have good checksums"
	else
		failed=$((failed + 1))
		echo "not ok $n - tshark: $name: $nbad bad, $ngood of $frames verified good"
		tshark -r "$f" "${opts[@]}" -Y "$bad" -V 2>/dev/null |
		    grep -iE 'checksum|malformed' | head -10 | sed 's/^/#   /'
	fi
done
[ "$n" = 0 ] && { echo "not ok 1 - no engine output to decode in $out"; n=1; failed=1; }
echo "1..$n"
[ "$failed" = 0 ]
