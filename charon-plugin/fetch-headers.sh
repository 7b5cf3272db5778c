#!/bin/sh
# Fetch and configure the strongSwan source tree whose headers the
# clustergate plugin is compiled against.
#
#   charon-plugin/fetch-headers.sh OUTDIR
#
# Debian ships no strongSwan headers, so the tree comes from Debian's
# source package of the installed strongswan-charon. apt needs a deb-src
# stanza for that: we copy the machine's own "Types: deb" stanzas that point
# at Debian, so no mirror name is ever written into the repository.
#
# Result: OUTDIR/strongswan-<upstream>/ configured with
# "--disable-defaults --enable-mediation" (ME changes public struct layouts
# and Debian builds with it), and the stamp OUTDIR/strongswan-<upstream>.stamp.
# With the stamp present nothing is fetched or configured again.
set -eu

out=${1:?usage: fetch-headers.sh OUTDIR}
sources=/etc/apt/sources.list.d/debian.sources
src_sources=/etc/apt/sources.list.d/clustergate-src.sources

die() { echo "fetch-headers: $*" >&2; exit 1; }

installed=$(dpkg-query -W -f='${Version}' strongswan-charon 2>/dev/null) ||
	die "strongswan-charon is not installed (run 'make deps')"
# Upstream version: strip the epoch and the Debian revision.
upstream=${installed#*:}
upstream=${upstream%%-*}

mkdir -p "$out"
out=$(cd "$out" && pwd)
tree="$out/strongswan-$upstream"
stamp="$tree.stamp"

# Two makes may run at once in this work tree: one fetches, the other waits.
exec 9>"$out/.lock"
flock 9
[ -f "$stamp" ] && exit 0

header_version() {
	sed -n 's/^#define VERSION "\(.*\)"$/\1/p' "$1/config.h"
}

add_deb_src() {
	# Already able to fetch sources (ours or the admin's)?
	if [ -f "$src_sources" ] ||
	   grep -rqs '^[[:space:]]*\(Types:.*deb-src\|deb-src\)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	[ -r "$sources" ] || die "$sources not found: add a deb-src entry for Debian by hand"
	[ "$(id -u)" -eq 0 ] || die "must run as root to add $src_sources"
	# Paragraphs are stanzas; keep those of type deb whose URIs are Debian.
	awk 'BEGIN { RS = "" }
	     /(^|\n)Types:[^\n]*deb/ && /(^|\n)URIs:[^\n]*debian/ {
		out = ""
		n = split($0, lines, "\n")
		for (i = 1; i <= n; i++) {
			if (lines[i] ~ /^#/) continue
			if (lines[i] ~ /^Types:/) lines[i] = "Types: deb-src"
			out = out lines[i] "\n"
		}
		printf "%s\n", out
	     }' "$sources" > "$src_sources.tmp"
	[ -s "$src_sources.tmp" ] || { rm -f "$src_sources.tmp"; die "no Debian 'Types: deb' stanza in $sources"; }
	mv "$src_sources.tmp" "$src_sources"
	echo "fetch-headers: added $src_sources"
}

fetch_source() {
	dl="$out/download"
	rm -rf "$dl"; mkdir -p "$dl"
	add_deb_src
	apt-get update -qq || die "apt-get update failed"
	# The exact security revision may be gone from the archive; only the
	# upstream tarball matters (Debian's revisions change .c files only).
	# apt fetches the tarball before it fails on a missing .dsc, so try
	# the installed version, then every listed one, until a tarball is here.
	for version in "$installed" $(apt-cache showsrc strongswan 2>/dev/null |
			sed -n 's/^Version: //p' | sort -r -V); do
		(cd "$dl" && apt-get source -qq --download-only "strongswan=$version") ||
			echo "fetch-headers: source strongswan=$version incomplete" >&2
		ls "$dl"/strongswan_"$upstream".orig.tar.* >/dev/null 2>&1 && break
	done
	tarball=$(ls "$dl"/strongswan_"$upstream".orig.tar.* 2>/dev/null | head -n 1)
	[ -n "$tarball" ] || die "no strongswan_$upstream.orig tarball in any source package"
	case "$tarball" in
	*"strongswan_$upstream.orig.tar."*) ;;
	*) die "source package has $(basename "$tarball"), installed strongSwan is $upstream" ;;
	esac
	rm -rf "$tree"
	tar -xf "$tarball" -C "$out" || die "cannot unpack $tarball"
	[ -d "$tree" ] || die "$tarball did not unpack to $tree"
	rm -rf "$dl"
}

[ -f "$tree/configure" ] || fetch_source
echo "fetch-headers: configuring $tree (about 20 s on an idle machine)"
(cd "$tree" && ./configure -q --disable-defaults --enable-mediation >"$out/configure.log" 2>&1) ||
	die "configure failed, see $out/configure.log"
got=$(header_version "$tree")
[ "$got" = "$upstream" ] ||
	die "headers are strongSwan $got but the installed strongSwan is $upstream"
touch "$stamp"
echo "fetch-headers: strongSwan $upstream headers ready in $tree"
