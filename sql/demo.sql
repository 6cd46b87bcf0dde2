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
