/*
** mb_records.c -- files of fixed-size binary records as SQL tables, read
** and written in place through the process-wide mapping of the file: the
** virtual table module "membase".
**
**   CREATE VIRTUAL TABLE ticks USING membase(
**     file   = 'ticks.bin',
**     layout = 'ts i64, price f64, qty i32, side u8, _ pad(3), sym char(8)',
**     sorted = ts
**   );
**   SELECT sym, sum(qty) FROM ticks WHERE ts BETWEEN ?1 AND ?2 GROUP BY sym;
**   UPDATE ticks SET price = price * 1.01 WHERE rowid = 42;   -- in place
**   INSERT INTO ticks(ts, price, qty, side, sym) VALUES (...); -- appends
**   CREATE VIRTUAL TABLE grid USING membase(file = 'grid.npy');
**
** Options (option = value; values may be quoted with '...' or "..."):
**   file=PATH        the record file (required). A name ending in .npy is
**                    a numpy array: the layout comes from its header.
**   layout=TEXT      the record layout (required unless .npy), see below
**   sorted=COL       COL is ascending (ties allowed): =, IN and ranges on it
**                    use binary search and ORDER BY COL is free. Integer
**                    (not u64) and float columns only.
**   verify=1         check the sorted order when the table is opened
**                    (otherwise on the first query that relies on it)
**   readonly=1       refuse UPDATE and INSERT; map the file read-only
**   create=1         create the file if it does not exist (empty; a .npy
**                    file gets a valid header for the layout)
**   byteorder=little|big  default byte order of numeric fields (little)
**   align=packed|natural  packed (default): fields exactly as written;
**                    natural: C-struct alignment of fields and record size
**   stride=N         bytes from one record to the next (>= the layout;
**                    default: the layout's size)
**   header=N         bytes to skip at the start of the file (default 0)
**   tail=error|ignore  a file length that is not header + k * stride is an
**                    error (default), or the partial record is ignored
**   dropbehind=auto|on|off  whether full and range scans give the pages
**                    they have passed back to the OS (core mb_scan; point
**                    lookups never do). auto (the default unless the
**                    process default says otherwise): when the file is
**                    larger than half the memory the process may use, or
**                    under memory pressure. Updated records are written
**                    to the file before their pages are released.
**
** The layout language: comma-separated "name type" pairs. Types: i8 i16
** i32 i64 u8 u16 u32 u64 f32 f64 (a "be" or "le" suffix fixes the byte
** order of one column: i32be), bool, char(N) (text, NUL-padded), blob(N)
** and pad(N) (skipped; its name is not a column). Column names are unique
** identifiers; rowid, oid and _rowid_ are reserved.
**
** Rows and values. The rowid is the record index, from 0. Integers are
** INTEGER; a u64 above 9223372036854775807 reads as the nearest REAL (a
** choice: reading never fails, and sums stay close). f32/f64 are REAL,
** char(N) is TEXT without its trailing NULs, blob(N) is a BLOB of N bytes,
** bool is 0 or 1.
**
** Planning: the contract with SQLite's planner (xBestIndex), checked by
** tests/oracle/oracle_records.py against a native table with the same rows.
**  - Constraints used, and then omitted (SQLite does not check them
**    again): on rowid =, IN (one list, all at once), <, <=, >, >=; on the
**    sorted column the same (binary search). Constraints on other columns,
**    a second IN list on the same column, LIKE, != and IS are left to
**    SQLite. Only rowid = claims a unique row (an IN list does not: an
**    UPDATE then visits every listed record).
**  - ORDER BY is consumed when the scan order gives it: rowid, or the
**    sorted column (ties come in rowid order), or the sorted column then
**    rowid, all ASC or all DESC; terms after rowid do not matter. Any other
**    ORDER BY is sorted by SQLite.
**  - GROUP BY without SQLite's sorter (vtab/mb_recgroup.c has the
**    details): when SQLite asks only for grouped rows
**    (sqlite3_vtab_distinct() 1), every GROUP BY term is a column (not
**    rowid, no COLLATE other than BINARY, no expression: SQLite does not
**    offer those) and the table holds at most 2^26 records (and 8 bytes
**    a record are at most a quarter of the memory available), the ORDER BY
**    is consumed and xFilter makes one hashed pass over the records the
**    constraints select (all of them still apply), then returns them
**    group after group: groups in the SQL order of the key, each in
**    record order. Equality is SQL's on the values as read: NaN (NULL)
**    one group, 0.0 and -0.0 one group, u64 above 2^63 by the REAL they
**    read as, char(N) by its text. GROUP BY the sorted column alone keeps
**    the scan order (no pass). DISTINCT is never consumed this way (SQLite
**    3.40 ignores the table's order for it; GROUP BY x is the same query).
**    A table that grew past 2^26 records after the statement was prepared
**    is an error naming the cap. The pass needs 8 bytes a record while it
**    runs, 4 until the statement ends. tests/oracle/oracle_groupby.py
**    checks it against a native table.
**  - LIMIT and OFFSET are never consumed: they may be only when nothing is
**    left for SQLite to do after the scan, and SQLite 3.40 offers LIMIT
**    even when the WHERE clause has terms it does not show xBestIndex
**    (a > b between two columns of the table, x = x), which it applies to
**    the rows returned. SQLite stops asking for rows at the LIMIT, and the
**    cursor reads lazily (16 records first, then doubling), so an early
**    stop reads little.
**  - Bounds of another type compare as SQLite compares them with a column
**    of numeric affinity: NULL matches nothing; text that looks like a
**    number (' 5 ', '1e999') is that number, other text and blobs are
**    above every number; a REAL bound on an integer column is rounded the
**    exact way (k > 2.5 is k >= 3; k = 2.5 is nothing; bounds beyond the
**    int64 range are empty or everything); +-1e999 are +-infinity, so
**    k < 1e999 leaves out +inf and k > -1e999 leaves out -inf; -0.0
**    equals 0.0.
**  - EXPLAIN QUERY PLAN shows the plan as INDEX n:codes, where the codes
**    are the constraints used, in argument order: rowid = R, IN r, > G,
**    >= g, < L, <= l; sorted column = E, IN e, > H, >= h, < M, <= m.
**    n: 1 descending, 2 relies on the sorted order, 4 grouped by a hashed
**    pass on the columns listed after # (numbers from 0, d: DESC), as in
**    INDEX 4:#4 for GROUP BY sym.
**  - Full scans prefetch sequentially (advice sequential), point queries
**    set random advice.
**
** NaN. A float field holding a NaN (any payload) reads as NULL, as SQLite
** has no NaN: IS NULL finds it, aggregates skip it, and an UPDATE that
** does not assign the column keeps its bytes. A sorted column must not
** hold NaN: it is reported as an order violation.
**
** Sorted order. The order is verified over the whole column the first
** time a query relies on it, and again when the file's change stamp moved
** (identity, size, mtime or ctime: a rewrite with its mtime put back is
** seen) or was read within 2 s of the file's last change (file times move
** by clock ticks: such a stamp proves nothing, so a file written moments
** ago is verified on each query until it settles); a violation is an
** error naming the records, never a wrong result. One writer escapes the
** stamp: a process that writes through its own shared mapping into a page
** it already dirtied does not move the file's times (the kernel updates
** them at the first write after writeback), so an order it breaks that
** way is seen only once the times move. UPDATE and INSERT through
** MemBase keep the order: a value that would break it is a constraint
** error.
**
** Writes. UPDATE writes the changed fields into the mapping; every value
** is checked first (type, range, NULL, text length) and an error names the
** column, with nothing written. Columns the UPDATE does not assign keep
** their exact bytes (sqlite3_vtab_nochange: NaN payloads, bool bytes
** other than 0 and 1, u64 above 2^63 read as REAL are never rewritten),
** and so do columns assigned the value they read as (SET u = u; a NULL
** assigned to a NaN field keeps the NaN). The sorted order is checked
** record by record, in the order the statement visits them, against the
** neighbours as they are then: shifting every key up (SET k = k + 15 on
** keys 10 apart) fails, though its end state would be sorted.
** A failed statement changes nothing (with OR FAIL, as in SQLite, the
** rows it changed before the failing one stay). INSERT appends (an explicit rowid
** must be the next index). DELETE is an error: record files have no holes.
** DROP TABLE leaves the file as it is; inside a transaction that wrote to
** the table it is refused with SQLITE_LOCKED ("database table is locked")
** until COMMIT or ROLLBACK, since SQLite would no longer tell the table
** how the transaction ends.
**
** Transactions (docs/TRANSACTIONS.md has the protocol and the journal):
**  - A transaction's updates and appends wait in memory (its write set)
**    until COMMIT; the connection's own reads see them, no one else does.
**    ROLLBACK, ROLLBACK TO or a failed statement drop them; the file is
**    never touched before COMMIT.
**  - COMMIT journals the original bytes of every record it changes (and
**    the .npy header) in FILE-mbjournal, syncs it, applies the write set
**    while no statement reads the file, syncs the file and disarms the
**    journal (the commit point; it is then emptied and kept for the next
**    commit, and deleted when the table closes). When COMMIT returns, the
**    transaction is on disk. Raw and .npy files alike.
**  - Atomic under kill -9 and power loss: the next connection or process
**    that opens the table, writes to it or starts a statement on it finds
**    the journal of a dead writer and restores the file (recovery). A
**    journal that cannot be trusted (damaged, truncated, another file's,
**    or a file changed since) is an error naming the journal and the file,
**    never applied and never ignored.
**  - Isolated: every statement holds the file's view lock shared from its
**    first row to its end; COMMIT applies under the lock held exclusive,
**    waiting up to 5 s for statements that read (then SQLITE_BUSY), so a
**    statement never sees part of a commit. A statement left stepping and
**    never reset holds off commits as in SQLite's rollback mode.
**  - Writers take turns: one connection of the process at a time, and an
**    advisory lock on the file across processes (waiting up to 5 s, then
**    SQLITE_BUSY).
**  - Each table commits on its own: a transaction that writes two files
**    (or a file and the database) and dies between their commits may keep
**    one and not the other.
**  - Programs that read the file without MemBase (numpy, read()) take no
**    lock: they may see a commit while it is applied.
**
** Security (docs/SECURITY.md): the module is VTAB_DIRECTONLY: a table
** using it cannot be used from a view or a trigger of a schema (it opens
** files). The file and its journal must pass the process's file policy
** (MEMBASE_ALLOWED_DIRS, membase_allowed_directories()). A table that a
** database file's schema declares (not TEMP, not created by this
** connection) is refused while the connection has trusted_schema OFF:
**   membase: table "t" in schema "main" comes from the database file, and
**     this connection does not trust its schema (PRAGMA trusted_schema is
**     OFF): it could name any file. If the database is yours, run PRAGMA
**     trusted_schema=ON; otherwise create the table yourself in TEMP
**   membase: "/data/../etc/x" resolves to "/etc/x", outside the allowed
**     directories /data (set by MEMBASE_ALLOWED_DIRS)
**
** Vectorized aggregates over a column of these tables:
**   SELECT count, sum, min, max, avg
**     FROM membase_aggregate('ticks', 'price' [, LO, HI [, 'ts']]);
** (vtab/mb_aggregate.c has its manual).
**
** Reads copy blocks of 64 KiB of records out of the mapping with the core's
** fault-guarded copy, so xNext and xColumn only move a pointer and decode a
** field, and a file truncated by another process while a query runs is an
** SQL error ("the file was truncated while it was read"), never SIGBUS.
** Every query checks the file's size first (one fstat): growth by another
** process is seen, and a record cut off by a truncation is not read as the
** zeros of a partial page.
*/
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_layout.h"
#include "mb_npy.h"
#include "mb_records.h"
#include "mb_rectab.h"
#include "../ext/mb_sqlsafe.h"

static int mbEndsWith(const char *z, const char *zSuffix){
  size_t n = strlen(z), m = strlen(zSuffix);
  return n>=m && sqlite3_stricmp(z+n-m, zSuffix)==0;
}

/* The options, as parsed. */
typedef struct MbOpts {
  char *zFile, *zLayout, *zSorted;
  int bReadonly, bCreate, bVerify, bBig, bNatural, bTailIgnore;
  int bByteorder, bAlign, bStride, bHeader;
  uint64_t nStride, nHeader;
  int eDrop;               /* mb_dropbehind, -1 = the process default */
} MbOpts;

static void mbOptsFree(MbOpts *o){
  sqlite3_free(o->zFile);
  sqlite3_free(o->zLayout);
  sqlite3_free(o->zSorted);
}

static void mbTabFree(MbRecTab *p){
  if( p==0 ) return;
  mbOpenRemove(p);
  if( p->bWriting ) mbWriteUnlock(p);
  mbJournalTidy(p);
  if( p->pMap ) mb_registry_release(p->pMap);
  mbTxFree(p);
  mb_layout_free(&p->layout);
  mb_npy_free(&p->npy);
  sqlite3_free(p->aCol);
  sqlite3_free(p->zFile);
  sqlite3_free(p->zName);
  sqlite3_free(p->zSchema);
  sqlite3_free(p->aRec);
  sqlite3_free(p->aRec2);
  sqlite3_free(p->base.zErrMsg);
  sqlite3_free(p);
}

/* The options of CREATE VIRTUAL TABLE ... USING membase(...), in the order
** of their bits in the duplicate check. */
enum { OPT_FILE, OPT_LAYOUT, OPT_SORTED, OPT_READONLY, OPT_CREATE,
       OPT_VERIFY, OPT_BYTEORDER, OPT_ALIGN, OPT_STRIDE, OPT_HEADER,
       OPT_DROPBEHIND, OPT_TAIL, OPT_N };
static const char *const azOpt[OPT_N] = {
  "file", "layout", "sorted", "readonly", "create", "verify", "byteorder",
  "align", "stride", "header", "dropbehind", "tail"
};

/* Apply option iOpt = zVal to o. zVal is taken (o owns it) only by the
** text options; the caller frees it otherwise. */
static int mbApplyOpt(MbOpts *o, int iOpt, const char *zKey, char **pzVal,
                      char **pzErr){
  static const char *const azOrder[] = { "little", "big" };
  static const char *const azAlign[] = { "packed", "natural" };
  static const char *const azTail[] = { "error", "ignore" };
  static const char zWho[] = "membase";
  const char *zVal = *pzVal;
  int rc = SQLITE_OK;
  switch( iOpt ){
    case OPT_FILE:   o->zFile = *pzVal;   *pzVal = 0; break;
    case OPT_LAYOUT: o->zLayout = *pzVal; *pzVal = 0; break;
    case OPT_SORTED: o->zSorted = *pzVal; *pzVal = 0; break;
    case OPT_READONLY:
      rc = mb_opt_bool(zWho, zKey, zVal, &o->bReadonly, pzErr); break;
    case OPT_CREATE:
      rc = mb_opt_bool(zWho, zKey, zVal, &o->bCreate, pzErr); break;
    case OPT_VERIFY:
      rc = mb_opt_bool(zWho, zKey, zVal, &o->bVerify, pzErr); break;
    case OPT_BYTEORDER:
      o->bByteorder = 1;
      rc = mb_opt_enum(zWho, zKey, zVal, azOrder, 2, &o->bBig, pzErr); break;
    case OPT_ALIGN:
      o->bAlign = 1;
      rc = mb_opt_enum(zWho, zKey, zVal, azAlign, 2, &o->bNatural, pzErr);
      break;
    case OPT_STRIDE:
      o->bStride = 1;
      rc = mb_opt_u64(zWho, zKey, zVal, &o->nStride, pzErr); break;
    case OPT_HEADER:
      o->bHeader = 1;
      rc = mb_opt_u64(zWho, zKey, zVal, &o->nHeader, pzErr); break;
    case OPT_DROPBEHIND:
      rc = mb_opt_dropbehind(zWho, zKey, zVal, &o->eDrop, pzErr); break;
    case OPT_TAIL:
      rc = mb_opt_enum(zWho, zKey, zVal, azTail, 2, &o->bTailIgnore, pzErr);
      break;
  }
  return rc;
}

static int mbParseOpts(int argc, const char *const *argv, MbOpts *o,
                       char **pzErr){
  unsigned seen = 0;
  int i;
  memset(o, 0, sizeof(*o));
  o->eDrop = -1;
  for(i=3; i<argc; i++){
    char *zKey, *zVal;
    int iOpt, rc;
    rc = mb_opt_split("membase", argv[i], -1, 0, &zKey, &zVal, pzErr);
    if( rc ) return rc;
    for(iOpt=0; iOpt<OPT_N && sqlite3_stricmp(zKey, azOpt[iOpt]); iOpt++){}
    if( iOpt==OPT_N ){
      *pzErr = sqlite3_mprintf("membase: unknown option \"%s\"", zKey);
      rc = SQLITE_ERROR;
    }else{
      rc = mb_opt_once("membase", azOpt[iOpt], &seen, iOpt, pzErr);
      if( rc==SQLITE_OK ) rc = mbApplyOpt(o, iOpt, zKey, &zVal, pzErr);
    }
    sqlite3_free(zKey);
    sqlite3_free(zVal);
    if( rc ) return rc;
  }
  if( o->zFile==0 || o->zFile[0]==0 ){
    *pzErr = sqlite3_mprintf("membase: the file= option is required");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Two layouts describe the same columns at the same places. */
static int mbSameLayout(const mb_layout *a, const mb_layout *b){
  int i, j;
  if( a->nRecord!=b->nRecord || a->nCol!=b->nCol ) return 0;
  for(i=0, j=0; i<a->nField; i++){
    const mb_field *f = &a->aField[i];
    const mb_field *g;
    if( f->zName==0 ) continue;
    while( j<b->nField && b->aField[j].zName==0 ) j++;
    if( j>=b->nField ) return 0;
    g = &b->aField[j++];
    if( sqlite3_stricmp(f->zName, g->zName)!=0 || f->eType!=g->eType
     || f->nByte!=g->nByte || f->iOff!=g->iOff
     || (f->bBig!=g->bBig && f->nByte>1) ) return 0;
  }
  return 1;
}

/* The options that do not fit together, or are missing; then the layout. */
static int mbRecCheckOpts(MbRecTab *p, MbOpts *o, char **pzErr){
  if( p->bNpy ){
    const char *zBad = o->bStride ? "stride" : o->bHeader ? "header"
                     : o->bByteorder ? "byteorder" : o->bAlign ? "align" : 0;
    if( zBad ){
      *pzErr = sqlite3_mprintf("membase: option \"%s\" does not apply to a "
                               ".npy file (its header describes the records)",
                               zBad);
      return SQLITE_ERROR;
    }
  }else if( o->zLayout==0 ){
    *pzErr = sqlite3_mprintf("membase: the layout= option is required "
                             "(except for .npy files)");
    return SQLITE_ERROR;
  }
  if( o->bCreate && o->bReadonly ){
    *pzErr = sqlite3_mprintf("membase: create=1 and readonly=1 exclude each "
                             "other");
    return SQLITE_ERROR;
  }
  if( o->zLayout ){
    return mb_layout_parse(o->zLayout, o->bBig, o->bNatural, &p->layout,
                           pzErr);
  }
  return SQLITE_OK;
}

/* Open the file's shared mapping: read-write unless readonly=1; a file the
** process may not write falls back to read-only. *pbNew: create=1 made it. */
static int mbRecOpenFile(MbRecTab *p, MbOpts *o, int *pbNew, char **pzErr){
  unsigned flags = o->bReadonly ? 0u : MB_MAP_WRITE;
  int mrc;
  char why[1600];
  if( o->bCreate ){
    mb_map *pExisting = 0;
    flags |= MB_MAP_WRITE|MB_MAP_CREATE;
    /* the policy first: the lookup would tell whether a file exists */
    if( mb_policy_check_path(o->zFile, why, sizeof why)!=MB_OK ){
      *pzErr = sqlite3_mprintf("membase: %s", why);
      return SQLITE_AUTH;
    }
    *pbNew = mb_registry_lookup(o->zFile, &pExisting)==MB_ENOENT;
  }
  mrc = mb_registry_acquire_checked(o->zFile, flags, &p->pMap, why, sizeof why);
  if( (mrc==MB_EREADONLY || mrc==MB_EACCES) && !o->bCreate && !o->bReadonly ){
    if( mb_registry_acquire_checked(o->zFile, 0, &p->pMap, why, sizeof why)==MB_OK ){
      mrc = MB_OK;
      p->bReadonly = 1;
    }
  }
  if( mrc==MB_OK ){
    /* the journal lies beside the path as given, which may be elsewhere
    ** than the file it resolves to */
    char *zJournal = sqlite3_mprintf("%s-mbjournal", o->zFile);
    if( zJournal==0 ) return SQLITE_NOMEM;
    mrc = mb_policy_check_path(zJournal, why, sizeof why);
    sqlite3_free(zJournal);
    if( mrc!=MB_OK ){
      mb_registry_release(p->pMap);
      p->pMap = 0;
      *pzErr = sqlite3_mprintf("membase: %s", why);
      return SQLITE_AUTH;
    }
  }
  if( mrc!=MB_OK ){
    p->pMap = 0;
    if( mrc==MB_EPOLICY ){
      *pzErr = sqlite3_mprintf("membase: %s", why);
      return SQLITE_AUTH;
    }
    if( mrc==MB_ENOENT && !o->bCreate ){
      *pzErr = sqlite3_mprintf("membase: cannot open \"%s\": no such file "
                               "(create=1 creates it)", o->zFile);
    }else{
      *pzErr = sqlite3_mprintf("membase: cannot open \"%s\": %s", o->zFile,
                               mb_strerror(mrc));
    }
    return mb_sqlite_rc(mrc, SQLITE_CANTOPEN);
  }
  (void)mbMapRefresh(p->pMap);
  return SQLITE_OK;
}

/* A new .npy file (create=1, empty): write the header layout= describes. */
static int mbRecNewNpy(MbRecTab *p, MbOpts *o, char **pzErr){
  unsigned char *aHdr = 0;
  size_t nHdr = 0;
  int rc;
  if( o->zLayout==0 ){
    *pzErr = sqlite3_mprintf("membase: create=1 of a new .npy file needs "
                             "layout=");
    return SQLITE_ERROR;
  }
  rc = mb_npy_new_header(&p->layout, p->layout.nRecord, &aHdr, &nHdr, pzErr);
  if( rc ) return rc;
  if( mbMapResize(p->pMap, nHdr)!=MB_OK
   || mb_map_write(p->pMap, 0, aHdr, nHdr)!=MB_OK
   || mb_map_flush(p->pMap, 0, 0, MB_FLUSH_SYNC)!=MB_OK ){
    rc = SQLITE_IOERR;
    *pzErr = sqlite3_mprintf("membase: %s: cannot write the .npy header",
                             o->zFile);
  }
  sqlite3_free(aHdr);
  return rc;
}

/* A .npy file: the records are what its header says. layout= (kept from
** create=1 in the schema) must agree with it. */
static int mbRecSetupNpy(MbRecTab *p, MbOpts *o, char **pzErr){
  mb_layout given = p->layout;
  uint64_t nSize = mb_map_size(p->pMap);
  int rc;
  if( nSize==0 && o->bCreate ){
    rc = mbRecNewNpy(p, o, pzErr);
    if( rc ) return rc;
    nSize = mb_map_size(p->pMap);
  }
  memset(&p->layout, 0, sizeof(p->layout));
  rc = mbLoadNpyHeader(p, nSize, &p->npy, &p->layout);
  if( rc ){
    mb_layout_free(&given);
    return mb_vtab_error_move(&p->base, rc, pzErr);
  }
  if( given.nField>0 && !mbSameLayout(&given, &p->layout) ){
    mb_layout_free(&given);
    *pzErr = sqlite3_mprintf("membase: %s: layout= does not match the "
                             ".npy header of the existing file", o->zFile);
    return SQLITE_ERROR;
  }
  mb_layout_free(&given);
  p->nHeader = p->npy.nHeader;
  p->nStride = p->layout.nRecord;
  if( p->npy.nDim==0 ) p->bReadonly = 1;  /* a scalar cannot grow */
  if( p->npy.nRows > UINT64_MAX / (p->nStride ? p->nStride : 1)
   || p->npy.nRows * p->nStride > nSize - p->nHeader ){
    *pzErr = sqlite3_mprintf("membase: %s: the .npy header says %llu "
                             "rows but the file holds only %llu", o->zFile,
                             (unsigned long long)p->npy.nRows,
                             (unsigned long long)((nSize-p->nHeader)/
                               (p->nStride ? p->nStride : 1)));
    return SQLITE_CORRUPT_VTAB;
  }
  return SQLITE_OK;
}

/* A raw file: header=, stride= and the layout say where records are. */
static int mbRecSetupRaw(MbRecTab *p, MbOpts *o, int bNew, char **pzErr){
  p->nHeader = o->nHeader;
  p->nStride = o->bStride ? o->nStride : p->layout.nRecord;
  if( o->bStride && o->nStride<p->layout.nRecord ){
    *pzErr = sqlite3_mprintf("membase: stride %llu is smaller than the "
                             "record layout (%llu bytes)",
                             (unsigned long long)o->nStride,
                             (unsigned long long)p->layout.nRecord);
    return SQLITE_ERROR;
  }
  if( p->nStride>MB_LAYOUT_MAX_RECORD ){
    *pzErr = sqlite3_mprintf("membase: stride %llu is larger than %llu "
                             "bytes", (unsigned long long)p->nStride,
                             (unsigned long long)MB_LAYOUT_MAX_RECORD);
    return SQLITE_ERROR;
  }
  if( p->nHeader>(uint64_t)INT64_MAX ){
    *pzErr = sqlite3_mprintf("membase: header=%llu is too large",
                             (unsigned long long)p->nHeader);
    return SQLITE_ERROR;
  }
  if( bNew && p->nHeader>0 && mb_map_size(p->pMap)==0 ){
    /* a new file with a header: zeros for the header */
    if( mbMapResize(p->pMap, p->nHeader)!=MB_OK ){
      *pzErr = sqlite3_mprintf("membase: %s: cannot create the header",
                               o->zFile);
      return SQLITE_IOERR;
    }
  }
  return SQLITE_OK;
}

/* The columns, the sorted column, and the CREATE TABLE statement that
** declares them (*pzSql, from sqlite3_malloc). */
static int mbRecColumns(MbRecTab *p, MbOpts *o, char **pzSql, char **pzErr){
  sqlite3_str *pSql;
  int i, n;
  p->nRecord = p->layout.nRecord;
  p->nCol = p->layout.nCol;
  p->aCol = sqlite3_malloc64(sizeof(MbCol)*(uint64_t)p->nCol);
  p->aRec = sqlite3_malloc64(p->nStride);
  p->aRec2 = sqlite3_malloc64(p->nStride);
  if( p->aCol==0 || p->aRec==0 || p->aRec2==0 ) return SQLITE_NOMEM;
  pSql = sqlite3_str_new(0);
  sqlite3_str_appendf(pSql, "CREATE TABLE x(");
  for(i=0, n=0; i<p->layout.nField; i++){
    const mb_field *f = &p->layout.aField[i];
    MbCol *c;
    if( f->zName==0 ) continue;
    c = &p->aCol[n];
    c->zName = f->zName;
    c->eType = f->eType;
    c->nByte = f->nByte;
    c->iOff = (uint32_t)f->iOff;
    c->eKind = mbCodecKind(f->eType, f->bBig);
    if( o->zSorted && sqlite3_stricmp(o->zSorted, f->zName)==0 ) p->iSorted = n;
    sqlite3_str_appendf(pSql, "%s\"%w\" %s", n ? ", " : "", f->zName,
                        mb_type_sql(f->eType));
    n++;
  }
  sqlite3_str_appendf(pSql, ")");
  *pzSql = sqlite3_str_finish(pSql);
  if( *pzSql==0 ) return SQLITE_NOMEM;
  if( o->zSorted ){
    const MbCol *c;
    if( p->iSorted<0 ){
      *pzErr = sqlite3_mprintf("membase: sorted=%s: no such column", o->zSorted);
      return SQLITE_ERROR;
    }
    c = &p->aCol[p->iSorted];
    if( c->eType==MB_TYPE_U64 || c->eType==MB_TYPE_CHAR
     || c->eType==MB_TYPE_BLOB ){
      *pzErr = sqlite3_mprintf("membase: sorted=%s: the sorted column must be "
                               "an integer (not u64) or float column, not %s",
                               o->zSorted, mb_type_name(c->eType));
      return SQLITE_ERROR;
    }
    p->bSortedFloat = c->eType==MB_TYPE_F32 || c->eType==MB_TYPE_F64;
  }
  return SQLITE_OK;
}

/* Count the records, and verify the sorted order if verify=1 asks. */
static int mbRecReady(MbRecTab *p, MbOpts *o, char **pzErr){
  int rc = mbRefresh(p);
  if( rc==SQLITE_OK && o->bVerify && p->iSorted>=0 ) rc = mbVerifySorted(p);
  return rc ? mb_vtab_error_move(&p->base, rc, pzErr) : SQLITE_OK;
}

static int mbRecConnect(
  sqlite3 *db,
  void *pAux,
  int argc,
  const char *const *argv,
  sqlite3_vtab **ppVtab,
  char **pzErr
){
  MbRecTab *p = 0;
  MbOpts o;
  MbOpen *pOpen;
  char *zSql = 0;
  int rc, bNew = 0;

  rc = mbParseOpts(argc, argv, &o, pzErr);
  if( rc ) goto fail;
  rc = mb_sql_table_allowed((MbTrust*)pAux, db, 0, "membase", argc, argv,
                            o.zFile, pzErr);
  if( rc ) goto fail;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ){ rc = SQLITE_NOMEM; goto fail; }
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->iSorted = -1;
  p->eAdvice = -1;
  p->nMapSize = (uint64_t)-1;
  p->nViewSize = (uint64_t)-1;
  p->zFile = sqlite3_mprintf("%s", o.zFile);
  p->zName = sqlite3_mprintf("%s", argv[2]);
  p->zSchema = sqlite3_mprintf("%s", argv[1]);
  if( p->zFile==0 || p->zName==0 || p->zSchema==0 ){
    rc = SQLITE_NOMEM; goto fail;
  }
  p->bNpy = mbEndsWith(o.zFile, ".npy");
  p->bTailIgnore = o.bTailIgnore;
  p->eDrop = o.eDrop;
  p->bReadonly = p->bReadonlyOpt = o.bReadonly;

  rc = mbRecCheckOpts(p, &o, pzErr);
  if( rc==SQLITE_OK ) rc = mbRecOpenFile(p, &o, &bNew, pzErr);
  if( rc==SQLITE_OK ){
    /* a dead writer's commit is rolled back before the file is read: a
    ** .npy header may already count records the file does not hold */
    rc = mbRecoverNow(p);
    if( rc ) rc = mb_vtab_error_move(&p->base, rc, pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = p->bNpy ? mbRecSetupNpy(p, &o, pzErr)
                 : mbRecSetupRaw(p, &o, bNew, pzErr);
  }
  if( rc==SQLITE_OK && (p->nStride==0 || p->layout.nRecord==0) ){
    *pzErr = sqlite3_mprintf("membase: %s: record size is 0", o.zFile);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ) rc = mbRecColumns(p, &o, &zSql, pzErr);
  if( rc==SQLITE_OK ) rc = mbRecReady(p, &o, pzErr);
  if( rc==SQLITE_OK ) rc = sqlite3_declare_vtab(db, zSql);
  if( rc ) goto fail;
  pOpen = sqlite3_malloc64(sizeof(*pOpen));
  if( pOpen==0 ){ rc = SQLITE_NOMEM; goto fail; }
  mbOpenAdd(p, pOpen);
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  sqlite3_free(zSql);
  sqlite3_free(p->base.zErrMsg);
  p->base.zErrMsg = 0;
  mbOptsFree(&o);
  *ppVtab = &p->base;
  return SQLITE_OK;

fail:
  sqlite3_free(zSql);
  mbTabFree(p);
  mbOptsFree(&o);
  return rc;
}

/* CREATE VIRTUAL TABLE by this connection: its own table, which may be
** connected again later even when it does not trust the schema. */
static int mbRecCreate(
  sqlite3 *db,
  void *pAux,
  int argc,
  const char *const *argv,
  sqlite3_vtab **ppVtab,
  char **pzErr
){
  int rc = mb_sql_table_allowed((MbTrust*)pAux, db, 1, "membase", argc, argv,
                                0, pzErr);
  if( rc==SQLITE_OK ) rc = mbRecConnect(db, pAux, argc, argv, ppVtab, pzErr);
  return rc;
}

static int mbRecDisconnect(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( p->nViewHold>0 ){
    /* a membase_aggregate statement still reads it (SQLite sees no cursor
    ** of the table, so DETACH may disconnect it meanwhile): no longer found
    ** by name, freed when that statement ends (mb_records_aggregate_done) */
    mbOpenRemove(p);
    p->bOrphan = 1;
    return SQLITE_OK;
  }
  mbTabFree(p);
  return SQLITE_OK;
}

/* DROP TABLE. SQLite forgets a dropped table's part in the transaction:
** neither COMMIT nor ROLLBACK would reach it. So a table this transaction
** wrote to cannot be dropped before the transaction ends: its appends
** would be lost at COMMIT, and its updates could no longer be rolled
** back. SQLITE_LOCKED, as SQLite's own refusal to drop a table in use
** (SQLite shows only the code's message; the reason goes to the log). */
static int mbRecDestroy(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( p->nViewHold>0 ){
    /* a statement still reads it (membase_aggregate is no cursor of the
    ** table, so SQLite does not see it) */
    mb_vtab_error(&p->base, SQLITE_LOCKED, "membase: cannot DROP TABLE \"%s\" "
             "while a statement reads it: reset or finalize it first",
             p->zName);
    sqlite3_log(SQLITE_LOCKED, "%s", p->base.zErrMsg);
    return SQLITE_LOCKED;
  }
  if( mbTxBusy(p) ){
    mb_vtab_error(&p->base, SQLITE_LOCKED, "membase: cannot DROP TABLE \"%s\" inside "
             "the transaction that wrote to it: COMMIT or ROLLBACK first",
             p->zName);
    sqlite3_log(SQLITE_LOCKED, "%s", p->base.zErrMsg);
    return SQLITE_LOCKED;
  }
  mbTabFree(p);
  return SQLITE_OK;
}

static const sqlite3_module mbRecModule = {
  .iVersion      = 3,
  .xCreate       = mbRecCreate,
  .xConnect      = mbRecConnect,
  .xBestIndex    = mbRecBestIndex,
  .xDisconnect   = mbRecDisconnect,
  .xDestroy      = mbRecDestroy,
  .xOpen         = mbRecOpen,
  .xClose        = mbRecClose,
  .xFilter       = mbRecFilter,
  .xNext         = mbRecNext,
  .xEof          = mbRecEof,
  .xColumn       = mbRecColumn,
  .xRowid        = mbRecRowid,
  .xUpdate       = mbRecUpdate,
  .xBegin        = mbRecBegin,
  .xSync         = mbRecSync,
  .xCommit       = mbRecCommit,
  .xRollback     = mbRecRollback,
  .xSavepoint    = mbRecSavepoint,
  .xRelease      = mbRecRelease,
  .xRollbackTo   = mbRecRollbackTo,
  .xRename       = mbRecRename,
};


/* ------------------------------------------------------------ aggregates */

/* mb_records_aggregate_prepare and mb_records_group_prepare: zFunc names
** the function in error messages; zCol NULL = no column (the span's field
** is then empty: the caller looks its fields up with mb_records_span_field). */
static int mbSpanPrepare(
  sqlite3 *db,
  const char *zFunc,
  const char *zTab,
  const char *zCol,
  const char *zKey,
  sqlite3_value *pLo,
  sqlite3_value *pHi,
  mb_records_span *pOut,
  char **pzErr
){
  MbRecTab *p;
  int i, rc, iCol = -1, bKey = 0, bHeld = 0;
  MbIval iv;
  uint64_t lo = 0, hi;
  char *zSchema = 0;
  const char *zName = zTab, *zDot = strchr(zTab, '.');
  /* 'schema.table' names a table of that database, unless a table is
  ** called that (a quoted name with a dot) */
  if( zDot && mbOpenFind(db, 0, zTab)==0 ){
    zSchema = sqlite3_mprintf("%.*s", (int)(zDot - zTab), zTab);
    if( zSchema==0 ) return SQLITE_NOMEM;
    zName = zDot + 1;
  }
  /* Connect (or reconnect) through SQLite, which resolves the name as
  ** SQL does: this also makes sure the table of that name that SQLite
  ** would use is the one connected. */
  {
    char *zSql = zSchema
      ? sqlite3_mprintf("SELECT rowid FROM \"%w\".\"%w\" LIMIT 0", zSchema, zName)
      : sqlite3_mprintf("SELECT rowid FROM \"%w\" LIMIT 0", zName);
    sqlite3_stmt *pStmt = 0;
    if( zSql==0 ){ sqlite3_free(zSchema); return SQLITE_NOMEM; }
    rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
    sqlite3_free(zSql);
    sqlite3_finalize(pStmt);
    p = rc==SQLITE_OK ? mbOpenFind(db, zSchema, zName) : 0;
    sqlite3_free(zSchema);
    if( p==0 ){
      *pzErr = sqlite3_mprintf("%s: no membase table \"%s\"", zFunc, zTab);
      return SQLITE_ERROR;
    }
  }
  for(i=0; zCol && i<p->nCol; i++){
    if( sqlite3_stricmp(p->aCol[i].zName, zCol)==0 ){ iCol = i; break; }
  }
  if( zCol && iCol<0 ){
    *pzErr = sqlite3_mprintf("%s: table \"%s\" has no column \"%s\"",
                             zFunc, zTab, zCol);
    return SQLITE_ERROR;
  }
  if( zCol && p->aCol[iCol].eType>MB_TYPE_BOOL ){
    *pzErr = sqlite3_mprintf("%s: column \"%s\" (%s) is not numeric", zFunc,
                             zCol, mb_type_name(p->aCol[iCol].eType));
    return SQLITE_ERROR;
  }
  if( zKey && sqlite3_stricmp(zKey, "rowid")!=0 ){
    if( p->iSorted<0 || sqlite3_stricmp(zKey, p->aCol[p->iSorted].zName)!=0 ){
      *pzErr = sqlite3_mprintf("%s: \"%s\" is neither rowid nor the sorted "
                               "column of \"%s\"", zFunc, zKey, zTab);
      return SQLITE_ERROR;
    }
    bKey = 1;
  }
  rc = mbViewBegin(p, &bHeld);   /* mb_records_aggregate_done ends it */
  if( rc ) goto vtab_error;
  p->nViewSize = (uint64_t)-1;   /* that reading is for an xFilter */
  rc = mbRefresh(p);
  if( rc ) goto view_error;
  hi = mbRowsSeen(p);
  mbIvalAll(&iv);
  if( pLo && sqlite3_value_type(pLo)!=SQLITE_NULL ){
    mbIvalApply(&iv, SQLITE_INDEX_CONSTRAINT_GE, pLo, bKey && p->bSortedFloat);
  }
  if( pHi && sqlite3_value_type(pHi)!=SQLITE_NULL ){
    mbIvalApply(&iv, SQLITE_INDEX_CONSTRAINT_LE, pHi, bKey && p->bSortedFloat);
  }
  if( bKey ){
    rc = mbVerifySorted(p);
    if( rc==SQLITE_OK ) rc = mbKeyRange(p, &iv, &lo, &hi);
    if( rc ) goto view_error;
  }else if( iv.bEmpty || iv.iHi<0 ){
    hi = 0;
  }else{
    if( iv.iLo>0 ) lo = (uint64_t)iv.iLo;
    if( (uint64_t)iv.iHi < hi ) hi = (uint64_t)iv.iHi + 1;
  }
  if( lo>hi ) lo = hi;
  memset(pOut, 0, sizeof(*pOut));
  pOut->bHeld = bHeld;
  pOut->pMap = p->pMap;
  pOut->eDrop = p->eDrop;
  pOut->nHeader = p->nHeader;
  pOut->nStride = p->nStride;
  pOut->iFirst = lo;
  pOut->iEnd = hi;
  if( iCol>=0 ){
    pOut->iOff = p->aCol[iCol].iOff;
    pOut->nByte = p->aCol[iCol].nByte;
    pOut->eType = p->aCol[iCol].eType;
    pOut->bBig = (p->aCol[iCol].eKind & K_SWAP)!=0;
  }
  pOut->zFile = p->zFile;
  pOut->pTab = p;
  pOut->nFileRows = p->nRows;
  pOut->bOwn = p->nWs || p->nPend;
  if( lo<hi ){
    mbAdvise(p, MB_ADV_SEQUENTIAL);
  }
  return SQLITE_OK;

view_error:
  if( bHeld ) mbViewEnd(p);
vtab_error:
  *pzErr = sqlite3_mprintf("%s", p->base.zErrMsg ? p->base.zErrMsg
                                                 : sqlite3_errstr(rc));
  sqlite3_free(p->base.zErrMsg);
  p->base.zErrMsg = 0;
  return rc;
}

int mb_records_aggregate_prepare(sqlite3 *db, const char *zTab,
                                 const char *zCol, const char *zKey,
                                 sqlite3_value *pLo, sqlite3_value *pHi,
                                 mb_records_span *pOut, char **pzErr){
  return mbSpanPrepare(db, "membase_aggregate", zTab, zCol, zKey, pLo, pHi,
                       pOut, pzErr);
}

int mb_records_group_prepare(sqlite3 *db, const char *zTab, const char *zKey,
                             sqlite3_value *pLo, sqlite3_value *pHi,
                             mb_records_span *pOut, char **pzErr){
  return mbSpanPrepare(db, "membase_group", zTab, 0, zKey, pLo, pHi, pOut,
                       pzErr);
}

int mb_records_span_field(const mb_records_span *s, const char *zCol,
                          MbCol *pOut){
  const MbRecTab *p = (const MbRecTab*)s->pTab;
  int i;
  for(i=0; i<p->nCol; i++){
    if( sqlite3_stricmp(p->aCol[i].zName, zCol)==0 ){
      *pOut = p->aCol[i];
      return i;
    }
  }
  return -1;
}

int mb_records_span_read(const mb_records_span *s, uint64_t off, void *dst,
                         size_t n, char **pzErr){
  MbRecTab *p = (MbRecTab*)s->pTab;
  int rc = mbReadView(p, off, dst, n);
  if( rc ){
    *pzErr = sqlite3_mprintf("%s", p->base.zErrMsg ? p->base.zErrMsg
                                                   : sqlite3_errstr(rc));
    sqlite3_free(p->base.zErrMsg);
    p->base.zErrMsg = 0;
  }
  return rc;
}

void mb_records_aggregate_done(const mb_records_span *s){
  MbRecTab *p = (MbRecTab*)s->pTab;
  if( p && s->bHeld ){
    mbViewEnd(p);
    if( p->bOrphan && p->nViewHold==0 ) mbTabFree(p);
  }
}

int mb_records_register(sqlite3 *db){
  MbTrust *pTrust = mb_trust_new();
  if( pTrust==0 ) return SQLITE_NOMEM;
  /* SQLite calls mb_trust_free even when the registration fails */
  return sqlite3_create_module_v2(db, "membase", &mbRecModule, pTrust,
                                  mb_trust_free);
}

