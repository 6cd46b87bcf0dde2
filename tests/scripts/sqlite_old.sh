#!/usr/bin/env bash
# tests/scripts/sqlite_old.sh -- the SQLite version guard against a real
# older SQLite: Debian 11's 3.34.1, from the Debian mirror's bullseye source
# package, built into a sqlite3 shell, which then loads the module.
#
#   bash tests/scripts/sqlite_old.sh MODULE [WORKDIR]
#
# MODULE is the built membase.so; WORKDIR (default build-oldsqlite/ in the
# tree) keeps the download and the shell, so reruns only run the checks.
# The download is verified as apt would: bullseye's InRelease signature
# (gpgv, Debian's archive keyring), the Sources index's SHA256 from it, the
# tarball's SHA256 from the index.
#
# Checks: the old shell loads the module and gets
#   membase needs SQLite 3.40.0 or newer; this is 3.34.1
# as the load's error (and the process lives); the same module loads in the
# system's SQLite (3.40) and answers. The last line printed says so in one
# line (also written to the file $MB_PLATFORM_LINE names, when set, for
# docs/PLATFORMS.md's table). Exit 0 if both hold, 1 if not, 2 if
# something needed is missing (the line to run is printed).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
module=${1:?usage: sqlite_old.sh MODULE [WORKDIR]}
work=${2:-$root/build-oldsqlite}
mirror=http://deb.debian.org/debian
want=3.34.1
mkdir -p "$work"
for tool in curl gpgv xz tclsh cc; do
    command -v "$tool" >/dev/null || { echo "sqlite_old: $tool is missing; run: apt-get install -y curl gpgv xz-utils tcl gcc" >&2; exit 2; }
done

shell=$work/sqlite3-$want
if [ ! -x "$shell" ]; then
    t0=$(date +%s)
    dl=$work/dl
    rm -rf "$dl" && mkdir -p "$dl"
    curl -fsS -o "$dl/InRelease" "$mirror/dists/bullseye/InRelease"
    gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg "$dl/InRelease" 2>/dev/null ||
        { echo "sqlite_old: bullseye InRelease: bad signature" >&2; exit 1; }
    sum=$(awk '/^SHA256:/{s=1;next} /^[A-Za-z]/{s=0} s&&$3=="main/source/Sources.xz"{print $1}' "$dl/InRelease")
    curl -fsS -o "$dl/Sources.xz" "$mirror/dists/bullseye/main/source/Sources.xz"
    echo "$sum  $dl/Sources.xz" | sha256sum -c --quiet ||
        { echo "sqlite_old: Sources.xz does not match InRelease" >&2; exit 1; }
    # the sqlite3 stanza: its directory and the orig tarball's SHA256
    xz -dc "$dl/Sources.xz" | awk -v RS= '/^Package: sqlite3\n/' >"$dl/stanza"
    dir=$(sed -n 's/^Directory: //p' "$dl/stanza")
    line=$(awk '/^Checksums-Sha256:/{s=1;next} /^[A-Za-z]/{s=0} s&&$3 ~ /\.orig\.tar\.xz$/{print $1, $3}' "$dl/stanza")
    tsum=${line% *}
    tar_name=${line#* }
    case "$tar_name" in
        sqlite3_$want.orig.tar.xz) ;;
        *) echo "sqlite_old: bullseye's sqlite3 is \"$tar_name\", expected sqlite3_$want" >&2; exit 1 ;;
    esac
    curl -fsS -o "$dl/$tar_name" "$mirror/$dir/$tar_name"
    echo "$tsum  $dl/$tar_name" | sha256sum -c --quiet ||
        { echo "sqlite_old: $tar_name: SHA256 mismatch" >&2; exit 1; }
    tar -C "$dl" -xJf "$dl/$tar_name"
    src=$(find "$dl" -maxdepth 1 -mindepth 1 -type d -name 'sqlite*' | head -1)
    # SQLite's own tools make the amalgamation and the shell source
    (mkdir -p "$dl/bld" && cd "$dl/bld" && "$src/configure" --disable-tcl >configure.log 2>&1 &&
        make sqlite3.c shell.c >make.log 2>&1) ||
        { tail -20 "$dl/bld/make.log" "$dl/bld/configure.log" 2>/dev/null >&2; echo "sqlite_old: building the amalgamation failed" >&2; exit 1; }
    cc -O1 -DSQLITE_THREADSAFE=1 -I"$dl/bld" -o "$shell.tmp" "$dl/bld/shell.c" "$dl/bld/sqlite3.c" -lpthread -ldl -lm
    mv "$shell.tmp" "$shell"
    rm -rf "$dl"
    echo "sqlite_old: built the SQLite $want shell from Debian bullseye's source in $(( $(date +%s) - t0 )) s"
fi

fail=0
got=$("$shell" -version | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "sqlite_old: the shell is SQLite $got, expected $want" >&2; exit 1; }
out=$("$shell" :memory: ".load $module" "SELECT 'loaded';" 2>&1 || true)
expect="membase needs SQLite 3.40.0 or newer; this is $want"
if printf '%s\n' "$out" | grep -qF "$expect" && ! printf '%s\n' "$out" | grep -q '^loaded$'; then
    echo "ok: SQLite $want refuses the load: $expect"
else
    echo "FAIL: SQLite $want loading $module: expected \"$expect\", got:"
    printf '%s\n' "$out" | sed 's/^/    /'
    fail=1
fi
# the same binary in the system's SQLite (the refusal is the version's, not the file's)
out=$(sqlite3 :memory: ".load $module" "SELECT membase_version();" 2>&1 || true)
if printf '%s\n' "$out" | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+'; then
    echo "ok: SQLite $(sqlite3 -version | cut -d' ' -f1) loads it: membase_version() = $out"
else
    echo "FAIL: the system sqlite3 did not load $module:"
    printf '%s\n' "$out" | sed 's/^/    /'
    fail=1
fi
[ $fail -eq 0 ] || exit 1
# the summary line for docs/PLATFORMS.md's table (tests/run.sh)
line="sqlite versions: SQLite $want (built from Debian 11's source) refuses the load with \"$expect\"; SQLite $(sqlite3 -version | cut -d' ' -f1) (the system's) loads the same module"
echo "$line"
[ -z "${MB_PLATFORM_LINE:-}" ] || echo "$line" >"$MB_PLATFORM_LINE"
