#!/usr/bin/env bash
# debian-deb.sh SUITE PACKAGE OUTDIR: downloads PACKAGE's .deb from Debian SUITE (e.g. sid) into
# OUTDIR and prints its path. An apt of its own, in a temp folder: this machine's sources, lists and
# state stay as they are (the package is not installed here). Used by build-box.sh (containerd 2.x
# for the test box) and by .ci/run (the containerd binaries the containerd tests read configs with).
set -euo pipefail
suite=$1 package=$2 out=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/labgen-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work" # apt's _apt user downloads into it
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/deb" "$out"
echo "deb http://deb.debian.org/debian $suite main" >"$work/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Dir::State::status=/dev/null
  -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -q >&2
(cd "$work/deb" && apt-get "${opts[@]}" download "$package" >&2)
deb=$(ls "$work/deb/${package}_"*.deb)
mv "$deb" "$out/"
echo "$out/$(basename "$deb")"
