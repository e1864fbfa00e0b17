#!/bin/bash
# `make demo`: lbd's control plane, end to end, on this machine.
#
# Checks the example configs, starts lbd on a demo config with its control
# socket in a temporary directory, shows `lbctl` output, makes a bad reload
# (errors reported, old config kept) and a good one, then stops lbd.
# Everything it creates is removed at the end, also on failure.
#
# Then the packet path: tests/demo/dataplane.py builds a network in
# namespaces and sends traffic through lbd in each mode; and failover:
# tests/demo/failover.py runs two nodes, kills the master and prints the
# interruption the client saw; and a cluster: tests/demo/cluster.py runs
# three active nodes behind a BGP router's ECMP and kills one under load.
set -u
build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
lbd=$build/lbd/lbd lbctl=$build/lbd/lbctl
tmp=$(mktemp -d /tmp/lbd-demo.XXXXXX)
pid= srv1= srv2=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$srv1" ] && kill "$srv1" 2>/dev/null
	[ -n "$srv2" ] && kill "$srv2" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "1. every example config passes lbd -t"
# In place, as a fresh clone has them (the demo key's mode is git's 0644:
# lbd says so and accepts it).
for f in "$src"/conf/examples/*.conf; do
	run "$lbd" -t -f "$f" || exit 1
done

# The backends: two small HTTP servers on loopback, started here; the third
# backend has no server, so its health check fails. Every address is this
# machine's own.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/www" && echo ok > "$tmp/www/healthz"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/www" >/dev/null 2>&1 &
srv1=$!
python3 -m http.server "$port" --bind 127.0.0.2 --directory "$tmp/www" >/dev/null 2>&1 &
srv2=$!
sleep 0.5

cat > "$tmp/lbd.conf" <<CONF
global {
    node-id demo
    control-socket $tmp/lbd.sock
}
service web {
    listen 198.51.100.10 tcp 80
    mode routed
    scheduler wrr
    check http { path /healthz expect 200 interval 300ms timeout 200ms rise 1 fall 1 }
    backend web1 127.0.0.1:$port weight 10
    backend web2 127.0.0.2:$port weight 10
}
CONF

say "2. start lbd"
"$lbd" -f "$tmp/lbd.conf" --foreground-log 2>"$tmp/lbd.log" &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/lbd.sock" ] && break; sleep 0.05; done
export LBD_SOCKET=$tmp/lbd.sock
run "$lbctl" show info

say "3. a bad change: lbd reports every error and keeps running the old config"
sed -i 's/weight 10$/weight 1000/; s/scheduler wrr/scheduler fastest/' "$tmp/lbd.conf"
run "$lbctl" reload
echo "(exit status $?)"

say "4. a good change: a third backend, and web1 drained"
sed -i 's/weight 1000$/weight 10/; s/scheduler fastest/scheduler wrr/' "$tmp/lbd.conf"
sed -i "s|backend web1 127.0.0.1:$port weight 10|backend web1 127.0.0.1:$port weight 0|" "$tmp/lbd.conf"
sed -i "/backend web2/a\    backend web3 127.0.0.3:$port weight 5" "$tmp/lbd.conf"
run kill -HUP "$pid"
sleep 0.3
run "$lbctl" show info
run "$lbctl" show config

say "5. health checks: web3 has no server behind it"
sleep 1
run "$lbctl" show health
run "$lbctl" show stat

say "6. the operator drains web2; web1 comes back from its weight 0"
run "$lbctl" drain web/web2
run "$lbctl" set weight web/web1 10
run "$lbctl" show stat

say "7. the same for machines"
run "$lbctl" --json show info

say "8. stop (SIGTERM)"
run kill -TERM "$pid"
wait "$pid"
echo "lbd exited with status $?"
pid=
say "lbd's log"
cat "$tmp/lbd.log"

# Part 2: real packets through XDP and AF_XDP, in network namespaces.
python3 "$src/tests/demo/dataplane.py" "$build" || exit 1
# Part 3: two nodes with VRRP; the master dies, the client is measured.
python3 "$src/tests/demo/failover.py" "$build" || exit 1
# Part 4: three active nodes behind ECMP and BGP; one dies under load.
python3 "$src/tests/demo/cluster.py" "$build"
