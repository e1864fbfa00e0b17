#!/bin/bash
# Golden tests of `lbd -t`: every file in good/ is accepted; every file in
# bad/ is rejected with exactly the diagnostics in its .expect file; every
# broken copy of an example (broken-examples.txt) is rejected at the right
# line and column. Prints TAP.
# usage: tests/conf/run.sh BUILD_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
lbd=$(cd "${1:-build}" && pwd)/lbd/lbd
examples=$here/../../conf/examples
tmp=$(mktemp -d /tmp/lbd-conf-golden.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Work on a copy: git keeps no modes but the executable bit, and lbd refuses
# a key file others can read, so the keys get their modes here.
cp -r "$here/good" "$here/bad" "$tmp"/
chmod 600 "$tmp"/good/*.key "$tmp"/bad/*.key
chmod 666 "$tmp"/bad/open.key

cd "$tmp"
for f in good/*.conf; do
	out=$("$lbd" -t -f "$f" 2>&1)
	rc=$?
	[ $rc = 0 ] && ok=1 || ok=0
	result $ok "good: $f is accepted" "$out"
done

for f in bad/*.conf; do
	out=$("$lbd" -t -f "$f" 2>&1 >/dev/null)
	rc=$?
	want=$(cat "${f%.conf}.expect")
	[ $rc = 1 ] && [ "$out" = "$want" ] && ok=1 || ok=0
	result $ok "bad: $f is rejected with exactly ${f%.conf}.expect" \
	    "$(diff <(echo "$want") <(echo "$out"))"
done

while IFS=$'\t' read -r ex sedexpr want; do
	case "$ex" in ''|'#'*) continue ;; esac
	copy=$tmp/$n-$ex
	mkdir -p "$tmp"
	# The copy keeps the example's neighbours (sync.key) beside it.
	cp "$examples"/* "$tmp"/
	chmod 600 "$tmp"/sync.key
	sed "$sedexpr" "$examples/$ex" > "$copy"
	want=${want//FILE/$copy}
	want=${want//DIR/$tmp}
	out=$("$lbd" -t -f "$copy" 2>&1 >/dev/null)
	rc=$?
	if [ $rc = 1 ] && grep -qxF -- "$want" <<<"$out"; then ok=1; else ok=0; fi
	result $ok "broken $ex ($sedexpr) is rejected at the right line" \
	    "want: $want"$'\n'"got:"$'\n'"$out"
done < "$here/broken-examples.txt"

# The README's config example is accepted as printed.
readme=$here/../../README.md
mkdir -p "$tmp/readme/conf.d"
awk '/^## A config/{f=1} f&&/^```$/{if(in_block){exit}else{in_block=1;next}} in_block{print}' \
    "$readme" > "$tmp/readme/lbd.conf"
printf 'demo-key-0123456789abcdef0123456789\n' > "$tmp/readme/sync.key"
chmod 600 "$tmp/readme/sync.key"
out=$("$lbd" -t -f "$tmp/readme/lbd.conf" 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q 'service web' "$tmp/readme/lbd.conf"; then ok=1; else ok=0; fi
result $ok "the README's config example passes lbd -t" "$out"

tap_done
