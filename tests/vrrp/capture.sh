#!/bin/bash
# Capture real VRRP advertisements from keepalived into the pcap samples the
# codec's unit tests read (tests/vrrp/*.pcap). Run by hand (as root) when the
# samples need renewing; review what changed before committing.
#   v2-ipv4.pcap   VRRPv2, VRID 51, priority 150, 1 s, two addresses
#   v3-ipv4.pcap   VRRPv3, VRID 52, priority 200, 100 ms, one address
#   v3-ipv6.pcap   VRRPv3, VRID 53, priority 100, 1 s, two addresses
set -eu
out=$(cd "$(dirname "$0")" && pwd)
p=lbvcap$$
tmp=$(mktemp -d)
kpid=""
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	ip netns del $p-a 2>/dev/null || true
	ip netns del $p-b 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add $p-a
ip netns add $p-b
ip link add k0 netns $p-a type veth peer name k1 netns $p-b
ip -n $p-a link set k0 address 02:00:00:00:00:0a
ip -n $p-a addr add 192.0.2.10/24 dev k0
ip -n $p-a link set k0 up
ip -n $p-b link set k1 up
ip netns exec $p-a sysctl -qw net.ipv6.conf.k0.accept_dad=0
sleep 1
run() {	# run NAME CONFIG
	printf '%s\n' "$2" > "$tmp/$1.conf"
	ip netns exec $p-b timeout 8 tshark -q -i k1 -f "ip proto 112 or ip6 proto 112" \
		-c 3 -F pcap -w "$tmp/$1.pcap" 2>/dev/null &
	local cap=$!
	sleep 1
	ip netns exec $p-a keepalived -n -l -D -P -f "$tmp/$1.conf" -p "$tmp/$1.pid" \
		-r "$tmp/$1.vpid" >/dev/null 2>&1 &
	kpid=$!
	wait $cap || true
	kill $kpid; wait $kpid 2>/dev/null || true
	kpid=""
	cp "$tmp/$1.pcap" "$out/$1.pcap"
	echo "captured $1.pcap"
}
run v2-ipv4 'vrrp_instance v2 {
  state MASTER
  interface k0
  virtual_router_id 51
  priority 150
  advert_int 1
  version 2
  virtual_ipaddress { 192.0.2.100/24
                      192.0.2.101/24 }
}'
run v3-ipv4 'vrrp_instance v3 {
  state MASTER
  interface k0
  virtual_router_id 52
  priority 200
  advert_int 0.1
  version 3
  virtual_ipaddress { 192.0.2.102/24 }
}'
run v3-ipv6 'vrrp_instance v6 {
  state MASTER
  interface k0
  virtual_router_id 53
  priority 100
  advert_int 1
  version 3
  virtual_ipaddress { 2001:db8::100/64
                      2001:db8::101/64 }
}'
