# tests/scripts/debian_sqlite.sh -- sourced: SQLite's amalgamation from a
# Debian release's source package, verified as apt would verify it.
#
#   mb_debian_sqlite SUITE VERSION DIR
#
# Downloads SUITE's (bullseye, trixie, ...) InRelease from the Debian
# mirror, checks its signature (gpgv, Debian's archive keyring), the
# Sources index's SHA256 from it and the sqlite3 tarball's SHA256 from the
# index, requires the tarball to be sqlite3_VERSION, and runs SQLite's own
# tools to make DIR/sqlite3.c, sqlite3.h, sqlite3ext.h and shell.c. DIR is
# left as it is when DIR/sqlite3.c exists. Returns non-zero (with a
# message on stderr) on any failure; 2 when a tool is missing.
mb_debian_sqlite() {
    local suite=$1 want=$2 out=$3 mirror=http://deb.debian.org/debian
    local tool dl sum dir line tsum tar_name src
    [ -f "$out/sqlite3.c" ] && return 0
    for tool in curl gpgv xz tclsh cc; do
        command -v "$tool" >/dev/null || { echo "debian_sqlite: $tool is missing; run: apt-get install -y curl gpgv xz-utils tcl gcc" >&2; return 2; }
    done
    dl=$out.dl
    rm -rf "$dl" && mkdir -p "$dl" "$out"
    curl -fsS -o "$dl/InRelease" "$mirror/dists/$suite/InRelease" || return 1
    gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg "$dl/InRelease" 2>/dev/null ||
        { echo "debian_sqlite: $suite InRelease: bad signature" >&2; return 1; }
    sum=$(awk '/^SHA256:/{s=1;next} /^[A-Za-z]/{s=0} s&&$3=="main/source/Sources.xz"{print $1}' "$dl/InRelease")
    curl -fsS -o "$dl/Sources.xz" "$mirror/dists/$suite/main/source/Sources.xz" || return 1
    echo "$sum  $dl/Sources.xz" | sha256sum -c --quiet ||
        { echo "debian_sqlite: $suite Sources.xz does not match InRelease" >&2; return 1; }
    # the sqlite3 stanza: its directory and the orig tarball's SHA256
    xz -dc "$dl/Sources.xz" | awk -v RS= '/^Package: sqlite3\n/' >"$dl/stanza"
    dir=$(sed -n 's/^Directory: //p' "$dl/stanza")
    line=$(awk '/^Checksums-Sha256:/{s=1;next} /^[A-Za-z]/{s=0} s&&$3 ~ /^sqlite3_[0-9.]*\.orig\.tar\.xz$/{print $1, $3}' "$dl/stanza")
    tsum=${line% *}
    tar_name=${line#* }
    case "$tar_name" in
        sqlite3_$want.orig.tar.xz) ;;
        *) echo "debian_sqlite: $suite's sqlite3 is \"$tar_name\", expected sqlite3_$want" >&2; return 1 ;;
    esac
    curl -fsS -o "$dl/$tar_name" "$mirror/$dir/$tar_name" || return 1
    echo "$tsum  $dl/$tar_name" | sha256sum -c --quiet ||
        { echo "debian_sqlite: $tar_name: SHA256 mismatch" >&2; return 1; }
    tar -C "$dl" -xJf "$dl/$tar_name"
    src=$(find "$dl" -maxdepth 1 -mindepth 1 -type d -name 'sqlite*' | head -1)
    (mkdir -p "$dl/bld" && cd "$dl/bld" && "$src/configure" --disable-tcl >configure.log 2>&1 &&
        make sqlite3.c shell.c >make.log 2>&1) ||
        { tail -20 "$dl/bld/make.log" "$dl/bld/configure.log" 2>/dev/null >&2; echo "debian_sqlite: building the $want amalgamation failed" >&2; return 1; }
    cp "$dl/bld/sqlite3.c" "$dl/bld/sqlite3.h" "$dl/bld/shell.c" "$out/"
    cp "$src/src/sqlite3ext.h" "$out/" 2>/dev/null || cp "$dl/bld/sqlite3ext.h" "$out/" 2>/dev/null || true
    rm -rf "$dl"
}
