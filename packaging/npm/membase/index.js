'use strict';
// The MemBase loader: where this platform's loadable extension is, and
// load(db) for better-sqlite3 and node:sqlite. The binaries come in the
// per-platform packages (membase-<platform>-<arch>), which npm installs as
// optional dependencies, only the one that matches the machine.
const path = require('path');
const fs = require('fs');

const FILES = {
  'linux-x64': 'membase.so',
  'linux-arm64': 'membase.so',
  'darwin-x64': 'membase.dylib',
  'darwin-arm64': 'membase.dylib',
  'win32-x64': 'membase.dll',
};

function platformKey() {
  return `${process.platform}-${process.arch}`;
}

// The absolute path of the extension for this machine. Throws an Error that
// names the platform and the package to install when there is none.
function getLoadablePath() {
  const key = platformKey();
  const file = FILES[key];
  if (!file) {
    throw new Error(`membase: no build for ${key}; builds exist for ${Object.keys(FILES).join(', ')}`);
  }
  const pkg = `membase-${key}`;
  let dir;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch (e) {
    throw new Error(`membase: the package ${pkg} is not installed: npm leaves an optional ` +
                    `dependency out with --omit=optional, or when it cannot fetch it (until the ` +
                    `platform packages are published, install the tarball beside membase's: ` +
                    `npm install ./${pkg}-<version>.tgz)`);
  }
  const full = path.join(dir, file);
  if (!fs.existsSync(full)) throw new Error(`membase: ${full} is missing from ${pkg}`);
  return full;
}

// Load MemBase into an open connection of better-sqlite3 (Database) or of
// node:sqlite (DatabaseSync, opened with { allowExtension: true }, Node
// 22.13 or newer). Both have loadExtension(path); SQLite finds the entry
// point sqlite3_membase_init from the file name. The load is for the whole
// process: every connection opened afterwards has MemBase too (an SQLite
// automatic extension; docs/SECURITY.md).
function load(db) {
  if (!db || typeof db.loadExtension !== 'function') {
    throw new TypeError('membase.load(db): db must be a better-sqlite3 Database or a node:sqlite ' +
                        'DatabaseSync opened with { allowExtension: true }');
  }
  const file = getLoadablePath();
  try {
    db.loadExtension(file);
  } catch (e) {
    // node:sqlite refuses unless the database was opened to allow it
    if (/not allowed/i.test(String(e && e.message))) {
      throw new Error('membase.load(db): this connection does not allow extensions; open it with ' +
                      "new DatabaseSync(path, { allowExtension: true })", { cause: e });
    }
    throw e;
  }
  return db;
}

module.exports = { getLoadablePath, load };
