#!/bin/bash
# The packages: `make deb` and `make rpm` build; the .deb installs on this
# machine with every file in place, lbd -t accepts the installed default
# config and examples, the man pages render, a local change to the conffile
# survives reinstalling, and purging removes it all again; lintian finds no
# error; the .rpm lists the expected files, config and dependencies.
# Prints TAP. Purges the package on every exit path.
set -u
cd "$(dirname "$0")/../.."
. tests/tap.sh
installed=0
log=$(mktemp /tmp/lbd-pkgtest.XXXXXX)
cleanup() {
	[ "$installed" = 1 ] && dpkg --purge lbd >/dev/null 2>&1
	rm -f "$log"
}
trap cleanup EXIT

t() {	# t NAME COMMAND...: ok when the command succeeds
	local name=$1
	shift
	if "$@" >"$log" 2>&1; then result 1 "$name"; else result 0 "$name" "$(cat "$log")"; fi
}

if dpkg-query -W lbd >/dev/null 2>&1; then
	echo "not ok 1 - lbd is already installed on this machine; not touching it"
	echo "1..1"
	exit 1
fi

t "make deb builds the package" make -s NO_DEPS=1 deb
deb=$(ls build/pkg/deb/lbd_*_amd64.deb 2>/dev/null | head -1)
if [ -n "$deb" ]; then
	out=$(lintian "$deb" 2>&1)
	if grep -q '^E:' <<<"$out"; then ok=0; else ok=1; fi
	result $ok "lintian finds no error in the .deb" "$out"

	t "dpkg -i installs it" env DEBIAN_FRONTEND=noninteractive dpkg -i "$deb"
	installed=1
	for f in /usr/sbin/lbd /usr/sbin/lbctl /etc/lbd/lbd.conf \
	    /lib/systemd/system/lbd.service /usr/share/man/man8/lbd.8.gz \
	    /usr/share/man/man8/lbctl.8.gz /usr/share/man/man5/lbd.conf.5.gz \
	    /usr/share/doc/lbd/examples/routed.conf; do
		t "installed: $f" test -e "$f"
	done
	t "the lbd group exists" getent group lbd
	t "lbd -t accepts the installed default config" /usr/sbin/lbd -t -f /etc/lbd/lbd.conf
	for ex in /usr/share/doc/lbd/examples/*.conf; do
		t "lbd -t accepts the installed example $(basename "$ex")" /usr/sbin/lbd -t -f "$ex"
	done
	for page in /usr/share/man/man8/lbd.8.gz /usr/share/man/man8/lbctl.8.gz \
	    /usr/share/man/man5/lbd.conf.5.gz; do
		out=$(man -l --warnings "$page" 2>&1 >/dev/null)
		[ -z "$out" ] && man -l "$page" 2>/dev/null | grep -q lbd && ok=1 || ok=0
		result $ok "man -l $(basename "$page") renders without warnings" "$out"
	done
	t "the config is a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' lbd | grep -q /etc/lbd/lbd.conf"
	if command -v systemd-analyze >/dev/null; then
		out=$(systemd-analyze verify /lib/systemd/system/lbd.service 2>&1)
		result $([ -z "$out" ] && echo 1 || echo 0) "systemd-analyze verifies the unit" "$out"
	fi
	echo "# local change" >> /etc/lbd/lbd.conf
	t "reinstalling keeps the conffile" env DEBIAN_FRONTEND=noninteractive \
	    dpkg -i --force-confold "$deb"
	t "... with the local change in it" grep -q "# local change" /etc/lbd/lbd.conf
	t "dpkg --purge removes it" dpkg --purge lbd
	installed=0
	t "purged: no binary, no config left" sh -c '! test -e /usr/sbin/lbd && ! test -e /etc/lbd/lbd.conf'
fi

t "make rpm builds the package" make -s NO_DEPS=1 rpm
rpmf=$(ls build/pkg/rpm/RPMS/*/lbd-*.rpm 2>/dev/null | head -1)
if [ -n "$rpmf" ]; then
	files=$(rpm -qpl "$rpmf" 2>/dev/null)
	for f in /usr/sbin/lbd /usr/sbin/lbctl /etc/lbd/lbd.conf \
	    /usr/lib/systemd/system/lbd.service /usr/share/man/man8/lbd.8 \
	    /usr/share/man/man5/lbd.conf.5; do
		grep -qx -- "$f" <<<"$files" && ok=1 || ok=0
		result $ok "rpm -qpl lists $f" "$files"
	done
	conf=$(rpm -qpc "$rpmf" 2>/dev/null)
	grep -qx /etc/lbd/lbd.conf <<<"$conf" && ok=1 || ok=0
	result $ok "the rpm marks /etc/lbd/lbd.conf as config" "$conf"
	reqs=$(rpm -qpR "$rpmf" 2>/dev/null)
	for lib in 'libev.so.4' 'libssl.so.3' 'libcrypto.so.3'; do
		grep -q "^$lib" <<<"$reqs" && ok=1 || ok=0
		result $ok "rpm -qpR requires $lib" "$reqs"
	done
fi
tap_done
