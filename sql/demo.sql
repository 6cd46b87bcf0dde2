-- demo.sql -- a tour of MemBase in the sqlite3 shell.
--
-- Run it with sql/demo.sh, which builds the module, writes the 64 MiB
-- sample file sample.dat and runs this script in its directory:
--
--     sqlite3 -cmd ".load build/membase" :memory: < sql/demo.sql
--
-- sample.dat holds 2 Mi fixed-size records of 32 bytes each:
--     0000000001 00000000002654435761\n
-- an id of 10 digits, a space, a value of 20 digits and a newline.
--
-- Sections 1-6 map the file and show the mapping core (sharing, counters);
-- 7 reads it as text lines (membase_lines); 8 reads it as fixed-size
-- records, then builds ticks.npy from SQL and aggregates, range-searches and
-- updates it in place (membase, membase_aggregate).

.mode box
.headers on

-- 1. Which MemBase is loaded? Loading it also made it an automatic
--    extension: every connection this shell opens from now on has it.
.print '1. The MemBase version'
SELECT membase_version() AS version;

-- 2. Map the sample file. The mapping belongs to the whole process (one per
--    file, shared by every user); this connection pins it until it calls
--    membase_unmap() or closes. 'populate' reads the whole file into memory
--    now, so later reads do not fault; 'advice=sequential' tells the kernel
--    how we mean to read it. The result is the size of the mapping.
.print
.print '2. Map sample.dat: populate, advice=sequential'
SELECT membase_map('sample.dat', 'populate,advice=sequential') AS bytes_mapped;

-- 3. The live mappings of this process. reserved is address space kept
--    free so the mapping can grow in place; it costs no memory.
.print
.print '3. The live mappings (membase_stats)'
SELECT path,
       mapped / 1048576 AS mapped_mib,
       reserved / 1073741824 AS reserved_gib,
       refcount, writable, advice, hugepages
  FROM membase_stats;

-- 4. Sharing. Open a second connection (.connection 1) and map the same
--    file under another name, ./sample.dat: MemBase identifies files, not
--    names, so there is still one mapping, now with two users.
.print
.print '4. A second connection maps ./sample.dat: one mapping, two users'
.connection 1
SELECT membase_map('./sample.dat') AS bytes_mapped;
SELECT path, mapped / 1048576 AS mapped_mib, refcount FROM membase_stats;

-- Closing the second connection drops its pin: refcount goes back to 1.
.connection 0
.connection close 1
.print '   ...and after closing the second connection'
SELECT path, mapped / 1048576 AS mapped_mib, refcount FROM membase_stats;

-- 5. The process-wide counters of the mapping core, one row per counter.
--    membase_counters() returns them as one JSON object; json_each() turns
--    it into rows.
.print
.print '5. Process-wide counters (membase_counters)'
SELECT key AS counter, value FROM json_each(membase_counters());

-- 6. Unmap: this connection's pin goes, and with its last user the mapping
--    itself. The table is empty again.
.print
.print '6. Unmap: the table is empty again'
SELECT membase_unmap('sample.dat') AS unmapped;
SELECT count(*) AS live_mappings FROM membase_stats;

-- 7. The same file as lines of text, queried in place with membase_lines:
--    no import. LIKE with a literal core is searched in the mapping first.
.print
.print '7. sample.dat as text lines (membase_lines)'
SELECT count(*) AS lines FROM membase_lines('sample.dat');
SELECT count(*) AS lines_containing_00042 FROM membase_lines('sample.dat')
 WHERE line LIKE '%00042 %';
SELECT rowid, line FROM membase_lines('sample.dat')
 WHERE rowid BETWEEN 1000000 AND 1000002;

-- 8. The same file again as fixed-size records (32 bytes: a 10-byte id, a
--    space, a 20-byte value, a newline), then a binary .npy file of ticks
--    made from SQL, aggregated, range-searched on its sorted key and
--    updated in place. numpy can np.load() ticks.npy afterwards.
.print
.print '8. Record files as tables (membase)'
CREATE VIRTUAL TABLE recs USING membase(file = 'sample.dat',
  layout = 'id char(10), _ pad(1), value char(20), nl pad(1)');
SELECT rowid, id, value FROM recs WHERE rowid IN (0, 42, 2097151);

CREATE VIRTUAL TABLE ticks USING membase(file = 'ticks.npy', create = 1,
  layout = 'ts i64, price f64, qty i32', sorted = ts);
INSERT INTO ticks SELECT value, 100.0 + (value % 1000) / 100.0, value % 97
  FROM generate_series(0, 999999);
.print '   the whole column, vectorized over the mapping:'
SELECT count, sum, min, max, avg FROM membase_aggregate('ticks', 'price');
.print '   a range of the sorted key (binary search), in SQL and vectorized:'
SELECT count(*), avg(price) FROM ticks WHERE ts BETWEEN 250000 AND 259999;
SELECT count, avg FROM membase_aggregate('ticks', 'price', 250000, 259999, 'ts');
.print '   an update written into the file in place:'
UPDATE ticks SET price = price * 2 WHERE rowid = 7;
SELECT rowid, ts, price, qty FROM ticks WHERE rowid BETWEEN 6 AND 8;
DROP TABLE recs;
DROP TABLE ticks;

-- The function form of membase_lines keeps the last file it scanned mapped
-- for this connection, so the next query of the same log does not map it
-- again; the record tables released theirs when they were dropped.
.print
.print '   what stays mapped: the last file membase_lines scanned'
SELECT path, mapped / 1048576 AS mapped_mib, refcount FROM membase_stats;

-- 9. The membase VFS: an ordinary SQLite database whose pages are read from
--    the file's shared mapping. Nothing in the SQL changes; only the open.
.print
.print '9. The membase VFS: app.db opened with ?vfs=membase'
.open file:app.db?vfs=membase
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, sym TEXT, qty INT, px REAL);
DELETE FROM orders;
INSERT INTO orders(sym, qty, px)
  SELECT char(65 + value % 26, 65 + value % 7, 65 + value % 3), value % 500, 100 + (value % 997) / 10.0
  FROM generate_series(1, 200000);
PRAGMA mmap_size = 8000000000;
SELECT sym, count(*), sum(qty), round(avg(px), 2) FROM orders GROUP BY sym ORDER BY 2 DESC LIMIT 3;
SELECT px FROM orders WHERE id = 123456;
.print '   what the VFS did (reads from the mapping, zero-copy fetches, faults):'
PRAGMA membase_stats;
PRAGMA membase_locking;
PRAGMA membase_advice;
PRAGMA integrity_check;
SELECT path, mapped, map_reads, fetches FROM membase_stats WHERE path LIKE '%app.db';
