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
**    n: 1 descending, 2 relies on the sorted order.
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
** A failed statement changes nothing. INSERT appends (an explicit rowid
** must be the next index). DELETE is an error: record files have no holes.
** DROP TABLE leaves the file as it is; inside a transaction that wrote to
** the table it is refused with SQLITE_LOCKED ("database table is locked")
** until COMMIT or ROLLBACK, since SQLite would no longer tell the table
** how the transaction ends. Transactions and savepoints are
** supported: ROLLBACK, ROLLBACK TO or a failed statement restore every
** byte and the file length; COMMIT flushes the touched range and fsyncs. Writers take turns: one connection of the
** process at a time, and an advisory lock on the file across processes
** (waiting up to 5 s, then SQLITE_BUSY).
**
** What survives kill -9 (and power loss, for what was committed):
**  - Appends are all-or-nothing per transaction. A raw file: before the
**    file first grows in a transaction, a journal FILE-mbjournal records
**    the old length (synced); it is deleted after COMMIT's fsync. If the
**    writer dies, the next connection to open the table or to write
**    truncates the file back to the old length. A .npy file: the shape in
**    the header is the record count and is rewritten only at COMMIT, so
**    records past it are ignored (and overwritten by the next append).
**    Readers that look at a raw file while a writer is appending may see
**    the records of its open transaction (there is no read isolation).
**  - In-place updates are not journalled: after kill -9 in the middle of
**    a transaction, each field holds either its old or its new value
**    (never a torn value for naturally aligned fields of 8 bytes or less,
**    which are written with single atomic stores), but a transaction may
**    be partly applied. Committed updates are durable.
**
** Security: the module is VTAB_DIRECTONLY: a table using it cannot be
** used from a view or a trigger of a schema (it opens files).
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
#include "mb_aggregate.h"

/* Records copied per block by scans: bytes of the block buffer. Large
** enough that the guarded copy's fixed cost (tens of ns) vanishes per
** record, small enough to stay in L2. */
#define MB_BLOCK_BYTES (64*1024)
/* Pending appended bytes kept in memory before they are written out. */
#define MB_PENDING_BYTES (4*1024*1024)
/* How long a writer waits for another writer, in ms. */
#define MB_BUSY_MS 5000

/* Column kinds for xColumn: the hot switch. */
enum {
  K_I8, K_I16, K_I32, K_I64, K_U8, K_U16, K_U32, K_U64, K_F32, K_F64,
  K_BOOL, K_CHAR, K_BLOB,
  K_SWAP = 16   /* or'ed in for big-endian multi-byte numbers */
};

typedef struct MbCol {
  const char *zName;
  int eType;           /* MB_TYPE_* */
  int eKind;           /* K_* */
  uint32_t nByte;
  uint32_t iOff;
} MbCol;

typedef struct MbSavepoint {
  size_t nUndo;        /* undo log bytes when it was set */
  uint64_t nRows;      /* logical records when it was set */
} MbSavepoint;

typedef struct MbRecTab MbRecTab;
struct MbRecTab {
  sqlite3_vtab base;       /* base class: must be first */
  sqlite3 *db;
  char *zFile;             /* as given */
  char *zName;             /* the table's name */
  char *zSchema;           /* its database: main, temp, or attached */
  mb_map *pMap;            /* registry map of the file */
  mb_layout layout;
  int nCol;
  MbCol *aCol;
  uint64_t nHeader;        /* bytes before the first record */
  uint64_t nStride;        /* bytes per record */
  uint64_t nRecord;        /* bytes of a record that the layout covers */
  int iSorted;             /* column index of sorted=, or -1 */
  int bSortedFloat;        /* the sorted column is f32/f64 */
  int bReadonly;           /* readonly=1 or the file is not writable */
  int bReadonlyOpt;        /* readonly=1 given */
  int bTailIgnore;
  int bNpy;
  mb_npy npy;
  uint64_t nMapSize;       /* view size nRows was computed from */
  uint64_t nRows;          /* records in the file (not counting pending) */
  int eAdvice;             /* last advice given, -1 none */
  int eDrop;               /* dropbehind=: mb_dropbehind, -1 = process default */
  /* sorted verification */
  int bVerified;
  mb_stamp verStamp;       /* the file's change stamp when it was verified */
  /* write transaction */
  int bWriting;            /* holds the writer token and the file lock */
  int bJournal;            /* a journal was written in this transaction */
  uint64_t nTxRows;        /* records at the start of the transaction */
  unsigned char *aPend;    /* appended records not yet in the file */
  uint64_t nPend;          /* records in aPend */
  uint64_t nPendAlloc;     /* records aPend can hold */
  unsigned char *aUndo;    /* undo log: [u64 off][u32 n][n bytes]... */
  size_t nUndo, nUndoAlloc;
  uint64_t iDirtyLo, iDirtyHi;  /* view range written in this transaction */
  int bDirty;
  MbSavepoint *aSave;
  int nSave;               /* savepoints 0..nSave-1 are set */
  unsigned char *aRec;     /* scratch record (nStride bytes) */
  unsigned char *aRec2;
};

typedef struct MbRange { uint64_t iFirst, iEnd; } MbRange;

typedef struct MbRecCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  /* the hot state: kept together */
  const unsigned char *pRec; /* current record inside aBuf */
  uint64_t iRow;             /* current record index */
  uint64_t iBufLo, iBufHi;   /* records [iBufLo, iBufHi) are in aBuf */
  uint64_t nStride;
  int bEof;
  int bDesc;
  /* ranges to visit, ascending; visited backwards when bDesc */
  MbRange *aRange;
  int nRange, iRange;
  MbRange one;               /* storage when there is one range */
  unsigned char *aBuf;
  uint64_t nBufRows;         /* capacity of aBuf in records */
  uint64_t iReadHi;          /* end of the bytes read since xFilter */
  uint64_t nLoadRows;        /* records the next block load copies: small
                             ** at first, doubling up to nBufRows, so a
                             ** query that stops early (LIMIT) reads little */
  mb_scan scan;
  int bScan;                 /* full or range scan: prefetch */
} MbRecCursor;

/* ------------------------------------------------------------ helpers */

static int mbSetErr(MbRecTab *p, int rc, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  sqlite3_free(p->base.zErrMsg);
  p->base.zErrMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  return rc;
}

static uint16_t mbSwap16(uint16_t v){ return (uint16_t)((v>>8) | (v<<8)); }
static uint32_t mbSwap32(uint32_t v){
  return (v>>24) | ((v>>8)&0xff00u) | ((v<<8)&0xff0000u) | (v<<24);
}
static uint64_t mbSwap64(uint64_t v){
  return ((uint64_t)mbSwap32((uint32_t)v)<<32) | mbSwap32((uint32_t)(v>>32));
}

/* floor, ceil and log2 without libm (the static library must not add a
** link dependency). Values beyond 2^52 are integers already. */
static double mbFloor(double r){
  double t;
  if( !(r>-4503599627370496.0 && r<4503599627370496.0) ) return r;
  t = (double)(int64_t)r;
  return t>r ? t-1.0 : t;
}
static double mbCeil(double r){
  double t;
  if( !(r>-4503599627370496.0 && r<4503599627370496.0) ) return r;
  t = (double)(int64_t)r;
  return t<r ? t+1.0 : t;
}
static double mbLog2(double r){
  double n = 0.0;
  while( r>=2.0 ){ r /= 2.0; n += 1.0; }
  return n;
}

/* Read a numeric field as int64 (integer kinds) -- for the sorted key. */
static int64_t mbGetInt(const MbCol *c, const unsigned char *p){
  switch( c->eKind ){
    case K_I8:  return (int8_t)p[0];
    case K_U8:  return p[0];
    case K_BOOL: return p[0]!=0;   /* as it reads: a byte of 2 is 1 */
    case K_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case K_U16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case K_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case K_U32: { uint32_t v; memcpy(&v, p, 4); return v; }
    case K_I64: { int64_t v; memcpy(&v, p, 8); return v; }
    case K_I16|K_SWAP: { uint16_t v; memcpy(&v, p, 2); return (int16_t)mbSwap16(v); }
    case K_U16|K_SWAP: { uint16_t v; memcpy(&v, p, 2); return mbSwap16(v); }
    case K_I32|K_SWAP: { uint32_t v; memcpy(&v, p, 4); return (int32_t)mbSwap32(v); }
    case K_U32|K_SWAP: { uint32_t v; memcpy(&v, p, 4); return mbSwap32(v); }
    case K_I64|K_SWAP: { uint64_t v; memcpy(&v, p, 8); return (int64_t)mbSwap64(v); }
  }
  return 0;
}

static double mbGetReal(const MbCol *c, const unsigned char *p){
  switch( c->eKind ){
    case K_F32: { float v; memcpy(&v, p, 4); return (double)v; }
    case K_F64: { double v; memcpy(&v, p, 8); return v; }
    case K_F32|K_SWAP: {
      uint32_t u; float v; memcpy(&u, p, 4); u = mbSwap32(u);
      memcpy(&v, &u, 4); return (double)v;
    }
    case K_F64|K_SWAP: {
      uint64_t u; double v; memcpy(&u, p, 8); u = mbSwap64(u);
      memcpy(&v, &u, 8); return v;
    }
  }
  return (double)mbGetInt(c, p);
}

/* The result of field c of the record at p. */
static void mbResult(sqlite3_context *ctx, const MbCol *c,
                     const unsigned char *p){
  switch( c->eKind ){
    case K_F64: { double v; memcpy(&v, p, 8); sqlite3_result_double(ctx, v); return; }
    case K_I64: { int64_t v; memcpy(&v, p, 8); sqlite3_result_int64(ctx, v); return; }
    case K_I32: { int32_t v; memcpy(&v, p, 4); sqlite3_result_int(ctx, v); return; }
    case K_U8:  sqlite3_result_int(ctx, p[0]); return;
    case K_I8:  sqlite3_result_int(ctx, (int8_t)p[0]); return;
    case K_BOOL: sqlite3_result_int(ctx, p[0]!=0); return;
    case K_U64: case K_U64|K_SWAP: {
      uint64_t v; memcpy(&v, p, 8);
      if( c->eKind & K_SWAP ) v = mbSwap64(v);
      if( v>(uint64_t)INT64_MAX ){
        sqlite3_result_double(ctx, (double)v);
      }else{
        sqlite3_result_int64(ctx, (sqlite3_int64)v);
      }
      return;
    }
    case K_CHAR: {
      int n = (int)c->nByte;
      while( n>0 && p[n-1]==0 ) n--;
      sqlite3_result_text(ctx, (const char*)p, n, SQLITE_TRANSIENT);
      return;
    }
    case K_BLOB:
      sqlite3_result_blob(ctx, p, (int)c->nByte, SQLITE_TRANSIENT);
      return;
    case K_F32: case K_F32|K_SWAP: case K_F64|K_SWAP:
      sqlite3_result_double(ctx, mbGetReal(c, p));
      return;
    default:
      sqlite3_result_int64(ctx, mbGetInt(c, p));
      return;
  }
}

/* Resizes and refreshes of the shared map go through the registry, which
** serialises them with those of every other user of the file in this
** process (membase_map, membase_lines, other tables). */
static int mbMapRefresh(mb_map *pMap){
  return mb_registry_refresh(pMap, 0);
}

static int mbMapResize(mb_map *pMap, uint64_t nSize){
  return mb_registry_resize_file(pMap, nSize);
}

/* Copy n bytes at view offset off; an error message names the file. */
static int mbRead(MbRecTab *p, uint64_t off, void *dst, size_t n){
  int rc = mb_map_read(p->pMap, off, dst, n);
  if( rc==MB_OK ) return SQLITE_OK;
  if( rc==MB_ERANGE || rc==MB_EFAULT ){
    /* the file shrank: pick up its new size for the next statement */
    (void)mbMapRefresh(p->pMap);
    p->nMapSize = (uint64_t)-1;
    return mbSetErr(p, SQLITE_IOERR_SHORT_READ, "membase: %s: the file was "
                    "truncated while it was read (record at byte %llu is "
                    "gone)", p->zFile, (unsigned long long)off);
  }
  return mbSetErr(p, SQLITE_IOERR_READ, "membase: %s: cannot read: %s",
                  p->zFile, mb_strerror(rc));
}

/* ------------------------------------------------------------ file size */

/* Bring nRows up to date with the file (after a refresh of the view). */
static int mbUpdateRows(MbRecTab *p){
  uint64_t nSize = mb_map_size(p->pMap);
  if( nSize==p->nMapSize ) return SQLITE_OK;
  if( p->bNpy ){
    /* re-read the shape: another process may have appended */
    unsigned char aPre[MB_NPY_PREFIX];
    uint64_t nHdr;
    unsigned char *aHdr;
    mb_npy npy;
    mb_layout lay;
    char *zErr = 0;
    int rc;
    if( nSize<MB_NPY_PREFIX ){
      return mbSetErr(p, SQLITE_CORRUPT_VTAB, "membase: %s: truncated .npy header "
                      "(the file has %llu bytes)", p->zFile,
                      (unsigned long long)nSize);
    }
    rc = mbRead(p, 0, aPre, sizeof(aPre));
    if( rc ) return rc;
    if( mb_npy_header_size(aPre, nSize, p->zFile, &nHdr, &zErr) ){
      mbSetErr(p, SQLITE_CORRUPT_VTAB, "%s", zErr);
      sqlite3_free(zErr);
      return SQLITE_CORRUPT_VTAB;
    }
    aHdr = sqlite3_malloc64(nHdr+1);
    if( aHdr==0 ) return SQLITE_NOMEM;
    rc = mbRead(p, 0, aHdr, (size_t)nHdr);
    if( rc ){ sqlite3_free(aHdr); return rc; }
    aHdr[nHdr] = 0;
    rc = mb_npy_parse(aHdr, (size_t)nHdr, p->zFile, &npy, &lay, &zErr);
    sqlite3_free(aHdr);
    if( rc ){
      if( zErr ){ mbSetErr(p, SQLITE_CORRUPT_VTAB, "%s", zErr); rc = SQLITE_CORRUPT_VTAB; }
      sqlite3_free(zErr);
      return rc;
    }
    mb_layout_free(&lay);
    if( npy.nHeader!=p->nHeader ){
      mb_npy_free(&npy);
      return mbSetErr(p, SQLITE_CORRUPT_VTAB, "membase: %s: the .npy header "
                      "changed size underneath", p->zFile);
    }
    if( npy.nRows > (nSize - nHdr) / p->nStride ){
      uint64_t nHave = (nSize - nHdr) / p->nStride;
      mbSetErr(p, SQLITE_CORRUPT_VTAB, "membase: %s: the .npy header says %llu "
               "rows but the file holds only %llu", p->zFile,
               (unsigned long long)npy.nRows, (unsigned long long)nHave);
      mb_npy_free(&npy);
      return SQLITE_CORRUPT_VTAB;
    }
    p->nRows = npy.nRows;
    mb_npy_free(&p->npy);
    p->npy = npy;
  }else{
    uint64_t nData, nRem;
    if( nSize<p->nHeader ){
      return mbSetErr(p, SQLITE_CORRUPT_VTAB, "membase: %s: file length %llu is "
                      "shorter than the header (%llu bytes)", p->zFile,
                      (unsigned long long)nSize,
                      (unsigned long long)p->nHeader);
    }
    nData = nSize - p->nHeader;
    nRem = nData % p->nStride;
    if( nRem && !p->bTailIgnore ){
      return mbSetErr(p, SQLITE_CORRUPT_VTAB, "membase: %s: file length %llu is "
                      "not header %llu + a multiple of the record stride %llu "
                      "(%llu bytes left over; tail=ignore ignores them)",
                      p->zFile, (unsigned long long)nSize,
                      (unsigned long long)p->nHeader,
                      (unsigned long long)p->nStride,
                      (unsigned long long)nRem);
    }
    p->nRows = nData / p->nStride;
  }
  p->nMapSize = nSize;
  return SQLITE_OK;
}

/* Refresh the view from the file and recount. */
static int mbRefresh(MbRecTab *p){
  int rc = mbMapRefresh(p->pMap);
  if( rc!=MB_OK ){
    return mbSetErr(p, SQLITE_IOERR, "membase: %s: cannot refresh the "
                    "mapping: %s", p->zFile, mb_strerror(rc));
  }
  return mbUpdateRows(p);
}

static void mbAdvise(MbRecTab *p, int eAdvice){
  if( p->eAdvice==eAdvice ) return;
  p->eAdvice = eAdvice;
  (void)mb_map_advise(p->pMap, (mb_advice)eAdvice, 0, 0);
}

/* ------------------------------------------------------------ sorted key */

static const MbCol *mbKeyCol(MbRecTab *p){ return &p->aCol[p->iSorted]; }

static int mbReadKey(MbRecTab *p, uint64_t iRow, int64_t *pI, double *pR){
  unsigned char a[8];
  const MbCol *c = mbKeyCol(p);
  int rc = mbRead(p, p->nHeader + iRow*p->nStride + c->iOff, a, c->nByte);
  if( rc ) return rc;
  if( p->bSortedFloat ) *pR = mbGetReal(c, a);
  else *pI = mbGetInt(c, a);
  return SQLITE_OK;
}

static int mbOrderError(MbRecTab *p, uint64_t iRow){
  p->bVerified = 0;
  return mbSetErr(p, SQLITE_CORRUPT_VTAB, "membase: %s: column \"%s\" is declared "
                  "sorted but record %llu is smaller than record %llu (or "
                  "NaN)", p->zFile, mbKeyCol(p)->zName,
                  (unsigned long long)iRow, (unsigned long long)(iRow-1));
}

/* Check the whole column is ascending, in blocks. */
static int mbVerifySorted(MbRecTab *p){
  uint64_t i = 0, nBlock;
  unsigned char *aBuf;
  const MbCol *c = mbKeyCol(p);
  int64_t iPrev = INT64_MIN;
  double rPrev = -HUGE_VAL;
  int rc = SQLITE_OK;
  mb_stamp now;
  /* Verified under a stamp that is still the file's, and that was not
  ** racy: nothing wrote to the file since (a same-size rewrite with its
  ** mtime put back moves the ctime). Otherwise verify again. */
  if( mb_map_change_stamp(p->pMap, &now)!=MB_OK ){
    memset(&now, 0, sizeof(now));
    p->bVerified = 0;
  }
  if( p->bVerified && mb_stamp_unchanged(&p->verStamp, &now) ){
    return SQLITE_OK;
  }
  nBlock = MB_BLOCK_BYTES / p->nStride;
  if( nBlock==0 ) nBlock = 1;
  aBuf = sqlite3_malloc64((nBlock-1)*p->nStride + p->nRecord);
  if( aBuf==0 ) return SQLITE_NOMEM;
  while( i<p->nRows ){
    uint64_t n = p->nRows - i, k;
    if( n>nBlock ) n = nBlock;
    rc = mbRead(p, p->nHeader + i*p->nStride, aBuf,
                (size_t)((n-1)*p->nStride + p->nRecord));
    if( rc ) break;
    for(k=0; k<n; k++){
      const unsigned char *pR = aBuf + k*p->nStride + c->iOff;
      if( p->bSortedFloat ){
        double r = mbGetReal(c, pR);
        if( !(r>=rPrev) ){ rc = mbOrderError(p, i+k); break; }
        rPrev = r;
      }else{
        int64_t v = mbGetInt(c, pR);
        if( v<iPrev ){ rc = mbOrderError(p, i+k); break; }
        iPrev = v;
      }
    }
    if( rc ) break;
    i += n;
  }
  sqlite3_free(aBuf);
  if( rc==SQLITE_OK ){
    p->bVerified = 1;
    p->verStamp = now;
  }
  return rc;
}

/* ------------------------------------------------------------ bounds */

/* An interval of the key space: integers [lo, hi], or reals between lo
** and hi with open ends. Empty when bEmpty. */
typedef struct MbIval {
  int bEmpty;
  int64_t iLo, iHi;
  double rLo, rHi;
  int bLoOpen, bHiOpen;
} MbIval;

static void mbIvalAll(MbIval *v){
  memset(v, 0, sizeof(*v));
  v->iLo = INT64_MIN; v->iHi = INT64_MAX;
  v->rLo = -HUGE_VAL; v->rHi = HUGE_VAL;
}

/* Narrow v by "key OP value" (op: SQLITE_INDEX_CONSTRAINT_EQ/GT/GE/LT/LE)
** under SQLite's comparison rules: NULL matches nothing, every number is
** less than any text or blob. */
static void mbIvalApply(MbIval *v, int op, sqlite3_value *pVal, int bReal){
  int t = sqlite3_value_numeric_type(pVal);
  double r;
  if( t==SQLITE_NULL ){ v->bEmpty = 1; return; }
  if( t==SQLITE_TEXT || t==SQLITE_BLOB ){
    /* the value is above every number */
    if( op==SQLITE_INDEX_CONSTRAINT_EQ || op==SQLITE_INDEX_CONSTRAINT_GT
     || op==SQLITE_INDEX_CONSTRAINT_GE ) v->bEmpty = 1;
    return;
  }
  if( bReal ){
    r = sqlite3_value_double(pVal);
    if( isnan(r) ){ v->bEmpty = 1; return; }
    if( t==SQLITE_INTEGER ){
      /* An integer bound that no double equals (beyond 2^53): SQLite
      ** compares the key with it exactly. r is its nearest double, and
      ** no double lies between the two, so the bound becomes r, open or
      ** closed, and = matches nothing. */
      int64_t x = sqlite3_value_int64(pVal);
      int cmp = r>=9.2233720368547758e18 ? 1 : (int64_t)r>x ? 1
              : (int64_t)r<x ? -1 : 0;   /* r against x */
      if( cmp!=0 ){
        if( op==SQLITE_INDEX_CONSTRAINT_EQ ){ v->bEmpty = 1; return; }
        if( cmp>0 ){
          /* x < r: key > x and key >= x are key >= r; key < x and
          ** key <= x are key < r */
          if( op==SQLITE_INDEX_CONSTRAINT_GT ) op = SQLITE_INDEX_CONSTRAINT_GE;
          if( op==SQLITE_INDEX_CONSTRAINT_LE ) op = SQLITE_INDEX_CONSTRAINT_LT;
        }else{
          /* r < x: key >= x is key > r; key <= x is key <= r */
          if( op==SQLITE_INDEX_CONSTRAINT_GE ) op = SQLITE_INDEX_CONSTRAINT_GT;
          if( op==SQLITE_INDEX_CONSTRAINT_LT ) op = SQLITE_INDEX_CONSTRAINT_LE;
        }
      }
    }
    if( op==SQLITE_INDEX_CONSTRAINT_EQ || op==SQLITE_INDEX_CONSTRAINT_GT
     || op==SQLITE_INDEX_CONSTRAINT_GE ){
      int bOpen = op==SQLITE_INDEX_CONSTRAINT_GT;
      if( r>v->rLo || (r==v->rLo && bOpen) ){ v->rLo = r; v->bLoOpen = bOpen; }
    }
    if( op==SQLITE_INDEX_CONSTRAINT_EQ || op==SQLITE_INDEX_CONSTRAINT_LT
     || op==SQLITE_INDEX_CONSTRAINT_LE ){
      int bOpen = op==SQLITE_INDEX_CONSTRAINT_LT;
      if( r<v->rHi || (r==v->rHi && bOpen) ){ v->rHi = r; v->bHiOpen = bOpen; }
    }
    if( v->rLo>v->rHi || (v->rLo==v->rHi && (v->bLoOpen || v->bHiOpen)) ){
      v->bEmpty = 1;
    }
    return;
  }
  /* integer key space */
  {
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    if( t==SQLITE_INTEGER ){
      int64_t x = sqlite3_value_int64(pVal);
      switch( op ){
        case SQLITE_INDEX_CONSTRAINT_EQ: lo = hi = x; break;
        case SQLITE_INDEX_CONSTRAINT_GE: lo = x; break;
        case SQLITE_INDEX_CONSTRAINT_GT:
          if( x==INT64_MAX ){ v->bEmpty = 1; return; }
          lo = x+1; break;
        case SQLITE_INDEX_CONSTRAINT_LE: hi = x; break;
        case SQLITE_INDEX_CONSTRAINT_LT:
          if( x==INT64_MIN ){ v->bEmpty = 1; return; }
          hi = x-1; break;
      }
    }else{
      double fl, ce;
      r = sqlite3_value_double(pVal);
      if( isnan(r) ){ v->bEmpty = 1; return; }
      fl = mbFloor(r); ce = mbCeil(r);
      switch( op ){
        case SQLITE_INDEX_CONSTRAINT_EQ:
          if( fl!=r || r<-9.2233720368547758e18 || r>=9.2233720368547758e18 ){
            v->bEmpty = 1; return;
          }
          lo = hi = (int64_t)r; break;
        /* In integers, never in doubles: fl + 1.0 rounds back to fl
        ** from 2^53 on (k > 2^53 took in 2^53), and at -2^63. fl and ce
        ** are integers, exact in int64 inside [-2^63, 2^63). */
        case SQLITE_INDEX_CONSTRAINT_GE:
          if( ce>=9.2233720368547758e18 ){ v->bEmpty = 1; return; }
          lo = ce<-9.2233720368547758e18 ? INT64_MIN : (int64_t)ce;
          break;
        case SQLITE_INDEX_CONSTRAINT_GT:
          if( fl>=9.2233720368547758e18 ){ v->bEmpty = 1; return; }
          if( fl<-9.2233720368547758e18 ){ lo = INT64_MIN; break; }
          lo = (int64_t)fl;
          if( lo==INT64_MAX ){ v->bEmpty = 1; return; }
          lo++;
          break;
        case SQLITE_INDEX_CONSTRAINT_LE:
          if( fl<-9.2233720368547758e18 ){ v->bEmpty = 1; return; }
          hi = fl>=9.2233720368547758e18 ? INT64_MAX : (int64_t)fl;
          break;
        default:   /* LT */
          if( ce<=-9.2233720368547758e18 ){ v->bEmpty = 1; return; }
          if( ce>=9.2233720368547758e18 ){ hi = INT64_MAX; break; }
          hi = (int64_t)ce - 1;
          break;
      }
    }
    if( lo>v->iLo ) v->iLo = lo;
    if( hi<v->iHi ) v->iHi = hi;
    if( v->iLo>v->iHi ) v->bEmpty = 1;
  }
}

/* First record whose key is >= (bOpen: >) the lower bound of v; or, with
** bUpper, first record whose key is > (bOpen: >=) the upper bound. */
static int mbSearch(MbRecTab *p, const MbIval *v, int bUpper,
                    uint64_t *piRow){
  uint64_t lo = 0, hi = p->nRows;
  while( lo<hi ){
    uint64_t mid = lo + (hi-lo)/2;
    int64_t ik = 0; double rk = 0.0;
    int bAfter;   /* the record is past the bound */
    int rc = mbReadKey(p, mid, &ik, &rk);
    if( rc ) return rc;
    if( p->bSortedFloat ){
      if( isnan(rk) ) return mbOrderError(p, mid);
      if( bUpper ) bAfter = v->bHiOpen ? rk>=v->rHi : rk>v->rHi;
      else bAfter = v->bLoOpen ? rk>v->rLo : rk>=v->rLo;
    }else{
      if( bUpper ) bAfter = ik>v->iHi;
      else bAfter = ik>=v->iLo;
    }
    if( bAfter ) hi = mid; else lo = mid+1;
  }
  *piRow = lo;
  return SQLITE_OK;
}

/* ------------------------------------------------------------ planning */

static int mbRecBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  MbRecTab *p = (MbRecTab*)pVtab;
  char zCodes[64];
  int nCode = 0, nArg = 0, i;
  int bRowEq = 0, bRowRange = 0, bKeyEq = 0, bKeyRange = 0;
  int idxNum = 0, bRowIn = 0, bKeyIn = 0, bRowInEq = 0;
  double nRows = (double)(p->nRows ? p->nRows : 1);
  double rEst;

  for(i=0; i<pInfo->nConstraint && nCode<60; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    char c = 0;
    int bKey;
    if( !pC->usable ) continue;
    if( pC->iColumn<0 ) bKey = 0;
    else if( pC->iColumn==p->iSorted ) bKey = 1;
    else continue;
    switch( pC->op ){
      case SQLITE_INDEX_CONSTRAINT_EQ:
        if( sqlite3_vtab_in(pInfo, i, -1) ){
          /* one IN list per column, all at once; SQLite applies others */
          if( bKey ? bKeyIn : bRowIn ) continue;
          if( bKey ) bKeyIn = 1; else bRowIn = 1;
          sqlite3_vtab_in(pInfo, i, 1);
          c = bKey ? 'e' : 'r';
        }else{
          c = bKey ? 'E' : 'R';
        }
        if( bKey ) bKeyEq = 1;
        else if( c=='R' ) bRowEq = 1;   /* one record at most */
        else bRowInEq = 1;              /* IN: one record per value */
        break;
      case SQLITE_INDEX_CONSTRAINT_GT: c = bKey ? 'H' : 'G'; break;
      case SQLITE_INDEX_CONSTRAINT_GE: c = bKey ? 'h' : 'g'; break;
      case SQLITE_INDEX_CONSTRAINT_LT: c = bKey ? 'M' : 'L'; break;
      case SQLITE_INDEX_CONSTRAINT_LE: c = bKey ? 'm' : 'l'; break;
      default: continue;
    }
    if( c!='E' && c!='e' && c!='R' && c!='r' ){
      if( bKey ) bKeyRange = 1; else bRowRange = 1;
    }
    zCodes[nCode++] = c;
    pInfo->aConstraintUsage[i].argvIndex = ++nArg;
    pInfo->aConstraintUsage[i].omit = 1;
  }
  /* ORDER BY is consumed when the scan order gives it: rowid, or the
  ** sorted column (whose ties are in rowid order) optionally followed by
  ** rowid, all in one direction. Terms after rowid are moot (rowid is
  ** unique). Anything else is left to SQLite's sorter. */
  if( pInfo->nOrderBy>0 ){
    int bOk = 1, bDesc = pInfo->aOrderBy[0].desc, bUsesKey = 0;
    for(i=0; i<pInfo->nOrderBy; i++){
      int iCol = pInfo->aOrderBy[i].iColumn;
      if( pInfo->aOrderBy[i].desc!=bDesc ){ bOk = 0; break; }
      if( iCol<0 ) break;
      if( i==0 && p->iSorted>=0 && iCol==p->iSorted ){ bUsesKey = 1; continue; }
      bOk = 0;
      break;
    }
    /* the sorted column alone: ties come out in rowid order, which is a
    ** valid order for a single-term ORDER BY */
    if( bOk ){
      pInfo->orderByConsumed = 1;
      if( bDesc ) idxNum |= 1;
      if( bUsesKey ) idxNum |= 2;
    }
  }
  /* LIMIT and OFFSET are never consumed. They could be only when nothing
  ** is left for SQLite to do after the scan, and SQLite 3.40 cannot tell
  ** us that: it offers LIMIT even when the WHERE clause has terms it never
  ** shows us (a > b between two columns of this table, x = x, likely()),
  ** which it then applies to the rows we return: a scan cut at LIMIT gave
  ** too few rows. SQLite stops calling xNext after LIMIT rows anyway, and
  ** the cursor reads lazily (its first block is small), so nothing is
  ** lost but the cut of the last block. */
  zCodes[nCode] = 0;

  if( bKeyEq || bKeyRange ) idxNum |= 2;

  if( bRowEq ){
    /* SCAN_UNIQUE only for rowid = : SQLite then reads one row at most
    ** (an UPDATE becomes one-pass without a loop), so an IN list must
    ** never claim it (it did: UPDATE ... WHERE rowid IN (0,3,6) changed
    ** record 0 alone) */
    rEst = 1.0;
    pInfo->estimatedCost = 1.0;
    pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  }else if( bRowInEq ){
    rEst = 4.0;
    pInfo->estimatedCost = rEst;
  }else if( bKeyEq ){
    rEst = 4.0;
    pInfo->estimatedCost = mbLog2(nRows+1.0) + rEst;
  }else if( bRowRange || bKeyRange ){
    rEst = nRows/4.0 + 1.0;
    pInfo->estimatedCost = (bKeyRange ? mbLog2(nRows+1.0) : 0.0) + rEst;
  }else{
    rEst = nRows;
    pInfo->estimatedCost = nRows + 1.0;
  }
  pInfo->estimatedRows = (sqlite3_int64)rEst;
  pInfo->idxNum = idxNum;
  if( nCode ){
    pInfo->idxStr = sqlite3_mprintf("%s", zCodes);
    if( pInfo->idxStr==0 ) return SQLITE_NOMEM;
    pInfo->needToFreeIdxStr = 1;
  }
  return SQLITE_OK;
}

/* ------------------------------------------------------------ pending */

static int mbWriteJournal(MbRecTab *p);

/* Write the pending appended records into the file: grow it, copy. */
static int mbFlushPending(MbRecTab *p){
  uint64_t nOld, nNew;
  int rc;
  if( p->nPend==0 ) return SQLITE_OK;
  if( !p->bJournal ){
    rc = mbWriteJournal(p);
    if( rc ) return rc;
  }
  nOld = p->nHeader + p->nRows*p->nStride;
  nNew = nOld + p->nPend*p->nStride;
  /* a .npy file may carry records of a dead writer past the shape */
  rc = mbMapResize(p->pMap, nNew);
  if( rc!=MB_OK ){
    /* The file may have grown before the view failed to follow (mmap
    ** refused): nRows does not count those records, so a rollback would
    ** not cut them. Put the length back now. */
    (void)mbMapResize(p->pMap, nOld);
    return mbSetErr(p, rc==MB_EOVERFLOW ? SQLITE_FULL : SQLITE_IOERR_WRITE,
                    "membase: %s: cannot grow the file to %llu bytes: %s",
                    p->zFile, (unsigned long long)nNew, mb_strerror(rc));
  }
  rc = mb_map_write(p->pMap, nOld, p->aPend, (size_t)(nNew-nOld));
  if( rc!=MB_OK ){
    (void)mbMapResize(p->pMap, nOld);   /* as above */
    return mbSetErr(p, SQLITE_IOERR_WRITE, "membase: %s: cannot write the "
                    "appended records: %s", p->zFile, mb_strerror(rc));
  }
  if( !p->bDirty || nOld<p->iDirtyLo ) p->iDirtyLo = nOld;
  if( !p->bDirty || nNew>p->iDirtyHi ) p->iDirtyHi = nNew;
  p->bDirty = 1;
  p->nRows += p->nPend;
  p->nPend = 0;
  p->nMapSize = mb_map_size(p->pMap);
  return SQLITE_OK;
}

/* ------------------------------------------------------------ cursor */

static int mbRecOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  MbRecTab *p = (MbRecTab*)pVtab;
  MbRecCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->nStride = p->nStride;
  pCur->nBufRows = MB_BLOCK_BYTES / p->nStride;
  if( pCur->nBufRows==0 ) pCur->nBufRows = 1;
  /* the last record of a block needs only its layout's bytes */
  pCur->aBuf = sqlite3_malloc64((pCur->nBufRows-1)*p->nStride + p->nRecord);
  if( pCur->aBuf==0 ){ sqlite3_free(pCur); return SQLITE_NOMEM; }
  pCur->bEof = 1;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static int mbRecClose(sqlite3_vtab_cursor *cur){
  MbRecCursor *pCur = (MbRecCursor*)cur;
  if( pCur->bScan ) (void)mb_scan_finish(&pCur->scan, 0);
  if( pCur->aRange!=&pCur->one ) sqlite3_free(pCur->aRange);
  sqlite3_free(pCur->aBuf);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Load the block holding record iRow (moving in the cursor's direction,
** within the current range) and point pRec at it. */
static int mbLoadBlock(MbRecCursor *pCur){
  MbRecTab *p = (MbRecTab*)pCur->base.pVtab;
  const MbRange *r = &pCur->aRange[pCur->iRange];
  uint64_t lo, hi;
  int rc;
  if( !pCur->bDesc ){
    lo = pCur->iRow;
    hi = r->iEnd - lo > pCur->nLoadRows ? lo + pCur->nLoadRows : r->iEnd;
  }else{
    hi = pCur->iRow + 1;
    lo = hi - r->iFirst > pCur->nLoadRows ? hi - pCur->nLoadRows : r->iFirst;
  }
  if( pCur->nLoadRows<pCur->nBufRows ){
    pCur->nLoadRows *= 2;
    if( pCur->nLoadRows>pCur->nBufRows ) pCur->nLoadRows = pCur->nBufRows;
  }
  if( pCur->bScan ){
    (void)mb_scan_advance(&pCur->scan, p->nHeader + lo*p->nStride);
  }
  rc = mbRead(p, p->nHeader + lo*p->nStride, pCur->aBuf,
              (size_t)((hi-lo-1)*p->nStride + p->nRecord));
  if( rc ) return rc;
  if( p->nHeader + (hi-1)*p->nStride + p->nRecord > pCur->iReadHi ){
    pCur->iReadHi = p->nHeader + (hi-1)*p->nStride + p->nRecord;
  }
  pCur->iBufLo = lo;
  pCur->iBufHi = hi;
  pCur->pRec = pCur->aBuf + (pCur->iRow - lo)*p->nStride;
  return SQLITE_OK;
}

/* At the end of a scan: the file must still hold every byte the scan
** read. A truncation by another process while the statement ran leaves
** the page holding the new end of file mapped, and the records cut off
** inside it read as zeros, not as a fault: they must not pass for data.
** One fstat per statement (whole pages cut off fault, and the guarded
** copy makes those an error at once). */
static int mbCheckStillThere(MbRecCursor *pCur){
  MbRecTab *p = (MbRecTab*)pCur->base.pVtab;
  uint64_t nNow = 0;
  if( pCur->iReadHi==0 ) return SQLITE_OK;
  if( mb_map_stamp(p->pMap, &nNow, 0)==MB_OK && nNow<pCur->iReadHi ){
    (void)mbMapRefresh(p->pMap);
    p->nMapSize = (uint64_t)-1;
    return mbSetErr(p, SQLITE_IOERR_SHORT_READ, "membase: %s: the file was "
                    "truncated while it was read (it has %llu bytes, the "
                    "query read up to byte %llu)", p->zFile,
                    (unsigned long long)nNow,
                    (unsigned long long)pCur->iReadHi);
  }
  return SQLITE_OK;
}

/* Enter range iRange at its first record in the cursor's direction. */
static int mbEnterRange(MbRecCursor *pCur){
  while( pCur->iRange>=0 && pCur->iRange<pCur->nRange ){
    const MbRange *r = &pCur->aRange[pCur->iRange];
    if( r->iFirst<r->iEnd ){
      pCur->iRow = pCur->bDesc ? r->iEnd-1 : r->iFirst;
      return mbLoadBlock(pCur);
    }
    pCur->iRange += pCur->bDesc ? -1 : 1;
  }
  pCur->bEof = 1;
  return mbCheckStillThere(pCur);
}

static int mbNextSlow(MbRecCursor *pCur){
  const MbRange *r = &pCur->aRange[pCur->iRange];
  if( !pCur->bDesc ){
    if( pCur->iRow<r->iEnd ) return mbLoadBlock(pCur);
    pCur->iRange++;
  }else{
    if( pCur->iRow>r->iFirst ){
      pCur->iRow--;
      return mbLoadBlock(pCur);
    }
    pCur->iRange--;
  }
  return mbEnterRange(pCur);
}

/* The hot path: a few instructions unless a block or range ends. */
static int mbRecNext(sqlite3_vtab_cursor *cur){
  MbRecCursor *pCur = (MbRecCursor*)cur;
  if( !pCur->bDesc ){
    if( ++pCur->iRow<pCur->iBufHi ){
      pCur->pRec += pCur->nStride;
      return SQLITE_OK;
    }
  }else if( pCur->iRow>pCur->iBufLo ){
    pCur->iRow--;
    pCur->pRec -= pCur->nStride;
    return SQLITE_OK;
  }
  return mbNextSlow(pCur);
}

static int mbRecEof(sqlite3_vtab_cursor *cur){
  return ((MbRecCursor*)cur)->bEof;
}

static int mbRecColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  MbRecCursor *pCur = (MbRecCursor*)cur;
  const MbCol *c = &((MbRecTab*)cur->pVtab)->aCol[i];
  /* A column an UPDATE does not assign: no value, so xUpdate sees it as
  ** unchanged and keeps the field's bytes exactly (a u64 above 2^63, a
  ** NaN, a bool byte of 2 survive a round trip through SQL otherwise). */
  if( sqlite3_vtab_nochange(ctx) ) return SQLITE_OK;
  mbResult(ctx, c, pCur->pRec + c->iOff);
  return SQLITE_OK;
}

static int mbRecRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  *pRowid = (sqlite_int64)((MbRecCursor*)cur)->iRow;
  return SQLITE_OK;
}

static int mbRangeCmp(const void *a, const void *b){
  const MbRange *x = a, *y = b;
  return x->iFirst<y->iFirst ? -1 : x->iFirst>y->iFirst;
}

/* Add the records matching interval v of the sorted key (or of the rowid,
** bRowid) to the cursor's ranges, within [lo, hi). */
static int mbAddRange(MbRecTab *p, MbRecCursor *pCur, int *pnAlloc,
                      uint64_t iFirst, uint64_t iEnd){
  if( iFirst>=iEnd ) return SQLITE_OK;
  if( pCur->nRange>=*pnAlloc ){
    int nNew = *pnAlloc ? *pnAlloc*2 : 8;
    MbRange *a = sqlite3_realloc64(pCur->aRange==&pCur->one ? 0 : pCur->aRange,
                                   sizeof(MbRange)*(uint64_t)nNew);
    (void)p;
    if( a==0 ) return SQLITE_NOMEM;
    if( pCur->aRange==&pCur->one && pCur->nRange ) a[0] = pCur->one;
    pCur->aRange = a;
    *pnAlloc = nNew;
  }
  pCur->aRange[pCur->nRange].iFirst = iFirst;
  pCur->aRange[pCur->nRange].iEnd = iEnd;
  pCur->nRange++;
  return SQLITE_OK;
}

static int mbKeyRange(MbRecTab *p, const MbIval *v, uint64_t *pLo,
                      uint64_t *pHi){
  int rc;
  if( v->bEmpty ){ *pLo = *pHi = 0; return SQLITE_OK; }
  rc = mbSearch(p, v, 0, pLo);
  if( rc==SQLITE_OK ) rc = mbSearch(p, v, 1, pHi);
  if( rc==SQLITE_OK && *pHi<*pLo ) *pHi = *pLo;
  return rc;
}

static int mbRecFilter(
  sqlite3_vtab_cursor *cur,
  int idxNum,
  const char *idxStr,
  int argc,
  sqlite3_value **argv
){
  MbRecCursor *pCur = (MbRecCursor*)cur;
  MbRecTab *p = (MbRecTab*)cur->pVtab;
  MbIval rowIv, keyIv;
  int i, rc, nAlloc = 0;
  int bKeySet = 0;
  sqlite3_value *pRowIn = 0, *pKeyIn = 0;   /* IN lists, or = values */
  int bRowInList = 0, bKeyInList = 0;
  uint64_t lo = 0, hi;
  (void)argc;

  if( pCur->aRange && pCur->aRange!=&pCur->one ) sqlite3_free(pCur->aRange);
  pCur->aRange = &pCur->one;
  pCur->nRange = 0;
  pCur->bEof = 0;
  pCur->bDesc = idxNum & 1;
  pCur->iBufLo = pCur->iBufHi = 0;
  pCur->nLoadRows = pCur->nBufRows<16 ? pCur->nBufRows : 16;
  pCur->iReadHi = 0;

  /* Appends of this connection's open transaction become visible. */
  if( p->nPend ){
    rc = mbFlushPending(p);
    if( rc ) return rc;
  }
  mbIvalAll(&rowIv);
  mbIvalAll(&keyIv);
  for(i=0; idxStr && idxStr[i]; i++){
    sqlite3_value *v = argv[i];
    switch( idxStr[i] ){
      case 'R': case 'r':
        /* the IN list (at most one) or the first = enumerates records;
        ** any other = narrows the interval */
        if( pRowIn==0 ){
          pRowIn = v; bRowInList = idxStr[i]=='r';
        }else if( idxStr[i]=='r' ){
          mbIvalApply(&rowIv, SQLITE_INDEX_CONSTRAINT_EQ, pRowIn, 0);
          pRowIn = v; bRowInList = 1;
        }else{
          mbIvalApply(&rowIv, SQLITE_INDEX_CONSTRAINT_EQ, v, 0);
        }
        break;
      case 'G': mbIvalApply(&rowIv, SQLITE_INDEX_CONSTRAINT_GT, v, 0); break;
      case 'g': mbIvalApply(&rowIv, SQLITE_INDEX_CONSTRAINT_GE, v, 0); break;
      case 'L': mbIvalApply(&rowIv, SQLITE_INDEX_CONSTRAINT_LT, v, 0); break;
      case 'l': mbIvalApply(&rowIv, SQLITE_INDEX_CONSTRAINT_LE, v, 0); break;
      case 'E': case 'e':
        if( pKeyIn==0 ){
          pKeyIn = v; bKeyInList = idxStr[i]=='e';
        }else if( idxStr[i]=='e' ){
          mbIvalApply(&keyIv, SQLITE_INDEX_CONSTRAINT_EQ, pKeyIn,
                      p->bSortedFloat);
          pKeyIn = v; bKeyInList = 1;
        }else{
          mbIvalApply(&keyIv, SQLITE_INDEX_CONSTRAINT_EQ, v, p->bSortedFloat);
        }
        bKeySet = 1;
        break;
      case 'H': mbIvalApply(&keyIv, SQLITE_INDEX_CONSTRAINT_GT, v, p->bSortedFloat);
        bKeySet = 1; break;
      case 'h': mbIvalApply(&keyIv, SQLITE_INDEX_CONSTRAINT_GE, v, p->bSortedFloat);
        bKeySet = 1; break;
      case 'M': mbIvalApply(&keyIv, SQLITE_INDEX_CONSTRAINT_LT, v, p->bSortedFloat);
        bKeySet = 1; break;
      case 'm': mbIvalApply(&keyIv, SQLITE_INDEX_CONSTRAINT_LE, v, p->bSortedFloat);
        bKeySet = 1; break;
    }
  }

  /* Every query looks at the file's current size (one fstat; the view is
  ** remapped only if the size changed): a record past a truncation inside
  ** the last page would otherwise read as zeros. */
  {
    uint64_t nNow = 0;
    if( mb_map_stamp(p->pMap, &nNow, 0)!=MB_OK || nNow!=mb_map_size(p->pMap)
     || p->nMapSize!=nNow ){
      rc = mbRefresh(p);
      if( rc ) return rc;
    }
  }
  hi = p->nRows;
  if( rowIv.bEmpty || rowIv.iHi<0 ){ hi = 0; }
  else{
    if( rowIv.iLo>0 ) lo = (uint64_t)rowIv.iLo;
    if( (uint64_t)rowIv.iHi < hi ) hi = (uint64_t)rowIv.iHi + 1;
  }

  if( (idxNum & 2) && p->iSorted>=0 ){
    rc = mbVerifySorted(p);
    if( rc ) return rc;
  }
  if( pKeyIn ){
    /* each key value: a binary search, then the rowid bounds */
    sqlite3_value *pV = 0;
    if( bKeyInList ){
      rc = sqlite3_vtab_in_first(pKeyIn, &pV);
      /* SQLite declined all-at-once: one value per xFilter call */
      if( rc==SQLITE_ERROR ){ pV = pKeyIn; bKeyInList = 0; rc = SQLITE_OK; }
    }else{
      pV = pKeyIn; rc = SQLITE_OK;
    }
    while( rc==SQLITE_OK && pV ){
      MbIval one = keyIv;
      uint64_t a, b;
      mbIvalApply(&one, SQLITE_INDEX_CONSTRAINT_EQ, pV, p->bSortedFloat);
      rc = mbKeyRange(p, &one, &a, &b);
      if( rc ) return rc;
      if( a<lo ) a = lo;
      if( b>hi ) b = hi;
      rc = mbAddRange(p, pCur, &nAlloc, a, b);
      if( rc ) return rc;
      if( !bKeyInList ) break;
      rc = sqlite3_vtab_in_next(pKeyIn, &pV);
    }
    if( rc!=SQLITE_OK && rc!=SQLITE_DONE ) return rc;
  }else if( bKeySet ){
    uint64_t a, b;
    rc = mbKeyRange(p, &keyIv, &a, &b);
    if( rc ) return rc;
    if( a<lo ) a = lo;
    if( b>hi ) b = hi;
    rc = mbAddRange(p, pCur, &nAlloc, a, b);
    if( rc ) return rc;
  }else{
    rc = mbAddRange(p, pCur, &nAlloc, lo, hi);
    if( rc ) return rc;
  }

  if( pRowIn ){
    /* rowid = or IN: keep the listed records that lie in the ranges */
    MbRange *aOld = pCur->aRange;
    int nOld = pCur->nRange;
    int bOwned = aOld!=&pCur->one;
    MbRange oneOld = pCur->one;
    sqlite3_value *pV = 0;
    if( !bOwned ) aOld = &oneOld;
    pCur->aRange = &pCur->one;
    pCur->nRange = 0;
    nAlloc = 0;
    rc = bRowInList ? sqlite3_vtab_in_first(pRowIn, &pV)
                    : (pV = pRowIn, SQLITE_OK);
    if( rc==SQLITE_ERROR && bRowInList ){
      /* SQLite declined all-at-once: one value per xFilter call */
      pV = pRowIn; bRowInList = 0; rc = SQLITE_OK;
    }
    while( rc==SQLITE_OK && pV ){
      MbIval one = rowIv;
      mbIvalApply(&one, SQLITE_INDEX_CONSTRAINT_EQ, pV, 0);
      if( !one.bEmpty && one.iLo>=0 ){
        uint64_t r = (uint64_t)one.iLo;
        int k;
        if( r>=p->nRows && p->nMapSize!=(uint64_t)-1 ){
          /* past the end as we knew it: the file may have grown */
          rc = mbRefresh(p);
          if( rc ) break;
        }
        for(k=0; k<nOld; k++){
          if( r>=aOld[k].iFirst && r<aOld[k].iEnd && r<p->nRows ){
            rc = mbAddRange(p, pCur, &nAlloc, r, r+1);
            break;
          }
        }
        if( rc ) break;
      }
      if( !bRowInList ) break;
      rc = sqlite3_vtab_in_next(pRowIn, &pV);
    }
    if( bOwned ) sqlite3_free(aOld);
    if( rc!=SQLITE_OK && rc!=SQLITE_DONE ) return rc;
  }
  /* ascending, no overlaps (IN lists may repeat values) */
  if( pCur->nRange>1 ){
    int k, n = 1;
    qsort(pCur->aRange, (size_t)pCur->nRange, sizeof(MbRange), mbRangeCmp);
    for(k=1; k<pCur->nRange; k++){
      MbRange *pLast = &pCur->aRange[n-1];
      if( pCur->aRange[k].iFirst<=pLast->iEnd ){
        if( pCur->aRange[k].iEnd>pLast->iEnd ) pLast->iEnd = pCur->aRange[k].iEnd;
      }else{
        pCur->aRange[n++] = pCur->aRange[k];
      }
    }
    pCur->nRange = n;
  }

  /* access pattern: scans read ahead, point lookups do not */
  {
    uint64_t nTotal = 0;
    int k;
    for(k=0; k<pCur->nRange; k++){
      nTotal += pCur->aRange[k].iEnd - pCur->aRange[k].iFirst;
    }
    if( pCur->bScan ) (void)mb_scan_finish(&pCur->scan, 0);
    pCur->bScan = nTotal > pCur->nBufRows;
    if( pCur->bScan ){
      mbAdvise(p, MB_ADV_SEQUENTIAL);
      mb_scan_init(&pCur->scan, p->pMap, 0, MB_POP_DEFAULT);
      if( p->eDrop>=0 ) mb_scan_set_dropbehind(&pCur->scan, (mb_dropbehind)p->eDrop);
    }else if( pRowIn || pKeyIn ){
      mbAdvise(p, MB_ADV_RANDOM);
    }
  }
  pCur->iRange = pCur->bDesc ? pCur->nRange-1 : 0;
  return mbEnterRange(pCur);
}

/* ------------------------------------------------------------ writes */

/* Writers of one file in this process take turns on a token; across
** processes on the file's advisory lock. */
typedef struct MbWriter {
  struct MbWriter *pNext;
  mb_map *pMap;
  MbRecTab *pOwner;
} MbWriter;
static MbWriter *mbWriters;   /* guarded by SQLITE_MUTEX_STATIC_VFS3 */

/* Take the token: 1 taken, 0 held by another table. */
static int mbTokenTry(MbRecTab *p){
  sqlite3_mutex *m = sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_VFS3);
  MbWriter *w;
  int bGot = 0;
  sqlite3_mutex_enter(m);
  for(w=mbWriters; w && w->pMap!=p->pMap; w=w->pNext){}
  if( w==0 ){
    w = sqlite3_malloc64(sizeof(*w));
    if( w ){
      w->pMap = p->pMap;
      w->pOwner = 0;
      w->pNext = mbWriters;
      mbWriters = w;
    }
  }
  if( w && (w->pOwner==0 || w->pOwner==p) ){
    w->pOwner = p;
    bGot = 1;
  }
  sqlite3_mutex_leave(m);
  return bGot;
}

static void mbTokenRelease(MbRecTab *p){
  sqlite3_mutex *m = sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_VFS3);
  MbWriter **pp;
  sqlite3_mutex_enter(m);
  for(pp=&mbWriters; *pp; pp=&(*pp)->pNext){
    if( (*pp)->pMap==p->pMap && (*pp)->pOwner==p ){
      MbWriter *w = *pp;
      *pp = w->pNext;
      sqlite3_free(w);
      break;
    }
  }
  sqlite3_mutex_leave(m);
}

static char *mbJournalName(MbRecTab *p){
  return sqlite3_mprintf("%s-mbjournal", p->zFile);
}

#define MB_JOURNAL_MAGIC "MBJRNL01"

/* Record the file's length before it grows (raw files only). */
static int mbWriteJournal(MbRecTab *p){
  sqlite3_vfs *pVfs;
  sqlite3_file *pF;
  char *zName;
  unsigned char a[24];
  uint64_t n = p->nHeader + p->nRows*p->nStride;
  int rc, k, flags = 0;
  if( p->bNpy ){ p->bJournal = 1; return SQLITE_OK; }
  pVfs = sqlite3_vfs_find(0);
  zName = mbJournalName(p);
  pF = sqlite3_malloc64((sqlite3_uint64)pVfs->szOsFile);
  if( zName==0 || pF==0 ){
    sqlite3_free(zName); sqlite3_free(pF);
    return SQLITE_NOMEM;
  }
  memset(pF, 0, (size_t)pVfs->szOsFile);
  memcpy(a, MB_JOURNAL_MAGIC, 8);
  for(k=0; k<8; k++){
    a[8+k] = (unsigned char)(n>>(8*k));
    a[16+k] = (unsigned char)((n ^ 0x5a5a5a5a5a5a5a5aULL)>>(8*k));
  }
  rc = pVfs->xOpen(pVfs, zName, pF, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                   |SQLITE_OPEN_SUPER_JOURNAL, &flags);
  if( rc==SQLITE_OK ){
    rc = pF->pMethods->xWrite(pF, a, 24, 0);
    if( rc==SQLITE_OK ) rc = pF->pMethods->xSync(pF, SQLITE_SYNC_NORMAL);
  }
  if( pF->pMethods ) pF->pMethods->xClose(pF);
  sqlite3_free(pF);
  /* A journal that could not be written is not left behind: nothing has
  ** grown yet, and the rollback (bJournal is 0) would not delete it. */
  if( rc ) (void)pVfs->xDelete(pVfs, zName, 0);
  sqlite3_free(zName);
  if( rc ){
    return mbSetErr(p, rc, "membase: %s: cannot write the journal %s-"
                    "mbjournal", p->zFile, p->zFile);
  }
  p->bJournal = 1;
  return SQLITE_OK;
}

static void mbDeleteJournal(MbRecTab *p){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  char *zName = mbJournalName(p);
  if( zName ){
    (void)pVfs->xDelete(pVfs, zName, 0);
    sqlite3_free(zName);
  }
  p->bJournal = 0;
}

/* With the token and the file lock held: a journal left by a writer that
** died means the file grew by records that were never committed. */
static int mbRecover(MbRecTab *p){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  char *zName;
  int bExists = 0, rc = SQLITE_OK;
  if( p->bNpy || p->bReadonly ) return SQLITE_OK;
  zName = mbJournalName(p);
  if( zName==0 ) return SQLITE_NOMEM;
  /* READWRITE, not EXISTS: the platform VFS answers EXISTS with 0 for an
  ** empty file, and a writer killed between creating the journal and
  ** writing it leaves exactly that (tests/crash/mb_crash.c). */
  if( pVfs->xAccess(pVfs, zName, SQLITE_ACCESS_READWRITE, &bExists)==SQLITE_OK
   && bExists ){
    sqlite3_file *pF = sqlite3_malloc64((sqlite3_uint64)pVfs->szOsFile);
    unsigned char a[24];
    int flags = 0;
    if( pF==0 ){ sqlite3_free(zName); return SQLITE_NOMEM; }
    memset(pF, 0, (size_t)pVfs->szOsFile);
    memset(a, 0, sizeof(a));
    rc = pVfs->xOpen(pVfs, zName, pF, SQLITE_OPEN_READWRITE
                     |SQLITE_OPEN_SUPER_JOURNAL, &flags);
    if( rc==SQLITE_OK ) rc = pF->pMethods->xRead(pF, a, 24, 0);
    if( pF->pMethods ) pF->pMethods->xClose(pF);
    sqlite3_free(pF);
    if( rc==SQLITE_OK && memcmp(a, MB_JOURNAL_MAGIC, 8)==0 ){
      uint64_t n = 0, n2 = 0, nNow;
      int k;
      for(k=0; k<8; k++){
        n |= (uint64_t)a[8+k]<<(8*k);
        n2 |= (uint64_t)a[16+k]<<(8*k);
      }
      (void)mbMapRefresh(p->pMap);
      nNow = mb_map_size(p->pMap);
      if( (n ^ 0x5a5a5a5a5a5a5a5aULL)==n2 && n<nNow ){
        int r2 = mbMapResize(p->pMap, n);
        if( r2==MB_OK ) r2 = mb_map_flush(p->pMap, 0, 0, MB_FLUSH_SYNC);
        if( r2!=MB_OK ){
          rc = mbSetErr(p, SQLITE_IOERR, "membase: %s: cannot roll back "
                        "an interrupted append: %s", p->zFile,
                        mb_strerror(r2));
        }
      }
    }else if( rc==SQLITE_IOERR_SHORT_READ ){
      rc = SQLITE_OK;   /* torn journal: it was written before any growth */
    }
    if( rc==SQLITE_OK ) (void)pVfs->xDelete(pVfs, zName, 0);
    p->nMapSize = (uint64_t)-1;
  }
  sqlite3_free(zName);
  return rc;
}

/* Become the writer of the file: token, then the advisory lock, then
** recovery of a dead writer's append. */
static int mbWriteLock(MbRecTab *p){
  int nWait = 0, rc;
  if( p->bWriting ) return SQLITE_OK;
  while( !mbTokenTry(p) ){
    if( nWait>=MB_BUSY_MS ){
      return mbSetErr(p, SQLITE_BUSY, "membase: %s is being written by "
                      "another connection", p->zFile);
    }
    sqlite3_sleep(1);
    nWait++;
  }
  for(;;){
    rc = mb_map_lock(p->pMap, MB_LOCK_EXCLUSIVE|MB_LOCK_NOWAIT);
    if( rc==MB_OK ) break;
    if( rc!=MB_EBUSY || nWait>=MB_BUSY_MS ){
      mbTokenRelease(p);
      return mbSetErr(p, SQLITE_BUSY, "membase: %s is locked by another "
                      "process%s", p->zFile,
                      rc==MB_EBUSY ? "" : " (cannot lock)");
    }
    sqlite3_sleep(2);
    nWait += 2;
  }
  p->bWriting = 1;
  rc = mbRecover(p);
  if( rc==SQLITE_OK ) rc = mbRefresh(p);
  if( rc ){
    (void)mb_map_lock(p->pMap, MB_LOCK_UNLOCK);
    mbTokenRelease(p);
    p->bWriting = 0;
    return rc;
  }
  p->nTxRows = p->nRows;
  p->nUndo = 0;
  p->nSave = 0;
  p->bDirty = 0;
  p->bJournal = 0;
  /* a .npy file may hold records of a dead writer past its shape */
  if( p->bNpy && mb_map_size(p->pMap) > p->nHeader + p->nRows*p->nStride ){
    if( mbMapResize(p->pMap, p->nHeader + p->nRows*p->nStride)!=MB_OK ){
      rc = SQLITE_IOERR;
    }
    p->nMapSize = mb_map_size(p->pMap);
  }
  return rc;
}

static void mbWriteUnlock(MbRecTab *p){
  if( !p->bWriting ) return;
  (void)mb_map_lock(p->pMap, MB_LOCK_UNLOCK);
  mbTokenRelease(p);
  p->bWriting = 0;
  p->nUndo = 0;
  p->nSave = 0;
  p->nPend = 0;
  p->bDirty = 0;
}

/* Log the bytes at [off, off+n) before they change. */
static int mbUndoLog(MbRecTab *p, uint64_t off, const void *pOld, uint32_t n){
  size_t need = p->nUndo + 12 + n;
  if( need>p->nUndoAlloc ){
    size_t nNew = p->nUndoAlloc ? p->nUndoAlloc*2 : 65536;
    unsigned char *a;
    while( nNew<need ) nNew *= 2;
    a = sqlite3_realloc64(p->aUndo, nNew);
    if( a==0 ) return SQLITE_NOMEM;
    p->aUndo = a;
    p->nUndoAlloc = nNew;
  }
  memcpy(p->aUndo+p->nUndo, &off, 8);
  memcpy(p->aUndo+p->nUndo+8, &n, 4);
  memcpy(p->aUndo+p->nUndo+12, pOld, n);
  p->nUndo = need;
  return SQLITE_OK;
}

/* Undo back to nUndo bytes of log and nRows records. */
static int mbRollbackTo(MbRecTab *p, size_t nUndo, uint64_t nRows){
  int rc = SQLITE_OK;
  /* entries are variable-length: walk forward to collect their starts */
  size_t *aAt = 0, nAt = 0, at;
  for(at=nUndo; at<p->nUndo; ){
    uint32_t n;
    memcpy(&n, p->aUndo+at+8, 4);
    if( (nAt & (nAt-1))==0 ){
      size_t *a = sqlite3_realloc64(aAt, sizeof(size_t)*(nAt ? nAt*2 : 1));
      if( a==0 ){ sqlite3_free(aAt); return SQLITE_NOMEM; }
      aAt = a;
    }
    aAt[nAt++] = at;
    at += 12 + n;
  }
  while( nAt>0 ){
    uint64_t off; uint32_t n;
    at = aAt[--nAt];
    memcpy(&off, p->aUndo+at, 8);
    memcpy(&n, p->aUndo+at+8, 4);
    if( off+n<=mb_map_size(p->pMap) ){
      if( mb_map_write(p->pMap, off, p->aUndo+at+12, n)!=MB_OK ){
        rc = SQLITE_IOERR_WRITE;
      }
    }
  }
  sqlite3_free(aAt);
  p->nUndo = nUndo;
  if( nRows>=p->nRows ){
    p->nPend = nRows - p->nRows;
  }else{
    int r2;
    p->nPend = 0;
    r2 = mbMapResize(p->pMap, p->nHeader + nRows*p->nStride);
    if( r2!=MB_OK ) rc = SQLITE_IOERR_TRUNCATE;
    p->nRows = nRows;
    p->nMapSize = mb_map_size(p->pMap);
  }
  if( rc ){
    mbSetErr(p, rc, "membase: %s: cannot roll back", p->zFile);
  }
  return rc;
}

/* Convert SQL value v into field c at pOut; errors name the column. */
static int mbEncode(MbRecTab *p, const MbCol *c, sqlite3_value *v,
                    unsigned char *pOut){
  int t = sqlite3_value_type(v);
  const char *zT = mb_type_name(c->eType);
  if( t==SQLITE_NULL ){
    return mbSetErr(p, SQLITE_CONSTRAINT_NOTNULL, "membase: NULL in column "
                    "\"%s\" (%s): record fields cannot be NULL", c->zName, zT);
  }
  switch( c->eType ){
    case MB_TYPE_F32: case MB_TYPE_F64: {
      double r;
      if( t!=SQLITE_INTEGER && t!=SQLITE_FLOAT ) goto mismatch;
      r = sqlite3_value_double(v);
      if( c->eType==MB_TYPE_F32 ){
        float f;
        uint32_t u;
        if( isfinite(r) && (r>3.4028234663852886e38 || r<-3.4028234663852886e38) ){
          return mbSetErr(p, SQLITE_CONSTRAINT_CHECK, "membase: %s is out of "
                          "range for column \"%s\" (f32)",
                          sqlite3_value_text(v), c->zName);
        }
        f = (float)r;
        memcpy(&u, &f, 4);
        if( c->eKind & K_SWAP ) u = mbSwap32(u);
        memcpy(pOut, &u, 4);
      }else{
        uint64_t u;
        memcpy(&u, &r, 8);
        if( c->eKind & K_SWAP ) u = mbSwap64(u);
        memcpy(pOut, &u, 8);
      }
      return SQLITE_OK;
    }
    case MB_TYPE_CHAR: {
      int n;
      if( t!=SQLITE_TEXT ) goto mismatch;
      n = sqlite3_value_bytes(v);
      if( (uint32_t)n>c->nByte ){
        return mbSetErr(p, SQLITE_CONSTRAINT_CHECK, "membase: text of %d bytes "
                        "is too long for column \"%s\" (char(%u))", n,
                        c->zName, c->nByte);
      }
      memset(pOut, 0, c->nByte);
      memcpy(pOut, sqlite3_value_text(v), (size_t)n);
      return SQLITE_OK;
    }
    case MB_TYPE_BLOB: {
      int n;
      if( t!=SQLITE_BLOB ) goto mismatch;
      n = sqlite3_value_bytes(v);
      if( (uint32_t)n!=c->nByte ){
        return mbSetErr(p, SQLITE_CONSTRAINT_CHECK, "membase: a blob of %d "
                        "bytes does not fit column \"%s\" (blob(%u) takes "
                        "exactly %u)", n, c->zName, c->nByte, c->nByte);
      }
      memcpy(pOut, sqlite3_value_blob(v), (size_t)n);
      return SQLITE_OK;
    }
    default: {
      /* integers and bool */
      int64_t x;
      uint64_t u;
      int64_t lo = 0, hi = 0;
      int bU64 = c->eType==MB_TYPE_U64;
      if( t==SQLITE_INTEGER ){
        x = sqlite3_value_int64(v);
        u = (uint64_t)x;
        if( bU64 && x<0 ) goto range;
      }else if( t==SQLITE_FLOAT ){
        double r = sqlite3_value_double(v);
        if( r!=mbFloor(r) ){
          return mbSetErr(p, SQLITE_MISMATCH, "membase: column \"%s\" (%s) "
                          "takes an integer, not %s", c->zName, zT,
                          sqlite3_value_text(v));
        }
        if( bU64 && r>=9.2233720368547758e18 && r<1.8446744073709552e19 ){
          u = (uint64_t)r;
          x = 0;
          goto store;
        }
        if( r<-9.2233720368547758e18 || r>=9.2233720368547758e18 ) goto range;
        x = (int64_t)r;
        u = (uint64_t)x;
        if( bU64 && x<0 ) goto range;
      }else{
        goto mismatch;
      }
      switch( c->eType ){
        case MB_TYPE_I8:  lo = INT8_MIN;  hi = INT8_MAX;  break;
        case MB_TYPE_I16: lo = INT16_MIN; hi = INT16_MAX; break;
        case MB_TYPE_I32: lo = INT32_MIN; hi = INT32_MAX; break;
        case MB_TYPE_I64: lo = INT64_MIN; hi = INT64_MAX; break;
        case MB_TYPE_U8:  lo = 0; hi = UINT8_MAX;  break;
        case MB_TYPE_U16: lo = 0; hi = UINT16_MAX; break;
        case MB_TYPE_U32: lo = 0; hi = UINT32_MAX; break;
        case MB_TYPE_U64: lo = 0; hi = INT64_MAX; break;
        case MB_TYPE_BOOL: lo = 0; hi = 1; break;
      }
      if( x<lo || x>hi ) goto range;
    store:
      switch( c->nByte ){
        case 1: pOut[0] = (unsigned char)u; break;
        case 2: { uint16_t w = (uint16_t)u;
                  if( c->eKind & K_SWAP ) w = mbSwap16(w);
                  memcpy(pOut, &w, 2); break; }
        case 4: { uint32_t w = (uint32_t)u;
                  if( c->eKind & K_SWAP ) w = mbSwap32(w);
                  memcpy(pOut, &w, 4); break; }
        default: { uint64_t w = u;
                  if( c->eKind & K_SWAP ) w = mbSwap64(w);
                  memcpy(pOut, &w, 8); break; }
      }
      return SQLITE_OK;
    range:
      return mbSetErr(p, SQLITE_CONSTRAINT_CHECK, "membase: %s is out of range "
                      "for column \"%s\" (%s)", sqlite3_value_text(v),
                      c->zName, zT);
    }
  }
mismatch:
  return mbSetErr(p, SQLITE_MISMATCH, "membase: column \"%s\" (%s) takes %s, "
                  "not %s", c->zName,
                  c->eType==MB_TYPE_CHAR ? "char" : zT,
                  c->eType==MB_TYPE_CHAR ? "text" :
                  c->eType==MB_TYPE_BLOB ? "a blob" :
                  (c->eType==MB_TYPE_F32 || c->eType==MB_TYPE_F64) ? "a number" :
                  "an integer",
                  t==SQLITE_TEXT ? "text" : t==SQLITE_BLOB ? "a blob" :
                  t==SQLITE_FLOAT ? "a real" : "an integer");
}

/* Whether SQL value v is the value the field at pOld reads as (xColumn):
** then an UPDATE keeps the field's bytes. An identity assignment (SET
** u = u) must not rewrite a u64 above 2^63 read as REAL, a NaN read as
** NULL, or a bool byte of 2 read as 1. */
static int mbSameAsStored(const MbCol *c, sqlite3_value *v,
                          const unsigned char *pOld){
  int t = sqlite3_value_type(v);
  switch( c->eKind ){
    case K_F32: case K_F64: case K_F32|K_SWAP: case K_F64|K_SWAP: {
      double d = mbGetReal(c, pOld);
      if( isnan(d) ) return t==SQLITE_NULL;
      return t==SQLITE_FLOAT && sqlite3_value_double(v)==d;
    }
    case K_U64: case K_U64|K_SWAP: {
      uint64_t u;
      memcpy(&u, pOld, 8);
      if( c->eKind & K_SWAP ) u = mbSwap64(u);
      if( u>(uint64_t)INT64_MAX ){
        return t==SQLITE_FLOAT && sqlite3_value_double(v)==(double)u;
      }
      return t==SQLITE_INTEGER && (uint64_t)sqlite3_value_int64(v)==u;
    }
    case K_CHAR: {
      int n = (int)c->nByte;
      while( n>0 && pOld[n-1]==0 ) n--;
      return t==SQLITE_TEXT && sqlite3_value_bytes(v)==n
          && memcmp(sqlite3_value_text(v), pOld, (size_t)n)==0;
    }
    case K_BLOB:
      return t==SQLITE_BLOB && sqlite3_value_bytes(v)==(int)c->nByte
          && memcmp(sqlite3_value_blob(v), pOld, c->nByte)==0;
    default:   /* the other integers and bool (mbGetInt reads it as 0/1) */
      return t==SQLITE_INTEGER && sqlite3_value_int64(v)==mbGetInt(c, pOld);
  }
}

/* The sorted key of a record image. */
static int mbKeyLess(MbRecTab *p, const unsigned char *a,
                     const unsigned char *b){
  const MbCol *c = mbKeyCol(p);
  if( p->bSortedFloat ){
    double x = mbGetReal(c, a + c->iOff), y = mbGetReal(c, b + c->iOff);
    return !(x>=y);
  }
  return mbGetInt(c, a + c->iOff) < mbGetInt(c, b + c->iOff);
}

static int mbSortedViolation(MbRecTab *p, uint64_t iRow){
  return mbSetErr(p, SQLITE_CONSTRAINT_CHECK, "membase: the value for column "
                  "\"%s\" of record %llu breaks its declared ascending order",
                  mbKeyCol(p)->zName, (unsigned long long)iRow);
}

/* Store one changed field into the mapping. mb_map_write moves a naturally
** aligned field of 1, 2, 4 or 8 bytes with one atomic store, inside the
** fault guard, so readers never see a torn value and a truncated file is
** an error, not SIGBUS. */
static int mbStoreField(MbRecTab *p, uint64_t off, const MbCol *c,
                        const unsigned char *pNew){
  int rc = mb_map_write(p->pMap, off, pNew, c->nByte);
  if( rc!=MB_OK ){
    return mbSetErr(p, SQLITE_IOERR_WRITE, "membase: %s: cannot write column "
                    "\"%s\": %s", p->zFile, c->zName, mb_strerror(rc));
  }
  return SQLITE_OK;
}

static int mbRecUpdate(
  sqlite3_vtab *pVtab,
  int argc,
  sqlite3_value **argv,
  sqlite_int64 *pRowid
){
  MbRecTab *p = (MbRecTab*)pVtab;
  int i, rc;
  if( p->bReadonly ){
    return mbSetErr(p, SQLITE_READONLY, "membase: table \"%s\" is read-only%s",
                    p->zName, p->bReadonlyOpt ? " (readonly=1)"
                                              : " (the file is not writable)");
  }
  if( argc==1 ){
    return mbSetErr(p, SQLITE_CONSTRAINT, "membase: cannot DELETE from "
                    "\"%s\": a file of fixed-size records has no holes",
                    p->zName);
  }
  rc = mbWriteLock(p);
  if( rc ) return rc;

  if( sqlite3_value_type(argv[0])==SQLITE_NULL ){
    /* INSERT: append */
    uint64_t iNew = p->nRows + p->nPend;
    unsigned char *pRec;
    if( sqlite3_value_type(argv[1])!=SQLITE_NULL
     && (sqlite3_value_type(argv[1])!=SQLITE_INTEGER
         || sqlite3_value_int64(argv[1])!=(sqlite3_int64)iNew) ){
      return mbSetErr(p, SQLITE_CONSTRAINT, "membase: INSERT into \"%s\" "
                      "with rowid %s: records are appended, the next rowid "
                      "is %llu", p->zName, sqlite3_value_text(argv[1]),
                      (unsigned long long)iNew);
    }
    if( iNew >= ((uint64_t)INT64_MAX - p->nHeader) / p->nStride ){
      return mbSetErr(p, SQLITE_FULL, "membase: %s: the file cannot hold "
                      "more records", p->zFile);
    }
    memset(p->aRec, 0, (size_t)p->nStride);
    for(i=0; i<p->nCol; i++){
      rc = mbEncode(p, &p->aCol[i], argv[2+i], p->aRec + p->aCol[i].iOff);
      if( rc ) return rc;
    }
    if( p->iSorted>=0 && iNew>0 ){
      /* the new key must not be smaller than the last one */
      const unsigned char *pLast;
      if( p->nPend ){
        pLast = p->aPend + (p->nPend-1)*p->nStride;
      }else{
        rc = mbRead(p, p->nHeader + (iNew-1)*p->nStride, p->aRec2,
                    (size_t)p->nRecord);
        if( rc ) return rc;
        pLast = p->aRec2;
      }
      if( mbKeyLess(p, p->aRec, pLast) ) return mbSortedViolation(p, iNew);
    }
    if( p->nPend>=p->nPendAlloc ){
      uint64_t nNew = p->nPendAlloc ? p->nPendAlloc*2 : 64;
      unsigned char *a = sqlite3_realloc64(p->aPend, nNew*p->nStride);
      if( a==0 ) return SQLITE_NOMEM;
      p->aPend = a;
      p->nPendAlloc = nNew;
    }
    pRec = p->aPend + p->nPend*p->nStride;
    memcpy(pRec, p->aRec, (size_t)p->nStride);
    p->nPend++;
    *pRowid = (sqlite_int64)iNew;
    if( p->nPend*p->nStride>=MB_PENDING_BYTES ) return mbFlushPending(p);
    return SQLITE_OK;
  }

  /* UPDATE of one record, in place */
  {
    sqlite3_int64 iOld = sqlite3_value_int64(argv[0]);
    uint64_t off;
    if( sqlite3_value_type(argv[1])!=SQLITE_INTEGER
     || sqlite3_value_int64(argv[1])!=iOld ){
      return mbSetErr(p, SQLITE_CONSTRAINT, "membase: cannot change the rowid "
                      "of a record in \"%s\" (it is the record index)",
                      p->zName);
    }
    if( p->nPend ){
      rc = mbFlushPending(p);
      if( rc ) return rc;
    }
    if( iOld<0 || (uint64_t)iOld>=p->nRows ){
      return mbSetErr(p, SQLITE_CONSTRAINT, "membase: no record %lld in "
                      "\"%s\"", iOld, p->zName);
    }
    off = p->nHeader + (uint64_t)iOld*p->nStride;
    rc = mbRead(p, off, p->aRec2, (size_t)p->nRecord);
    if( rc ) return rc;
    memcpy(p->aRec, p->aRec2, (size_t)p->nRecord);
    /* check every assigned value before writing any; a column the
    ** statement does not assign keeps its bytes */
    for(i=0; i<p->nCol; i++){
      if( sqlite3_value_nochange(argv[2+i]) ) continue;
      if( mbSameAsStored(&p->aCol[i], argv[2+i], p->aRec2 + p->aCol[i].iOff) ){
        continue;
      }
      rc = mbEncode(p, &p->aCol[i], argv[2+i], p->aRec + p->aCol[i].iOff);
      if( rc ) return rc;
    }
    if( p->iSorted>=0 ){
      const MbCol *c = mbKeyCol(p);
      if( memcmp(p->aRec+c->iOff, p->aRec2+c->iOff, c->nByte)!=0 ){
        unsigned char aNb[8];
        /* compare with the neighbours' keys */
        if( iOld>0 ){
          rc = mbRead(p, off - p->nStride + c->iOff, aNb, c->nByte);
          if( rc ) return rc;
          memcpy(p->aRec2 + c->iOff, aNb, c->nByte);
          if( mbKeyLess(p, p->aRec, p->aRec2) ) return mbSortedViolation(p, (uint64_t)iOld);
        }
        if( (uint64_t)iOld+1<p->nRows ){
          rc = mbRead(p, off + p->nStride + c->iOff, aNb, c->nByte);
          if( rc ) return rc;
          memcpy(p->aRec2 + c->iOff, aNb, c->nByte);
          if( mbKeyLess(p, p->aRec2, p->aRec) ) return mbSortedViolation(p, (uint64_t)iOld);
        }
        rc = mbRead(p, off, p->aRec2, (size_t)p->nRecord);
        if( rc ) return rc;
      }
    }
    if( memcmp(p->aRec, p->aRec2, (size_t)p->nRecord)==0 ) return SQLITE_OK;
    rc = mbUndoLog(p, off, p->aRec2, (uint32_t)p->nRecord);
    if( rc ) return rc;
    for(i=0; i<p->nCol; i++){
      const MbCol *c = &p->aCol[i];
      if( memcmp(p->aRec+c->iOff, p->aRec2+c->iOff, c->nByte)==0 ) continue;
      rc = mbStoreField(p, off + c->iOff, c, p->aRec + c->iOff);
      if( rc ) return rc;
    }
    if( !p->bDirty || off<p->iDirtyLo ) p->iDirtyLo = off;
    if( !p->bDirty || off+p->nRecord>p->iDirtyHi ) p->iDirtyHi = off+p->nRecord;
    p->bDirty = 1;
  }
  return SQLITE_OK;
}

static int mbRecBegin(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( p->bReadonly ) return SQLITE_OK;
  return mbWriteLock(p);
}

/* COMMIT, phase one: every appended record into the file, the .npy shape,
** then the touched range flushed and the file fsynced. */
static int mbRecSync(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  int rc;
  if( !p->bWriting ) return SQLITE_OK;
  rc = mbFlushPending(p);
  if( rc ) return rc;
  if( p->bDirty ){
    /* A truncation by a process that ignores the lock, while we wrote:
    ** stores into the page that holds the new end of file do not fault,
    ** they vanish. Then COMMIT must fail (and SQLite rolls back). */
    uint64_t nNow = 0, nWant = p->nHeader + p->nRows*p->nStride;
    if( p->iDirtyHi<nWant ) nWant = p->iDirtyHi;
    if( mb_map_stamp(p->pMap, &nNow, 0)==MB_OK && nNow<nWant ){
      return mbSetErr(p, SQLITE_IOERR_WRITE, "membase: %s: the file was "
                      "truncated to %llu bytes while this transaction wrote "
                      "up to byte %llu", p->zFile, (unsigned long long)nNow,
                      (unsigned long long)nWant);
    }
  }
  if( p->bNpy && p->nRows!=p->nTxRows ){
    unsigned char *a = sqlite3_malloc64(p->nHeader);
    if( a==0 ) return SQLITE_NOMEM;
    /* flush the records before the shape that counts them */
    if( p->bDirty ){
      uint64_t nSize = mb_map_size(p->pMap);
      int r2;
      if( p->iDirtyHi>nSize ) p->iDirtyHi = nSize;
      if( p->iDirtyLo>p->iDirtyHi ) p->iDirtyLo = p->iDirtyHi;
      r2 = mb_map_flush(p->pMap, p->iDirtyLo, p->iDirtyHi-p->iDirtyLo,
                        MB_FLUSH_SYNC);
      if( r2!=MB_OK ){
        /* a core code never reaches SQLite: this is COMMIT's I/O error */
        sqlite3_free(a);
        return mbSetErr(p, SQLITE_IOERR_FSYNC, "membase: %s: cannot flush "
                        "the appended records: %s", p->zFile,
                        mb_strerror(r2));
      }
    }
    rc = mbRead(p, 0, a, (size_t)p->nHeader);
    if( rc==SQLITE_OK ) rc = mbUndoLog(p, 0, a, (uint32_t)p->nHeader);
    if( rc==SQLITE_OK ){
      rc = mb_npy_rewrite(&p->npy, p->nRows, a);
      if( rc==SQLITE_FULL ){
        sqlite3_free(a);
        return mbSetErr(p, SQLITE_FULL, "membase: %s: no room in the .npy "
                        "header for the new shape", p->zFile);
      }
    }
    if( rc==SQLITE_OK && mb_map_write(p->pMap, 0, a, (size_t)p->nHeader)!=MB_OK ){
      rc = SQLITE_IOERR_WRITE;
    }
    sqlite3_free(a);
    if( rc ) return mbSetErr(p, rc, "membase: %s: cannot update the .npy "
                             "header", p->zFile);
    p->npy.nRows = p->nRows;
    if( !p->bDirty || p->iDirtyLo>0 ) p->iDirtyLo = 0;
    if( !p->bDirty ) p->iDirtyHi = p->nHeader;
    p->bDirty = 1;
  }
  if( p->bDirty ){
    /* a ROLLBACK TO may have cut the file below the touched range */
    uint64_t nSize = mb_map_size(p->pMap);
    if( p->iDirtyHi>nSize ) p->iDirtyHi = nSize;
    if( p->iDirtyLo>p->iDirtyHi ) p->iDirtyLo = p->iDirtyHi;
    rc = mb_map_flush(p->pMap, p->iDirtyLo, p->iDirtyHi-p->iDirtyLo,
                      MB_FLUSH_SYNC);
    if( rc!=MB_OK ){
      return mbSetErr(p, SQLITE_IOERR_FSYNC, "membase: %s: cannot flush: %s",
                      p->zFile, mb_strerror(rc));
    }
  }
  return SQLITE_OK;
}

static int mbRecCommit(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( !p->bWriting ) return SQLITE_OK;
  if( p->nPend ) (void)mbRecSync(pVtab);   /* xSync was skipped */
  if( p->bJournal ) mbDeleteJournal(p);
  mbWriteUnlock(p);
  return SQLITE_OK;
}

static int mbRecRollback(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  int rc;
  if( !p->bWriting ) return SQLITE_OK;
  rc = mbRollbackTo(p, 0, p->nTxRows);
  if( p->bJournal ) mbDeleteJournal(p);
  mbWriteUnlock(p);
  return rc;
}

static int mbRecSavepoint(sqlite3_vtab *pVtab, int iSave){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( !p->bWriting || iSave<0 ) return SQLITE_OK;
  if( iSave>=p->nSave ){
    MbSavepoint *a = sqlite3_realloc64(p->aSave, sizeof(MbSavepoint)*(uint64_t)(iSave+1));
    int k;
    if( a==0 ) return SQLITE_NOMEM;
    for(k=p->nSave; k<iSave; k++){
      a[k].nUndo = p->nUndo;
      a[k].nRows = p->nRows + p->nPend;
    }
    p->aSave = a;
  }
  p->aSave[iSave].nUndo = p->nUndo;
  p->aSave[iSave].nRows = p->nRows + p->nPend;
  p->nSave = iSave+1;
  return SQLITE_OK;
}

static int mbRecRelease(sqlite3_vtab *pVtab, int iSave){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( iSave<0 ) iSave = 0;
  if( iSave<p->nSave ) p->nSave = iSave;
  return SQLITE_OK;
}

static int mbRecRollbackTo(sqlite3_vtab *pVtab, int iSave){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( !p->bWriting ) return SQLITE_OK;
  if( iSave<0 || iSave>=p->nSave ){
    /* -1: the savepoint that opened the transaction (SAVEPOINT without
    ** BEGIN); or one set before this table joined it: everything */
    return mbRollbackTo(p, 0, p->nTxRows);
  }
  p->nSave = iSave+1;
  return mbRollbackTo(p, p->aSave[iSave].nUndo, p->aSave[iSave].nRows);
}

/* ------------------------------------------------------------ connect */

/* The tables open in this process, for membase_aggregate() to find by
** connection and name. Guarded by SQLITE_MUTEX_STATIC_VFS3. */
typedef struct MbOpen {
  struct MbOpen *pNext;
  MbRecTab *pTab;
} MbOpen;
static MbOpen *mbOpenTabs;

static void mbOpenAdd(MbRecTab *p, MbOpen *pNew){
  sqlite3_mutex *m = sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_VFS3);
  sqlite3_mutex_enter(m);
  pNew->pTab = p;
  pNew->pNext = mbOpenTabs;
  mbOpenTabs = pNew;
  sqlite3_mutex_leave(m);
}

static void mbOpenRemove(MbRecTab *p){
  sqlite3_mutex *m = sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_VFS3);
  MbOpen **pp;
  sqlite3_mutex_enter(m);
  for(pp=&mbOpenTabs; *pp; pp=&(*pp)->pNext){
    if( (*pp)->pTab==p ){
      MbOpen *o = *pp;
      *pp = o->pNext;
      sqlite3_free(o);
      break;
    }
  }
  sqlite3_mutex_leave(m);
}

/* The table SQLite means by [zSchema.]zName: with no schema, temp first,
** then main, then an attached database, as SQLite resolves names. */
static MbRecTab *mbOpenFind(sqlite3 *db, const char *zSchema,
                            const char *zName){
  sqlite3_mutex *m = sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_VFS3);
  MbOpen *o;
  MbRecTab *p = 0;
  int best = 99;
  sqlite3_mutex_enter(m);
  for(o=mbOpenTabs; o; o=o->pNext){
    int rank;
    if( o->pTab->db!=db || sqlite3_stricmp(o->pTab->zName, zName)!=0 ) continue;
    if( zSchema ){
      if( sqlite3_stricmp(o->pTab->zSchema, zSchema)!=0 ) continue;
      rank = 0;
    }else{
      rank = sqlite3_stricmp(o->pTab->zSchema, "temp")==0 ? 0
           : sqlite3_stricmp(o->pTab->zSchema, "main")==0 ? 1 : 2;
    }
    if( rank<best ){ best = rank; p = o->pTab; }
  }
  sqlite3_mutex_leave(m);
  return p;
}

static void mbTabFree(MbRecTab *p){
  if( p==0 ) return;
  mbOpenRemove(p);
  if( p->bWriting ) mbWriteUnlock(p);
  if( p->pMap ) mb_registry_release(p->pMap);
  mb_layout_free(&p->layout);
  mb_npy_free(&p->npy);
  sqlite3_free(p->aCol);
  sqlite3_free(p->zFile);
  sqlite3_free(p->zName);
  sqlite3_free(p->zSchema);
  sqlite3_free(p->aPend);
  sqlite3_free(p->aUndo);
  sqlite3_free(p->aSave);
  sqlite3_free(p->aRec);
  sqlite3_free(p->aRec2);
  sqlite3_free(p->base.zErrMsg);
  sqlite3_free(p);
}

/* An option value with its SQL quotes removed ('it''s' -> it's). */
static char *mbUnquote(const char *z){
  size_t n = strlen(z), i, j;
  char q, *zOut;
  while( n>0 && (z[0]==' ' || z[0]=='\t') ){ z++; n--; }
  while( n>0 && (z[n-1]==' ' || z[n-1]=='\t') ) n--;
  zOut = sqlite3_malloc64(n+1);
  if( zOut==0 ) return 0;
  q = n>=2 ? z[0] : 0;
  if( (q=='\'' || q=='"' || q=='`') && z[n-1]==q ){
    for(i=1, j=0; i<n-1; i++){
      zOut[j++] = z[i];
      if( z[i]==q && i+1<n-1 && z[i+1]==q ) i++;
    }
    zOut[j] = 0;
  }else{
    memcpy(zOut, z, n);
    zOut[n] = 0;
  }
  return zOut;
}

/* A non-negative integer option. */
static int mbParseU64(const char *zOpt, const char *z, uint64_t *pv,
                      char **pzErr){
  uint64_t v = 0;
  const char *s = z;
  if( *s==0 ) goto bad;
  for(; *s; s++){
    if( *s<'0' || *s>'9' ) goto bad;
    if( v > (UINT64_MAX-9)/10 ){
      *pzErr = sqlite3_mprintf("membase: %s=%s is too large", zOpt, z);
      return SQLITE_ERROR;
    }
    v = v*10 + (uint64_t)(*s-'0');
  }
  *pv = v;
  return SQLITE_OK;
bad:
  *pzErr = sqlite3_mprintf("membase: %s=\"%s\" is not a non-negative "
                           "integer", zOpt, z);
  return SQLITE_ERROR;
}

static int mbParseBool(const char *zOpt, const char *z, int *pb, char **pzErr){
  if( strcmp(z, "1")==0 || sqlite3_stricmp(z, "true")==0
   || sqlite3_stricmp(z, "yes")==0 || sqlite3_stricmp(z, "on")==0 ){
    *pb = 1; return SQLITE_OK;
  }
  if( strcmp(z, "0")==0 || sqlite3_stricmp(z, "false")==0
   || sqlite3_stricmp(z, "no")==0 || sqlite3_stricmp(z, "off")==0 ){
    *pb = 0; return SQLITE_OK;
  }
  *pzErr = sqlite3_mprintf("membase: %s=\"%s\" is not a boolean (0 or 1)",
                           zOpt, z);
  return SQLITE_ERROR;
}

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

static int mbParseOpts(int argc, const char *const *argv, MbOpts *o,
                       char **pzErr){
  int i;
  memset(o, 0, sizeof(*o));
  o->eDrop = -1;
  for(i=3; i<argc; i++){
    const char *zArg = argv[i];
    const char *zEq = strchr(zArg, '=');
    char zKey[32];
    size_t nKey;
    char *zVal;
    int rc = SQLITE_OK;
    if( zEq==0 ){
      *pzErr = sqlite3_mprintf("membase: expected option=value, found \"%s\"",
                               zArg);
      return SQLITE_ERROR;
    }
    while( *zArg==' ' || *zArg=='\t' || *zArg=='\n' ) zArg++;
    nKey = (size_t)(zEq - zArg);
    while( nKey>0 && (zArg[nKey-1]==' ' || zArg[nKey-1]=='\t') ) nKey--;
    if( nKey==0 || nKey>=sizeof(zKey) ){
      *pzErr = sqlite3_mprintf("membase: unknown option \"%.*s\"",
                               (int)nKey, zArg);
      return SQLITE_ERROR;
    }
    memcpy(zKey, zArg, nKey);
    zKey[nKey] = 0;
    zVal = mbUnquote(zEq+1);
    if( zVal==0 ) return SQLITE_NOMEM;
#define MB_STR_OPT(name, field) \
    if( sqlite3_stricmp(zKey, name)==0 ){ \
      if( o->field ){ \
        *pzErr = sqlite3_mprintf("membase: option \"%s\" given twice", name); \
        sqlite3_free(zVal); return SQLITE_ERROR; \
      } \
      o->field = zVal; continue; \
    }
    MB_STR_OPT("file", zFile)
    MB_STR_OPT("layout", zLayout)
    MB_STR_OPT("sorted", zSorted)
#undef MB_STR_OPT
    if( sqlite3_stricmp(zKey, "readonly")==0 ){
      rc = mbParseBool(zKey, zVal, &o->bReadonly, pzErr);
    }else if( sqlite3_stricmp(zKey, "create")==0 ){
      rc = mbParseBool(zKey, zVal, &o->bCreate, pzErr);
    }else if( sqlite3_stricmp(zKey, "verify")==0 ){
      rc = mbParseBool(zKey, zVal, &o->bVerify, pzErr);
    }else if( sqlite3_stricmp(zKey, "byteorder")==0 ){
      o->bByteorder = 1;
      if( sqlite3_stricmp(zVal, "little")==0 ) o->bBig = 0;
      else if( sqlite3_stricmp(zVal, "big")==0 ) o->bBig = 1;
      else{
        *pzErr = sqlite3_mprintf("membase: byteorder=\"%s\": expected little "
                                 "or big", zVal);
        rc = SQLITE_ERROR;
      }
    }else if( sqlite3_stricmp(zKey, "align")==0 ){
      o->bAlign = 1;
      if( sqlite3_stricmp(zVal, "natural")==0 ) o->bNatural = 1;
      else if( sqlite3_stricmp(zVal, "packed")==0 ) o->bNatural = 0;
      else{
        *pzErr = sqlite3_mprintf("membase: align=\"%s\": expected natural or "
                                 "packed", zVal);
        rc = SQLITE_ERROR;
      }
    }else if( sqlite3_stricmp(zKey, "stride")==0 ){
      o->bStride = 1;
      rc = mbParseU64(zKey, zVal, &o->nStride, pzErr);
    }else if( sqlite3_stricmp(zKey, "header")==0 ){
      o->bHeader = 1;
      rc = mbParseU64(zKey, zVal, &o->nHeader, pzErr);
    }else if( sqlite3_stricmp(zKey, "dropbehind")==0 ){
      mb_dropbehind d;
      if( mb_dropbehind_parse(zVal, &d)!=MB_OK ){
        *pzErr = sqlite3_mprintf("membase: dropbehind=\"%s\": expected auto, "
                                 "on or off", zVal);
        rc = SQLITE_ERROR;
      }else{
        o->eDrop = (int)d;
      }
    }else if( sqlite3_stricmp(zKey, "tail")==0 ){
      if( sqlite3_stricmp(zVal, "ignore")==0 ) o->bTailIgnore = 1;
      else if( sqlite3_stricmp(zVal, "error")==0 ) o->bTailIgnore = 0;
      else{
        *pzErr = sqlite3_mprintf("membase: tail=\"%s\": expected error or "
                                 "ignore", zVal);
        rc = SQLITE_ERROR;
      }
    }else{
      *pzErr = sqlite3_mprintf("membase: unknown option \"%s\"", zKey);
      rc = SQLITE_ERROR;
    }
    sqlite3_free(zVal);
    if( rc ) return rc;
  }
  if( o->zFile==0 || o->zFile[0]==0 ){
    *pzErr = sqlite3_mprintf("membase: the file= option is required");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

static int mbOpenFail(int rc, const char *zFile, int bCreate, char **pzErr){
  if( rc==MB_ENOENT && !bCreate ){
    *pzErr = sqlite3_mprintf("membase: cannot open \"%s\": no such file "
                             "(create=1 creates it)", zFile);
  }else{
    *pzErr = sqlite3_mprintf("membase: cannot open \"%s\": %s", zFile,
                             mb_strerror(rc));
  }
  /* SQLITE_NOMEM would make SQLite drop the message for its own "out of
  ** memory": only a heap allocation that failed (no OS error) is one. A
  ** mapping the OS refused (ENOMEM from mmap: address space) names the file. */
  return rc==MB_ENOMEM && mb_last_oserror()==0 ? SQLITE_NOMEM : SQLITE_CANTOPEN;
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
  sqlite3_str *pSql = 0;
  char *zSql = 0;
  int rc, i, bNew = 0;
  unsigned flags;
  (void)pAux;

  rc = mbParseOpts(argc, argv, &o, pzErr);
  if( rc ) goto fail;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ){ rc = SQLITE_NOMEM; goto fail; }
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->iSorted = -1;
  p->eAdvice = -1;
  p->nMapSize = (uint64_t)-1;
  p->zFile = sqlite3_mprintf("%s", o.zFile);
  p->zName = sqlite3_mprintf("%s", argv[2]);
  p->zSchema = sqlite3_mprintf("%s", argv[1]);
  if( p->zFile==0 || p->zName==0 ){ rc = SQLITE_NOMEM; goto fail; }
  p->bNpy = mbEndsWith(o.zFile, ".npy");
  p->bTailIgnore = o.bTailIgnore;
  p->eDrop = o.eDrop;
  p->bReadonly = p->bReadonlyOpt = o.bReadonly;
  if( p->bNpy ){
    const char *zBad = o.bStride ? "stride" : o.bHeader ? "header"
                     : o.bByteorder ? "byteorder" : o.bAlign ? "align" : 0;
    if( zBad ){
      *pzErr = sqlite3_mprintf("membase: option \"%s\" does not apply to a "
                               ".npy file (its header describes the records)",
                               zBad);
      rc = SQLITE_ERROR; goto fail;
    }
  }else if( o.zLayout==0 ){
    *pzErr = sqlite3_mprintf("membase: the layout= option is required "
                             "(except for .npy files)");
    rc = SQLITE_ERROR; goto fail;
  }
  if( o.bCreate && o.bReadonly ){
    *pzErr = sqlite3_mprintf("membase: create=1 and readonly=1 exclude each "
                             "other");
    rc = SQLITE_ERROR; goto fail;
  }
  if( o.zLayout ){
    rc = mb_layout_parse(o.zLayout, o.bBig, o.bNatural, &p->layout, pzErr);
    if( rc ) goto fail;
  }

  /* open: read-write unless readonly=1; a read-only file falls back */
  flags = o.bReadonly ? 0u : MB_MAP_WRITE;
  if( o.bCreate ) flags |= MB_MAP_WRITE|MB_MAP_CREATE;
  {
    mb_map *pExisting = 0;
    if( o.bCreate ){
      int r0 = mb_registry_lookup(o.zFile, &pExisting);
      bNew = r0==MB_ENOENT;
    }
    rc = mb_registry_acquire(o.zFile, flags, &p->pMap);
    if( (rc==MB_EREADONLY || rc==MB_EACCES) && !o.bCreate && !o.bReadonly ){
      int r2 = mb_registry_acquire(o.zFile, 0, &p->pMap);
      if( r2==MB_OK ){ rc = MB_OK; p->bReadonly = 1; }
    }
    if( rc!=MB_OK ){
      p->pMap = 0;
      rc = mbOpenFail(rc, o.zFile, o.bCreate, pzErr);
      goto fail;
    }
  }
  (void)mbMapRefresh(p->pMap);

  if( p->bNpy ){
    uint64_t nSize = mb_map_size(p->pMap);
    if( nSize==0 && o.bCreate ){
      unsigned char *aHdr = 0;
      size_t nHdr = 0;
      if( o.zLayout==0 ){
        *pzErr = sqlite3_mprintf("membase: create=1 of a new .npy file needs "
                                 "layout=");
        rc = SQLITE_ERROR; goto fail;
      }
      rc = mb_npy_new_header(&p->layout, p->layout.nRecord, &aHdr, &nHdr, pzErr);
      if( rc ) goto fail;
      if( mbMapResize(p->pMap, nHdr)!=MB_OK
       || mb_map_write(p->pMap, 0, aHdr, nHdr)!=MB_OK
       || mb_map_flush(p->pMap, 0, 0, MB_FLUSH_SYNC)!=MB_OK ){
        sqlite3_free(aHdr);
        *pzErr = sqlite3_mprintf("membase: %s: cannot write the .npy header",
                                 o.zFile);
        rc = SQLITE_IOERR; goto fail;
      }
      sqlite3_free(aHdr);
      mb_layout_free(&p->layout);
    }
    /* parse the header */
    {
      unsigned char aPre[MB_NPY_PREFIX];
      uint64_t nHdr = 0;
      unsigned char *aHdr;
      nSize = mb_map_size(p->pMap);
      memset(aPre, 0, sizeof(aPre));
      if( nSize>0 && mb_map_read(p->pMap, 0, aPre,
                                 nSize<MB_NPY_PREFIX ? (size_t)nSize : MB_NPY_PREFIX)!=MB_OK ){
        *pzErr = sqlite3_mprintf("membase: %s: cannot read", o.zFile);
        rc = SQLITE_IOERR; goto fail;
      }
      rc = mb_npy_header_size(aPre, nSize, o.zFile, &nHdr, pzErr);
      if( rc ) goto fail;
      aHdr = sqlite3_malloc64(nHdr+1);
      if( aHdr==0 ){ rc = SQLITE_NOMEM; goto fail; }
      if( mb_map_read(p->pMap, 0, aHdr, (size_t)nHdr)!=MB_OK ){
        sqlite3_free(aHdr);
        *pzErr = sqlite3_mprintf("membase: %s: cannot read", o.zFile);
        rc = SQLITE_IOERR; goto fail;
      }
      aHdr[nHdr] = 0;
      {
        /* layout= (kept from create=1 in the schema) must agree with the
        ** header that describes the file */
        mb_layout given = p->layout;
        memset(&p->layout, 0, sizeof(p->layout));
        rc = mb_npy_parse(aHdr, (size_t)nHdr, o.zFile, &p->npy, &p->layout,
                          pzErr);
        sqlite3_free(aHdr);
        if( rc==SQLITE_OK && given.nField>0 && !mbSameLayout(&given, &p->layout) ){
          *pzErr = sqlite3_mprintf("membase: %s: layout= does not match the "
                                   ".npy header of the existing file", o.zFile);
          rc = SQLITE_ERROR;
        }
        mb_layout_free(&given);
        if( rc ) goto fail;
      }
      p->nHeader = p->npy.nHeader;
      p->nStride = p->layout.nRecord;
      if( p->npy.nDim==0 && !p->bReadonly ){
        p->bReadonly = 1;  /* a scalar cannot grow */
      }
      if( p->npy.nRows > UINT64_MAX / (p->nStride ? p->nStride : 1)
       || p->npy.nRows * p->nStride > nSize - p->nHeader ){
        *pzErr = sqlite3_mprintf("membase: %s: the .npy header says %llu "
                                 "rows but the file holds only %llu", o.zFile,
                                 (unsigned long long)p->npy.nRows,
                                 (unsigned long long)((nSize-p->nHeader)/
                                   (p->nStride ? p->nStride : 1)));
        rc = SQLITE_CORRUPT_VTAB; goto fail;
      }
    }
  }else{
    p->nHeader = o.nHeader;
    p->nStride = o.bStride ? o.nStride : p->layout.nRecord;
    if( o.bStride && o.nStride<p->layout.nRecord ){
      *pzErr = sqlite3_mprintf("membase: stride %llu is smaller than the "
                               "record layout (%llu bytes)",
                               (unsigned long long)o.nStride,
                               (unsigned long long)p->layout.nRecord);
      rc = SQLITE_ERROR; goto fail;
    }
    if( p->nStride>MB_LAYOUT_MAX_RECORD ){
      *pzErr = sqlite3_mprintf("membase: stride %llu is larger than %llu "
                               "bytes", (unsigned long long)p->nStride,
                               (unsigned long long)MB_LAYOUT_MAX_RECORD);
      rc = SQLITE_ERROR; goto fail;
    }
    if( p->nHeader>(uint64_t)INT64_MAX ){
      *pzErr = sqlite3_mprintf("membase: header=%llu is too large",
                               (unsigned long long)p->nHeader);
      rc = SQLITE_ERROR; goto fail;
    }
    if( bNew && p->nHeader>0 && mb_map_size(p->pMap)==0 ){
      /* a new file with a header: zeros for the header */
      if( mbMapResize(p->pMap, p->nHeader)!=MB_OK ){
        *pzErr = sqlite3_mprintf("membase: %s: cannot create the header",
                                 o.zFile);
        rc = SQLITE_IOERR; goto fail;
      }
    }
  }
  if( p->nStride==0 || p->layout.nRecord==0 ){
    *pzErr = sqlite3_mprintf("membase: %s: record size is 0", o.zFile);
    rc = SQLITE_ERROR; goto fail;
  }
  p->nRecord = p->layout.nRecord;

  /* columns */
  p->nCol = p->layout.nCol;
  p->aCol = sqlite3_malloc64(sizeof(MbCol)*(uint64_t)p->nCol);
  p->aRec = sqlite3_malloc64(p->nStride);
  p->aRec2 = sqlite3_malloc64(p->nStride);
  if( p->aCol==0 || p->aRec==0 || p->aRec2==0 ){ rc = SQLITE_NOMEM; goto fail; }
  pSql = sqlite3_str_new(0);
  sqlite3_str_appendf(pSql, "CREATE TABLE x(");
  for(i=0, rc=0; i<p->layout.nField; i++){
    const mb_field *f = &p->layout.aField[i];
    MbCol *c;
    int k;
    if( f->zName==0 ) continue;
    c = &p->aCol[rc];
    c->zName = f->zName;
    c->eType = f->eType;
    c->nByte = f->nByte;
    c->iOff = (uint32_t)f->iOff;
    k = f->eType<=MB_TYPE_F64 ? f->eType - MB_TYPE_I8 + K_I8
      : f->eType==MB_TYPE_BOOL ? K_BOOL : f->eType==MB_TYPE_CHAR ? K_CHAR
      : K_BLOB;
    if( f->bBig && f->nByte>1 && f->eType<=MB_TYPE_F64 ) k |= K_SWAP;
    c->eKind = k;
    if( o.zSorted && sqlite3_stricmp(o.zSorted, f->zName)==0 ) p->iSorted = rc;
    sqlite3_str_appendf(pSql, "%s\"%w\" %s", rc ? ", " : "", f->zName,
                        mb_type_sql(f->eType));
    rc++;
  }
  sqlite3_str_appendf(pSql, ")");
  zSql = sqlite3_str_finish(pSql);
  pSql = 0;
  if( zSql==0 ){ rc = SQLITE_NOMEM; goto fail; }
  if( o.zSorted ){
    const MbCol *c;
    if( p->iSorted<0 ){
      *pzErr = sqlite3_mprintf("membase: sorted=%s: no such column", o.zSorted);
      rc = SQLITE_ERROR; goto fail;
    }
    c = &p->aCol[p->iSorted];
    if( c->eType==MB_TYPE_U64 || c->eType==MB_TYPE_CHAR
     || c->eType==MB_TYPE_BLOB ){
      *pzErr = sqlite3_mprintf("membase: sorted=%s: the sorted column must be "
                               "an integer (not u64) or float column, not %s",
                               o.zSorted, mb_type_name(c->eType));
      rc = SQLITE_ERROR; goto fail;
    }
    p->bSortedFloat = c->eType==MB_TYPE_F32 || c->eType==MB_TYPE_F64;
  }

  /* recover an append a dead writer left, if no one is writing now */
  if( !p->bReadonly && !p->bNpy && mbTokenTry(p) ){
    if( mb_map_lock(p->pMap, MB_LOCK_EXCLUSIVE|MB_LOCK_NOWAIT)==MB_OK ){
      rc = mbRecover(p);
      (void)mb_map_lock(p->pMap, MB_LOCK_UNLOCK);
      if( rc ){
        mbTokenRelease(p);
        *pzErr = sqlite3_mprintf("%s", p->base.zErrMsg);
        goto fail;
      }
    }
    mbTokenRelease(p);
  }
  rc = mbRefresh(p);
  if( rc ){
    *pzErr = sqlite3_mprintf("%s", p->base.zErrMsg);
    goto fail;
  }
  if( o.bVerify && p->iSorted>=0 ){
    rc = mbVerifySorted(p);
    if( rc ){
      *pzErr = sqlite3_mprintf("%s", p->base.zErrMsg);
      goto fail;
    }
  }

  rc = sqlite3_declare_vtab(db, zSql);
  if( rc ) goto fail;
  {
    MbOpen *pOpen = sqlite3_malloc64(sizeof(*pOpen));
    if( pOpen==0 ){ rc = SQLITE_NOMEM; goto fail; }
    mbOpenAdd(p, pOpen);
  }
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  sqlite3_free(zSql);
  sqlite3_free(p->base.zErrMsg);
  p->base.zErrMsg = 0;
  mbOptsFree(&o);
  *ppVtab = &p->base;
  return SQLITE_OK;

fail:
  if( pSql ) sqlite3_free(sqlite3_str_finish(pSql));
  sqlite3_free(zSql);
  mbTabFree(p);
  mbOptsFree(&o);
  return rc;
}

static int mbRecDisconnect(sqlite3_vtab *pVtab){
  mbTabFree((MbRecTab*)pVtab);
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
  if( p->bWriting && (p->nPend || p->nUndo || p->bDirty || p->bJournal
                      || p->nRows!=p->nTxRows) ){
    mbSetErr(p, SQLITE_LOCKED, "membase: cannot DROP TABLE \"%s\" inside "
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
  .xCreate       = mbRecConnect,
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
};

/* ------------------------------------------------------------ aggregates */

int mb_records_aggregate_prepare(
  sqlite3 *db,
  const char *zTab,
  const char *zCol,
  const char *zKey,
  sqlite3_value *pLo,
  sqlite3_value *pHi,
  mb_records_span *pOut,
  char **pzErr
){
  MbRecTab *p;
  int i, rc, iCol = -1, bKey = 0;
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
      *pzErr = sqlite3_mprintf("membase_aggregate: no membase table \"%s\"",
                               zTab);
      return SQLITE_ERROR;
    }
  }
  for(i=0; i<p->nCol; i++){
    if( sqlite3_stricmp(p->aCol[i].zName, zCol)==0 ){ iCol = i; break; }
  }
  if( iCol<0 ){
    *pzErr = sqlite3_mprintf("membase_aggregate: table \"%s\" has no column "
                             "\"%s\"", zTab, zCol);
    return SQLITE_ERROR;
  }
  if( p->aCol[iCol].eType>MB_TYPE_BOOL ){
    *pzErr = sqlite3_mprintf("membase_aggregate: column \"%s\" (%s) is not "
                             "numeric", zCol, mb_type_name(p->aCol[iCol].eType));
    return SQLITE_ERROR;
  }
  if( zKey && sqlite3_stricmp(zKey, "rowid")!=0 ){
    if( p->iSorted<0 || sqlite3_stricmp(zKey, p->aCol[p->iSorted].zName)!=0 ){
      *pzErr = sqlite3_mprintf("membase_aggregate: \"%s\" is neither rowid "
                               "nor the sorted column of \"%s\"", zKey, zTab);
      return SQLITE_ERROR;
    }
    bKey = 1;
  }
  if( p->nPend ){
    rc = mbFlushPending(p);
    if( rc ) goto vtab_error;
  }
  rc = mbRefresh(p);
  if( rc ) goto vtab_error;
  hi = p->nRows;
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
    if( rc ) goto vtab_error;
  }else if( iv.bEmpty || iv.iHi<0 ){
    hi = 0;
  }else{
    if( iv.iLo>0 ) lo = (uint64_t)iv.iLo;
    if( (uint64_t)iv.iHi < hi ) hi = (uint64_t)iv.iHi + 1;
  }
  if( lo>hi ) lo = hi;
  memset(pOut, 0, sizeof(*pOut));
  pOut->pMap = p->pMap;
  pOut->eDrop = p->eDrop;
  pOut->nHeader = p->nHeader;
  pOut->nStride = p->nStride;
  pOut->iFirst = lo;
  pOut->iEnd = hi;
  pOut->iOff = p->aCol[iCol].iOff;
  pOut->nByte = p->aCol[iCol].nByte;
  pOut->eType = p->aCol[iCol].eType;
  pOut->bBig = (p->aCol[iCol].eKind & K_SWAP)!=0;
  pOut->zFile = p->zFile;
  if( lo<hi ){
    mbAdvise(p, MB_ADV_SEQUENTIAL);
  }
  return SQLITE_OK;

vtab_error:
  *pzErr = sqlite3_mprintf("%s", p->base.zErrMsg ? p->base.zErrMsg
                                                 : sqlite3_errstr(rc));
  sqlite3_free(p->base.zErrMsg);
  p->base.zErrMsg = 0;
  return rc;
}

int mb_records_register(sqlite3 *db){
  int rc = sqlite3_create_module(db, "membase", &mbRecModule, 0);
  if( rc==SQLITE_OK ) rc = mb_aggregate_register(db);
  return rc;
}
