#!/bin/sh
# Runs every unit test binary given (plain and sanitizer builds) and prints
# one closing line: "N passed, N failed".
passed=0 failed=0
for t in "$@"; do
	if "$t" > "$t.log" 2>&1; then
		passed=$((passed + 1)); echo "PASS $t"
	else
		failed=$((failed + 1)); echo "FAIL $t"; cat "$t.log"
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
