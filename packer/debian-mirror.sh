#!/bin/sh
# Prints the URI of this machine's Debian archive mirror (the deb stanza that
# carries the "bookworm" suite), so the smoke test never hard-codes a host.
# Reads deb822 sources first, then a classic sources.list.
set -eu
for f in /etc/apt/sources.list.d/*.sources; do
	[ -r "$f" ] || continue
	uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
		{
			types = uris = suites = ""
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^Types:/)  types = $i
				if ($i ~ /^URIs:/)   uris = $i
				if ($i ~ /^Suites:/) suites = $i
			}
			if (types ~ /[ \t]deb([ \t]|$)/ && suites ~ /[ \t]bookworm([ \t]|$)/) {
				split(uris, u, /[ \t]+/); print u[2]; exit
			}
		}' "$f")
	[ -n "$uri" ] && { echo "$uri"; exit 0; }
done
if [ -r /etc/apt/sources.list ]; then
	uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
	[ -n "$uri" ] && { echo "$uri"; exit 0; }
fi
echo "debian-mirror: no 'deb ... bookworm' source found in /etc/apt" >&2
exit 1
