#!/bin/sh
# Install every build and test dependency of lbd from the distribution's packages.
# Idempotent: when everything is present it changes nothing and says so.
# Usage: packaging/deps.sh [build|test|bench]   (default: test, which includes build;
#        bench adds the peers make bench-e2e measures lbd against)
set -eu

what=${1:-test}

# Debian 12 package names. Keep in step with the README and packaging/debian/control.
build_pkgs="gcc make pkg-config bison flex libev-dev libssl-dev clang libxdp-dev libbpf-dev
            libnl-3-dev libnl-route-3-dev"
test_pkgs="libcmocka-dev python3 iproute2 procps tshark libclang-rt-14-dev openssl
           iperf3 ethtool iputils-ping keepalived hping3 traceroute bird2 nftables
           debhelper dpkg-dev fakeroot lintian rpm man-db prometheus chromium"

bench_pkgs="haproxy linux-perf"

pkgs=$build_pkgs
[ "$what" = test ] && pkgs="$pkgs $test_pkgs"
[ "$what" = bench ] && pkgs="$pkgs $test_pkgs $bench_pkgs"

id=unknown
[ -r /etc/os-release ] && id=$(. /etc/os-release && echo "${ID:-unknown} ${ID_LIKE:-}")

case " $id " in
*" debian "*|*" ubuntu "*) ;;
*)
	echo "deps: unknown distribution ($id)." >&2
	echo "deps: install the equivalents of these Debian packages, then run make with NO_DEPS=1:" >&2
	echo "deps:   $pkgs" >&2
	exit 1
	;;
esac

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all $(echo $pkgs | wc -w) packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing" >&2
	echo "deps: run 'make deps' as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Test tools such as prometheus (for promtool) ship services; installing them
# must not start anything. policy-rc.d is Debian's switch for that; put one in
# place only if there is none, and always take it away again.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# make deps (lbd): no service starts while installing\nexit 101\n' > "$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT INT TERM
fi
# A stale package list is the usual cause of 'unable to locate package'.
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
