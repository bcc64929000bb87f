#!/usr/bin/env bash
# Installs the kubeplug kubectl plugins without Krew: builds the release binaries and puts them
# on PATH under the names kubectl dispatches to (`kubectl show stale-replica-sets` runs
# kubectl-show-stale_replica_sets), plus the kubectl_complete-* helpers kubectl (1.26+) runs to
# complete the plugins' flags and arguments. The plugin list comes from plugins.yaml.
#
# Usage: scripts/install.sh [--prefix DIR] [--bin-dir DIR] [--uninstall]
#   --prefix DIR   install into DIR/bin (default: $PREFIX, else ~/.local)
#   --bin-dir DIR  take already-built binaries from DIR instead of running cargo build --release
#   --uninstall    remove exactly the files a previous install into the same prefix wrote
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${PREFIX:-$HOME/.local}"
bin_dir=""
uninstall=false

die() { echo "error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a directory"; bin_dir="$2"; shift 2 ;;
    --bin-dir=*) bin_dir="${1#--bin-dir=}"; shift ;;
    --uninstall) uninstall=true; shift ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

dest="$prefix/bin"
# What an install wrote, one path per line, so that --uninstall removes exactly that.
record="$prefix/share/kubeplug/installed-files"

if $uninstall; then
  [ -f "$record" ] || die "nothing to uninstall: $record not found"
  while IFS= read -r file; do
    [ -n "$file" ] || continue
    if [ -e "$file" ] || [ -L "$file" ]; then
      rm -f -- "$file"
      echo "removed $file"
    fi
  done < "$record"
  rm -f -- "$record"
  rmdir -- "$prefix/share/kubeplug" 2>/dev/null || true
  exit 0
fi

# The binaries and crates listed in plugins.yaml ("    binary: NAME", "    crate: NAME").
binaries=$(sed -n 's/^ *binary: *\([^ ]*\) *$/\1/p' "$root/plugins.yaml")
crates=$(sed -n 's/^ *crate: *\([^ ]*\) *$/\1/p' "$root/plugins.yaml")
[ -n "$binaries" ] || die "no binaries listed in $root/plugins.yaml"

if [ -z "$bin_dir" ]; then
  args=()
  for c in $crates; do args+=(-p "$c"); done
  (cd "$root" && cargo build --release "${args[@]}")
  bin_dir="${CARGO_TARGET_DIR:-$root/target}/release"
fi

for b in $binaries; do
  [ -x "$bin_dir/$b" ] || die "binary $bin_dir/$b not found (build it, or drop --bin-dir)"
done

mkdir -p "$dest" "$(dirname "$record")"
: > "$record.tmp"
for b in $binaries; do
  install -m 0755 "$bin_dir/$b" "$dest/$b"
  echo "$dest/$b" >> "$record.tmp"
  # kubectl looks for the helper by replacing the first '-' of the plugin's name with '_complete-'.
  helper="kubectl_complete-${b#kubectl-}"
  printf '#!/bin/sh\n# kubectl (1.26+) runs this to complete `%s`'"'"'s flags and arguments.\nexec %s __complete "$@"\n' "$b" "$b" > "$dest/$helper"
  chmod 0755 "$dest/$helper"
  echo "$dest/$helper" >> "$record.tmp"
  echo "installed $dest/$b and $dest/$helper"
done
mv -f "$record.tmp" "$record"

case ":$PATH:" in
  *":$dest:"*) ;;
  *) echo "note: $dest is not on your PATH; add it so that kubectl finds the plugins" >&2 ;;
esac
