#!/bin/sh
# tests/docs_check.sh -- the README stays short and the documents' links
# lead somewhere (ctest: docs.links).
#
#   sh tests/docs_check.sh [SOURCE_DIR]
#
# Fails if README.md is over 260 lines, or if a relative link of README.md
# or docs/*.md, [text](path) or [text](path#anchor), names a file or folder
# that does not exist (resolved from the linking file's folder). Links with
# a scheme (https:, mailto:) and links to an anchor of the same page are not
# checked.
set -eu
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
max=260
status=0

n=$(wc -l < "$root/README.md")
if [ "$n" -gt "$max" ]; then
  echo "docs_check: README.md has $n lines (at most $max): move the detail to docs/" >&2
  status=1
fi

nlinks=0
for f in "$root/README.md" "$root"/docs/*.md; do
  [ -f "$f" ] || continue
  dir=$(dirname "$f")
  rel=${f#"$root"/}
  # every ](target) of the file, one per line (code spans and fences included:
  # a link-shaped text there is checked too, which keeps the rule simple)
  for target in $(grep -o '](\([^)[:space:]]*\))' "$f" | sed 's/^](//; s/)$//'); do
    case $target in
      ''|\#*|*://*|mailto:*) continue ;;
    esac
    path=${target%%#*}
    nlinks=$((nlinks + 1))
    if [ ! -e "$dir/$path" ]; then
      echo "docs_check: $rel links to $target, which does not exist" >&2
      status=1
    fi
  done
done

[ "$status" = 0 ] && echo "docs_check: README.md $n lines (<= $max); $nlinks relative links, all found"
exit $status
