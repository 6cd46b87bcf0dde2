'use strict';
// tests/scripts/package_npm.js -- run by package_npm.sh in a folder where
// the packed npm tarballs were installed: MemBase loaded through its npm
// loader into better-sqlite3 (and into node:sqlite when this Node has it),
// a record table over a file that this script packs itself (the oracle:
// Node's own Buffer writes and the same values in JS), membase_lines over
// a text file, and a database opened through the VFS by membase_vfs_default
// (better-sqlite3 does not pass SQLITE_OPEN_URI, so "?vfs=" in a file name
// is not read). Prints "ok: ..." per check; exits 1 on the first mismatch.
const fs = require('fs');
const os = require('os');
const path = require('path');
const assert = require('assert');
const membase = require('membase');

const client = process.argv[2];        // better-sqlite3 | node:sqlite
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'membase-npm-'));
function ok(what, got, want) {
  assert.deepStrictEqual(got, want, `${client}: ${what}`);
  console.log(`ok: ${client}: ${what}: ${JSON.stringify(got)}`);
}

function open(file, opts) {
  if (client === 'better-sqlite3') {
    const Database = require('better-sqlite3');
    return new Database(file, opts);
  }
  const { DatabaseSync } = require('node:sqlite');
  return new DatabaseSync(file, { allowExtension: true, ...opts });
}
const one = (db, sql) => Object.values(db.prepare(sql).get());

const db = open(':memory:');
membase.load(db);
ok('membase_version()', one(db, 'SELECT membase_version()'), [require('membase/package.json').version]);

// 1000 records "a i64, b f64, c i32, _ pad(4)", packed here
const n = 1000, rec = 24, buf = Buffer.alloc(n * rec);
let sumA = 0n, sumC = 0, maxB = -Infinity;
for (let i = 0; i < n; i++) {
  const a = BigInt(i) * 3n, b = (i * 7919 % 1000) / 8 - 60, c = (i * 2654435761) % 100000 - 50000;
  buf.writeBigInt64LE(a, i * rec); buf.writeDoubleLE(b, i * rec + 8); buf.writeInt32LE(c, i * rec + 16);
  sumA += a; sumC += c; if (b > maxB) maxB = b;
}
fs.writeFileSync(path.join(dir, 'r.bin'), buf);
db.exec(`CREATE VIRTUAL TABLE temp.r USING membase(file='${dir}/r.bin',
           layout='a i64, b f64, c i32, _ pad(4)', sorted=a)`);
ok('record table: count, sum(a), sum(c), max(b)',
   one(db, 'SELECT count(*), sum(a), sum(c), max(b) FROM r'), [n, Number(sumA), sumC, maxB]);
ok('record table: the row at a = 2997', one(db, 'SELECT rowid, c FROM r WHERE a = 2997'),
   [999, buf.readInt32LE(999 * rec + 16)]);

fs.writeFileSync(path.join(dir, 'l.txt'), 'alpha\nbeta\ngamma\n');
ok('membase_lines', one(db, `SELECT count(*), group_concat(line, ',') FROM membase_lines('${dir}/l.txt')`),
   [3, 'alpha,beta,gamma']);

// the VFS: the process default for connections opened from now on
ok('membase_vfs_default', one(db, "SELECT membase_vfs_default('membase')"), ['membase']);
const v = open(path.join(dir, 'v.db'));
ok('a connection on the membase VFS', one(v, 'PRAGMA membase_locking'), ['shared']);
v.exec('CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)');
v.close();
one(db, "SELECT membase_vfs_default('unix')");
const u = open(path.join(dir, 'v.db'));
ok('the file read back through the unix VFS', one(u, 'SELECT count(*), sum(x) FROM t'), [3, 6]);
u.close();
db.close();

if (client === 'node:sqlite') {
  // a connection that does not allow extensions: the loader says what to do
  const { DatabaseSync } = require('node:sqlite');
  let msg = 'no error';
  try { membase.load(new DatabaseSync(':memory:')); } catch (e) { msg = e.message; }
  ok('load() on a DatabaseSync without allowExtension', /allowExtension: true/.test(msg), true);
}
fs.rmSync(dir, { recursive: true });
