#!/usr/bin/env bash
# bench/report.sh -- rewrite the generated blocks of docs/BENCHMARKS.md from
# the benchmark outputs in bench/results/latest-*.txt.
#
#   bash bench/report.sh            # rewrite docs/BENCHMARKS.md and docs/img/bench-*.svg
#   bash bench/report.sh --check    # exit 1 if either is not what the results give
#
# A block is
#   <!-- results: latest-core.txt "variant" "rand " "targets" -->
#   ...anything (replaced)...
#   <!-- /results -->
# and becomes a fenced copy of the paragraphs (runs of lines between blank
# lines) of bench/results/latest-core.txt whose first line starts with one
# of the quoted prefixes, in file order; with no prefix, the whole file.
# The prose around the blocks is written by hand: when a new run changes a
# conclusion, edit it there.
#
# The figures docs/img/bench-*.svg are drawn by bench/plot.py from the same
# files (Debian's python3-matplotlib; without it this exits 2 with the line
# to run); --check draws them into a temporary folder and fails if any SVG
# differs from, or is missing in, or is extra in docs/img/.
#
# bench/run.sh and the other benchmark drivers write bench/results/; run
# this afterwards and commit all three.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
doc=$root/docs/BENCHMARKS.md
results=$root/bench/results
mode=${1:-}
case $mode in
  ''|--check) ;;
  *) echo "usage: bash bench/report.sh [--check]" >&2; exit 2 ;;
esac

img=$root/docs/img
python=/usr/bin/python3
if ! "$python" -c 'import matplotlib' >/dev/null 2>&1; then
  echo "bench/report.sh: bench/plot.py needs matplotlib; run as root:" >&2
  echo "  apt-get update && apt-get install -y python3-matplotlib" >&2
  exit 2
fi

tmp=$(mktemp)
tmpimg=$(mktemp -d)
trap 'rm -f "$tmp"; rm -rf "$tmpimg"' EXIT
awk -v dir="$results" '
  function excerpt(file, prefixes, n,    path, line, para, np, keep, i, out, sep) {
    path = dir "/" file
    if ((getline line < path) < 0) {
      printf "bench/report.sh: no %s\n", path > "/dev/stderr"; bad = 1; return ""
    }
    close(path)
    out = ""; para = ""; np = 0
    while ((getline line < path) > 0) {
      if (line ~ /^[ \t]*$/) { out = flush(out, para, prefixes, n); para = ""; continue }
      para = para == "" ? line : para "\n" line
    }
    out = flush(out, para, prefixes, n)
    close(path)
    return out
  }
  function flush(out, para, prefixes, n,    i, keep) {
    if (para == "") return out
    keep = (n == 0)
    for (i = 1; i <= n; i++) if (index(para, prefixes[i]) == 1) keep = 1
    if (!keep) return out
    return out == "" ? para : out "\n\n" para
  }
  /^<!-- results: / {
    print
    line = $0
    sub(/^<!-- results: /, "", line); sub(/ *-->$/, "", line)
    file = line; sub(/ .*/, "", file)
    n = 0; delete pre
    m = split(line, parts, "\"")
    for (i = 2; i <= m; i += 2) pre[++n] = parts[i]
    body = excerpt(file, pre, n)
    if (body == "") { printf "bench/report.sh: nothing of %s matched\n", file > "/dev/stderr"; bad = 1 }
    print "```"; print body; print "```"
    skip = 1; next
  }
  /^<!-- \/results -->/ { skip = 0 }
  !skip { print }
  END { exit bad }
' "$doc" >"$tmp"

# The figures: a results file plot.py cannot read stops here (exit 1).
"$python" "$root/bench/plot.py" --results "$results" --out "$tmpimg" >/dev/null

if [ "$mode" = --check ]; then
  status=0
  if ! cmp -s "$tmp" "$doc"; then
    echo "bench/report.sh: docs/BENCHMARKS.md is not what bench/results/ gives; run: bash bench/report.sh" >&2
    diff -u "$doc" "$tmp" | head -40 >&2
    status=1
  fi
  nimg=0
  for f in "$tmpimg"/*.svg "$img"/bench-*.svg; do
    [ -e "$f" ] || continue
    name=${f##*/}
    case $f in "$img"/*) [ -e "$tmpimg/$name" ] && continue ;; esac
    nimg=$((nimg + 1))
    if [ ! -e "$img/$name" ]; then
      echo "bench/report.sh: docs/img/$name is missing; run: bash bench/report.sh" >&2; status=1
    elif [ ! -e "$tmpimg/$name" ]; then
      echo "bench/report.sh: docs/img/$name is drawn from no results file; remove it" >&2; status=1
    elif ! cmp -s "$tmpimg/$name" "$img/$name"; then
      echo "bench/report.sh: docs/img/$name is not what bench/results/ gives; run: bash bench/report.sh" >&2
      status=1
    fi
  done
  [ "$status" = 0 ] || exit 1
  echo "bench/report.sh: docs/BENCHMARKS.md and the $nimg figures in docs/img/ match bench/results/"
else
  cp "$tmp" "$doc"
  mkdir -p "$img"
  rm -f "$img"/bench-*.svg
  cp "$tmpimg"/*.svg "$img"/
  echo "bench/report.sh: docs/BENCHMARKS.md and docs/img/bench-*.svg rewritten from bench/results/"
fi
