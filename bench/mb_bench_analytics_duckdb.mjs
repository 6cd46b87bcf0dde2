// bench/mb_bench_analytics_duckdb.mjs -- the DuckDB side of
// bench/mb_bench_analytics.py (Node 20, npm @duckdb/node-api).
//
//   node bench/mb_bench_analytics_duckdb.mjs SPEC.json OUT.json
//
// Not meant to be run by hand: mb_bench_analytics.py writes SPEC.json and
// reads OUT.json. SPEC holds
//   api      path of @duckdb/node-api's lib/index.js (the pinned install)
//   rows     the record count
//   columns  {ts, price, qty, side, sym}: raw column files that the Python
//            side wrote from the benchmark's .npy file (a[col].tofile():
//            little-endian int64, float64, int32, uint8, and 'S8' bytes)
//   threads  e.g. [1, 2]: each query is run under SET threads=T
//   reps, budget  best of up to `reps` timed runs after one warm-up run,
//            fewer once the timed runs of a query add up to `budget` s
//   checks   [{label, sql}] run once after the load (the load's checksums)
//   queries  [{label, sql}] the timed queries
// OUT holds the DuckDB version, the load time, each check's rows and, per
// query and thread count, the times (ms) and the warm-up run's rows as
// columns (integers that do not fit a double are sent as strings).
//
// The table is built in memory (DuckDB's fastest case) with the appender,
// one data chunk of 2048 rows at a time, from the column files: the values
// are the .npy file's bits, with no text conversion on the way.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const [specPath, outPath] = process.argv.slice(2);
if (!specPath || !outPath) {
  console.error('usage: node mb_bench_analytics_duckdb.mjs SPEC.json OUT.json');
  process.exit(2);
}
const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
const duck = await import(pathToFileURL(spec.api).href);
const { DuckDBInstance, DuckDBDataChunk, BIGINT, DOUBLE, INTEGER, UTINYINT, VARCHAR } = duck;

function log(...a) { console.error('duckdb:', ...a); }

// A column file as a typed array over its own, aligned, buffer.
function column(path, Type, n) {
  const buf = fs.readFileSync(path);
  if (buf.length !== n * Type.BYTES_PER_ELEMENT) {
    throw new Error(`${path}: ${buf.length} bytes, expected ${n * Type.BYTES_PER_ELEMENT}`);
  }
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  return new Type(ab);
}

// JSON cannot carry a bigint: a safe integer becomes a number, others text.
function plain(v) {
  if (typeof v === 'bigint') {
    return (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER))
      ? Number(v) : v.toString();
  }
  if (v !== null && typeof v === 'object') return v.toString();   // HUGEINT, DECIMAL values
  return v;
}

const n = spec.rows;
const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
const version = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
log(`version ${version}, loading ${n} rows`);

const t0 = performance.now();
const ts = column(spec.columns.ts, BigInt64Array, n);
const price = column(spec.columns.price, Float64Array, n);
const qty = column(spec.columns.qty, Int32Array, n);
const side = column(spec.columns.side, Uint8Array, n);
const symRaw = column(spec.columns.sym, BigUint64Array, n);   // 'S8': 8 bytes a value
const symBytes = new Uint8Array(symRaw.buffer);
const symText = new Map();   // 8 raw bytes -> text without the trailing NULs
await conn.run('CREATE TABLE ticks(ts BIGINT, price DOUBLE, qty INTEGER, side UTINYINT, sym VARCHAR)');
const app = await conn.createAppender('ticks');
const types = [BIGINT, DOUBLE, INTEGER, UTINYINT, VARCHAR];
const CH = 2048;
for (let lo = 0; lo < n; lo += CH) {
  const hi = Math.min(n, lo + CH);
  const cts = new Array(hi - lo), cpr = new Array(hi - lo), cq = new Array(hi - lo);
  const cs = new Array(hi - lo), csym = new Array(hi - lo);
  for (let i = lo; i < hi; i++) {
    const k = i - lo;
    cts[k] = ts[i]; cpr[k] = price[i]; cq[k] = qty[i]; cs[k] = side[i];
    const key = symRaw[i];
    let s = symText.get(key);
    if (s === undefined) {
      let e = i * 8 + 8;
      while (e > i * 8 && symBytes[e - 1] === 0) e--;
      s = Buffer.from(symBytes.subarray(i * 8, e)).toString('latin1');
      symText.set(key, s);
    }
    csym[k] = s;
  }
  const chunk = DuckDBDataChunk.create(types, hi - lo);
  chunk.setColumns([cts, cpr, cq, cs, csym]);
  app.appendDataChunk(chunk);
}
app.closeSync();
const loadMs = performance.now() - t0;
log(`loaded in ${(loadMs / 1000).toFixed(1)} s`);

async function rowsOf(sql) {
  const r = await conn.runAndReadAll(sql);
  return r.getColumns().map((c) => c.map(plain));
}

const checks = [];
for (const c of spec.checks) checks.push({ label: c.label, columns: await rowsOf(c.sql) });

const results = [];
for (const t of spec.threads) {
  await conn.run(`SET threads=${t}`);
  const got = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
  for (const q of spec.queries) {
    log(`${q.label}, threads=${got}`);
    const columns = await rowsOf(q.sql);     // warm-up; its answer is checked
    const times = [];
    let spent = 0;
    while (times.length < spec.reps && (times.length === 0 || spent < spec.budget * 1000)) {
      const a = performance.now();
      await conn.runAndReadAll(q.sql);       // every row read into Node
      const ms = performance.now() - a;
      times.push(ms);
      spent += ms;
    }
    results.push({ label: q.label, threads: Number(got), times, columns });
  }
}
fs.writeFileSync(outPath, JSON.stringify({ version, loadMs, checks, results }));
conn.closeSync();
inst.closeSync();
