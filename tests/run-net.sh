#!/bin/sh
# Runs the network-namespace tests (shell scripts, as root) one at a time
# and prints one closing line: "N passed, N failed".
passed=0 failed=0
mkdir -p build/test-logs
for t in "$@"; do
	name=$(echo "$t" | tr / _)
	start=$(date +%s)
	if timeout 600 bash "$t" > "build/test-logs/$name.log" 2>&1; then
		passed=$((passed + 1)); echo "PASS $t ($(( $(date +%s) - start ))s)"
	else
		failed=$((failed + 1)); echo "FAIL $t ($(( $(date +%s) - start ))s)"
		tail -n 60 "build/test-logs/$name.log"
	fi
done
echo "net: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
