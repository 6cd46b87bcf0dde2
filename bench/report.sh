#!/usr/bin/env bash
# bench/report.sh -- rewrite the generated blocks of docs/BENCHMARKS.md from
# the benchmark outputs in bench/results/latest-*.txt.
#
#   bash bench/report.sh            # rewrite docs/BENCHMARKS.md in place
#   bash bench/report.sh --check    # exit 1 if it is not what the results give
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
# bench/run.sh and the other benchmark drivers write bench/results/; run
# this afterwards and commit both.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
doc=$root/docs/BENCHMARKS.md
results=$root/bench/results
mode=${1:-}
case $mode in
  ''|--check) ;;
  *) echo "usage: bash bench/report.sh [--check]" >&2; exit 2 ;;
esac

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
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

if [ "$mode" = --check ]; then
  if ! cmp -s "$tmp" "$doc"; then
    echo "bench/report.sh: docs/BENCHMARKS.md is not what bench/results/ gives; run: bash bench/report.sh" >&2
    diff -u "$doc" "$tmp" | head -40 >&2
    exit 1
  fi
  echo "bench/report.sh: docs/BENCHMARKS.md matches bench/results/"
else
  cp "$tmp" "$doc"
  echo "bench/report.sh: docs/BENCHMARKS.md rewritten from bench/results/"
fi
