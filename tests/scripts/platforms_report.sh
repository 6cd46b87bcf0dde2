#!/usr/bin/env bash
# tests/scripts/platforms_report.sh -- the table of what runs where, from
# the runs themselves.
#
#   bash tests/scripts/platforms_report.sh [--write | --check] [DIR]
#
# Each platform stage of tests/run.sh leaves its one-line summary (the last
# line its script prints: what was built, what ran, how many passed) in
# DIR/<order>-<name>.line (default DIR: build/platforms). This prints them
# as a table. --write puts the table into docs/PLATFORMS.md between the
# markers "<!-- platforms:begin -->" and "<!-- platforms:end -->"; --check
# fails if the table there differs from this run's (so the counts in the
# docs are the counts of the run, and a test added without regenerating
# the table fails CI). Timings "(N s)" at the end of a parenthesis are
# left out: they vary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mode=print
case "${1:-}" in --write|--check) mode=${1#--}; shift ;; esac
dir=${1:-$root/build/platforms}
doc=$root/docs/PLATFORMS.md

table() {
    echo "| stage | what was built and run, and how much passed |"
    echo "|---|---|"
    local f name line
    for f in "$dir"/*.line; do
        [ -e "$f" ] || { echo "platforms_report: no summaries in $dir" >&2; return 1; }
        name=$(basename "$f" .line)
        name=${name#*-}
        line=$(tail -n 1 "$f" | sed -E 's/ *\(([^()]*, )?[0-9]+ s\)//g; s/\|/\\|/g')
        echo "| $name | $line |"
    done
}

new=$(table)
case $mode in
    print) printf '%s\n' "$new" ;;
    write|check)
        old=$(sed -n '/<!-- platforms:begin -->/,/<!-- platforms:end -->/p' "$doc" | sed '1d;$d')
        if [ "$mode" = check ]; then
            if [ "$old" = "$new" ]; then
                echo "platforms_report: docs/PLATFORMS.md has this run's counts"
                exit 0
            fi
            echo "platforms_report: docs/PLATFORMS.md's table differs from this run:" >&2
            diff <(printf '%s\n' "$old") <(printf '%s\n' "$new") >&2 || true
            echo "regenerate it: bash tests/scripts/platforms_report.sh --write" >&2
            exit 1
        fi
        grep -q '<!-- platforms:begin -->' "$doc" ||
            { echo "platforms_report: no <!-- platforms:begin --> marker in $doc" >&2; exit 1; }
        tmp=$(mktemp)
        awk -v table="$new" '
            /<!-- platforms:begin -->/ { print; print table; skip = 1; next }
            /<!-- platforms:end -->/   { skip = 0 }
            !skip' "$doc" >"$tmp"
        mv "$tmp" "$doc"
        echo "platforms_report: wrote the table into docs/PLATFORMS.md"
        ;;
esac
