#!/bin/bash
# The kernel fast path against the engine (tests/packets/fastpath.c), in a
# network namespace of its own where ifindex 1 (lo) and 2 (one end of a
# veth pair) stand for the engine's two interfaces, both of MTU 1500.
# Prints TAP.
#   usage: tests/packets/fastpath.sh BUILD_DIR
set -u
b=${1:?usage: fastpath.sh BUILD_DIR}
exec unshare --net sh -c '
	ip link set lo mtu 1500 up &&
	ip link add fpt0 type veth peer name fpt1 &&
	ip link set fpt0 mtu 1500 up && ip link set fpt1 mtu 1500 up &&
	ip -o link show | grep -q "^2: " &&
	exec "$0"/tests/packets/fastpath tests/packets/golden' "$b"
