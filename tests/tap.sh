# TAP for the shell suites: `. tests/tap.sh`, then
#   result OK NAME [DETAIL]    one test line; OK is 1 or 0; DETAIL on failure
#   tap_done                   the plan; returns non-zero when any failed
n=0 failed=0

result() {
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ $# -ge 3 ] && printf '%s\n' "$3" | head -20 | sed 's/^/#   /'
	fi
}

tap_done() {
	echo "1..$n"
	[ "$failed" = 0 ]
}
