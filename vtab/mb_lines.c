/*
** mb_lines.c -- text files as SQL tables: membase_lines, one row per line
** of a file, read in place from the file's shared mapping.
**
**   SELECT count(*) FROM membase_lines('app.log') WHERE line LIKE '%ERROR%';
**   SELECT rowid, line FROM membase_lines('app.log') WHERE rowid BETWEEN 1000 AND 1010;
**   SELECT line FROM membase_lines('data.csv', ',');
**   CREATE VIRTUAL TABLE logs USING membase_lines(file = '/var/log/app.log', delimiter = '\n');
**   SELECT membase_lines_index('app.log');   -- the cached line index, as JSON
**
** The planner's contract (xBestIndex)
**   Constraints used; none but file and delimiter is omitted, so SQLite
**   checks every other one again on each row it gets and a pushdown only
**   has to keep every row SQLite would keep:
**   - file = ?, delimiter = ? (the function form's hidden columns):
**     consumed (omitted); they choose the file, they filter no row.
**   - rowid = ?: the first one. rowid IN (list or subquery) reaches it as
**     one rowid = ? per value (SQLite runs xFilter once per value, from
**     its ephemeral index: ascending, duplicates removed). The plan says
**     SQLITE_INDEX_SCAN_UNIQUE: a non-integral REAL (rowid = 2.5) seeks
**     lines 2..3 and TEXT/NULL gives no bound, but SQLite's re-check
**     keeps at most one row in every case.
**   - rowid >, >=, <, <= (BETWEEN is two of them): the first lower and the
**     first upper bound, used when there is no rowid =.
**   - line LIKE ? / line GLOB ?: the first one, as a prefilter (see
**     "Speed"): only lines holding the pattern's literal reach SQLite,
**     which applies the pattern itself. NOT LIKE, LIKE ... ESCAPE,
**     REGEXP, MATCH and anything on offset or length are left to SQLite.
**   - A plan without file = ? (SQLite asks for one per branch of an OR,
**     with only that branch's terms) costs 1e300, so a plan with the file
**     always wins; if there is none, xFilter reports the missing file.
**   LIMIT and OFFSET are never consumed. They may be only when nothing is
**   left for SQLite to do after the scan: every WHERE term consumed, and
**   ORDER BY absent or consumed. Here a rowid or LIKE term is never
**   consumed (SQLite re-checks it: a LIKE is a prefilter, a REAL bound is
**   rounded), so LIMIT stays with SQLite, which simply stops asking for
**   rows once it has enough; in particular never with a LIKE, nor with
**   ORDER BY line (SQLite sorts every row first).
**   ORDER BY: consumed only for ORDER BY rowid (ascending), the order
**   lines come out in. ORDER BY rowid DESC, line, offset, ...: SQLite
**   sorts.
**   Rowid bounds of another type follow SQLite's comparison rules for an
**   INTEGER column: a TEXT value that looks like a number is that number
**   ('5', ' 5 ', '5.0'), as numeric affinity makes it; INTEGER bounds are
**   exact; REAL bounds are rounded outwards (rowid > 2.5 starts at 3,
**   rowid = 2.5 seeks lines 2..3 and SQLite keeps none); +-1e999 (inf)
**   and reals past 2^63 clamp to the int64 range (rowid < -1e999: no row;
**   rowid > -1e999: every row). NULL, a BLOB, or TEXT that is not a
**   number give no bound: SQLite decides (a comparison with NULL is never
**   true; every INTEGER is less than any TEXT or BLOB, so rowid < 'abc'
**   is every row and rowid > 'abc' none). An empty range (upper bound
**   below the lower, or below 1) reads nothing; a lower bound past the
**   last line costs a line index lookup and returns no row.
**
** Memory
**   CREATE ... USING membase_lines(file = F, dropbehind = auto|on|off):
**   whether a scan gives the pages it has passed back to the OS, so that
**   one pass over a log larger than memory does not push everything else
**   out of the page cache (core mb_scan drop-behind; rowid lookups never
**   do). auto, the default unless the process default says otherwise:
**   when the file is larger than half the memory the process may use, or
**   under memory pressure. The function form uses the process default.
**
** Two forms
**   membase_lines(FILE [, DELIMITER])  an eponymous table-valued function:
**       usable at once, no CREATE needed. FILE and DELIMITER are its hidden
**       columns `file` and `delimiter`, so they may also come from a join:
**       SELECT f.name, count(*) FROM files f, membase_lines(f.name) GROUP BY 1;
**   CREATE VIRTUAL TABLE t USING membase_lines(file = PATH [, delimiter = D])
**       a named table over one file. Options are key = value, the value
**       optionally quoted ('...' or "..."); file is required. The options
**       are checked at CREATE; the file is opened by each query, so a table
**       whose file is gone can still be dropped, and its queries name the
**       missing file.
**
** Columns
**   line       TEXT     the line, without its delimiter and, when the
**                       delimiter is \n, without a trailing \r (CRLF files)
**   offset     INTEGER  the byte offset of the line's first byte in the file
**   length     INTEGER  bytes in `line` (the \r and the delimiter excluded)
**   rowid               the line number, from 1
**   file, delimiter     hidden: the arguments of the function form
**
**   A line is the bytes up to a delimiter. A last line without one is a
**   line; a delimiter at the very end does not start another (the file
**   "a\nb\n" has 2 lines, "a\nb" too, "" none, "\n" one empty line).
**   DELIMITER is one byte, default \n. It may be written as the byte itself
**   or as an escape: \n \r \t \0 \\ or \xHH (so '\n', as SQL spells it, is
**   a newline).
**
**   Bytes pass through as they are: `line` is TEXT holding the file's
**   bytes, with no UTF-8 validation or repair. Invalid UTF-8 reaches SQL
**   unchanged (length() and substr() then count what SQLite decodes; cast
**   to BLOB to see the bytes). A NUL byte inside a line is kept.
**
** What a query sees
**   Each scan (xFilter) brings the shared mapping up to the file's current
**   size and reads the lines that exist then; lines appended during the
**   scan are left for the next query.
**
** Speed
**   - Scans run at memchr speed over windows of the file (256 KiB copies,
**     see "Safety") with the core's sequential prefetch-ahead.
**   - LIKE and GLOB on `line` with a literal core ('%ERROR%', '*timeout*',
**     'GET /api/%') are pushed into the scan: the longest ASCII literal run
**     of the pattern is searched in the file (SIMD, ASCII case folded for
**     LIKE as SQLite's LIKE does) and only the lines that contain it reach
**     SQLite, which still applies the exact pattern: the pushdown is only a
**     prefilter and never changes a result. (It assumes SQLite's built-in
**     LIKE, whose case folding is ASCII-only; an application-defined like(),
**     e.g. ICU's, folding more than that would see lines dropped.) With
**     several LIKE/GLOB constraints the first one with a literal is used.
**     `NOT LIKE`, LIKE ... ESCAPE and patterns without ASCII literal are
**     evaluated by SQLite on every line.
**   - rowid = N, rowid IN (...), and rowid ranges (>, >=, <, <=, BETWEEN)
**     seek with a line index: the start offset of every 256th line, built
**     the first time a query needs it by one pass over the file, and kept
**     in the core's process-wide cache under the file's identity (device +
**     inode) and the delimiter. Any connection of the process reuses it.
**
** What the line index verifies, and what that costs
**   The index is used only when it is proven to describe the file on disk
**   now. It keeps a 64-bit hash of every byte it was built from (4-lane
**   xxh64-style, fed while building: the build costs no extra pass) and the
**   file's change stamp (the core's mb_map_change_stamp, of the mapped
**   file), read before those bytes: device, inode,
**   size, mtime and ctime. Each query that seeks reads the stamp again:
**   - Stamp unchanged, and it was already 2 s old when it was read: the
**     index is used as it is. Cost: one fstat(), about a microsecond, so a
**     rowid lookup on a large, quiet file stays at microseconds. The ctime
**     is what makes this a proof: every write, truncation and utime moves
**     it and no user can set it (touch -r and rsync -t put the mtime back,
**     not the ctime). A younger stamp is "racy" (a write in the same clock
**     tick as the read would not move it), so it is checked as below.
**   - Anything else (a write, an append, the mtime put back, a racy
**     stamp): the file's bytes the index was built from are
**     hashed again (one pass over them, at memory speed on a warm file:
**     measured 0.04-0.06 s for 256 MiB, where count(*) takes 0.06 s and a
**     proven lookup 0.1-0.3 ms; x86-64, glibc 2.36) and
**     compared. Equal: the index is kept, and if the file grew, extended
**     by reading only the new bytes. Different (an edit anywhere before
**     the indexed end, with or without growth; a same-size rewrite): it is
**     rebuilt from byte 0.
**   So a log that is appended to between queries pays one pass per query
**   that seeks after a change; a file that does not change pays nothing.
**   Not covered: a file system whose clock is not this machine's (a
**   network file system with a skewed clock) can make a racy stamp look
**   old; and hash collisions (2^-64 for an accidental change).
**   membase_lines_index() shows verifies and bytes_verified.
**
**   - Rows come out in rowid order (ORDER BY rowid costs nothing).
**
** membase_lines_index(FILE [, DELIMITER])
**   The cached line index of FILE as JSON, or NULL if there is none (it
**   never builds one):
**     {"every":256, "lines":N, "indexed_bytes":N, "samples":N,
**      "file_size":N, "builds":N, "extends":N, "bytes_read":N,
**      "verifies":N, "bytes_verified":N}
**   lines = delimited lines indexed; indexed_bytes = offset just past the
**   last delimiter indexed; file_size = the size it was built for; builds =
**   scans from byte 0 in this index's history; extends = extensions that
**   read only the new bytes; bytes_read = bytes read by all of them (an
**   extended index of a file of S bytes has bytes_read about S, a rebuilt
**   one more); verifies = times its bytes were hashed again to prove it
**   (see above), bytes_verified = the bytes those passes read.
**
** Mappings
**   Each scan takes the file's mapping from the core's process-wide
**   registry (shared with every other user of the file). Each table (the
**   function form is one table per connection) also keeps the mapping of
**   the last file it scanned until it scans another file or the connection
**   closes, so that consecutive queries of one log do not map, fault in and
**   unmap it every time (about 10% of a warm count(*)). membase_stats shows
**   it; a deleted or rotated file keeps its disk space until then.
**
** Safety
**   Everything here opens files: the module is SQLITE_VTAB_DIRECTONLY and
**   the function SQLITE_DIRECTONLY, so neither can be used from a view,
**   trigger or other schema object.
**
**   A file truncated during a scan is an SQL error, never a crash
**   (SIGBUS). The mapping is never dereferenced directly: the scan copies
**   windows of 256 KiB out of it with the core's fault-guarded copy
**   (mb_map_read), which returns an error instead of dying, and checks the
**   file's size after each copy and at the end of the scan, so a truncation
**   is reported even where the copy read zeros past the new end. Lines are
**   returned with SQLITE_TRANSIENT (SQLite copies the line from the window
**   into its own memory, only for lines whose `line` is asked for).
**   Zero-copy SQLITE_STATIC pointers into the mapping were considered and
**   rejected: SQLite keeps such pointers past the current row (max(line)
**   keeps one until the end of the statement, unchecked), so a truncation
**   at any later moment would kill the process when SQLite reads them. The
**   price of the windows is measured by bench/mb_bench_sql_lines.
**
** Errors name the file:
**   membase_lines: cannot open "/x/y": no such file
**   membase_lines: cannot open "/x": is a directory, not a file
**   membase_lines: cannot open "/x/y": permission denied
**   membase_lines: "/x/app.log.gz" is gzip-compressed: decompress it first
**     (also zstd, bzip2, xz and lz4, detected by their magic bytes)
**   membase_lines: "/x/y" was truncated during the scan
**   membase_lines: delimiter="ab": expected a single byte
**   membase_lines: unknown option "xyz"
**   membase_lines: dropbehind="sometimes": expected auto, on or off
**   membase_lines: option "file" given twice
**   membase_lines: no file given: use membase_lines('path') or CREATE VIRTUAL TABLE ... USING membase_lines(file=path)
**   membase_lines: file is NULL
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_find.h"
#include "mb_line_index.h"
#include "mb_lines.h"
#include "../ext/mb_sqlite.h"
#include "mb_window.h"

#define MB_LINES_SCHEMA \
  "CREATE TABLE x(line TEXT, offset INTEGER, length INTEGER," \
  " file HIDDEN, delimiter HIDDEN)"
enum {
  MB_LINES_LINE = 0,
  MB_LINES_OFFSET,
  MB_LINES_LENGTH,
  MB_LINES_FILE,
  MB_LINES_DELIM
};

/* idxNum bits; the xFilter arguments come in this order. */
#define MB_IDX_FILE   0x001
#define MB_IDX_DELIM  0x002
#define MB_IDX_EQ     0x004   /* rowid = ? */
#define MB_IDX_LO     0x008   /* rowid >= ? (or >) */
#define MB_IDX_LO_GT  0x010   /*   ... it is > */
#define MB_IDX_HI     0x020   /* rowid <= ? (or <) */
#define MB_IDX_HI_LT  0x040   /*   ... it is < */
#define MB_IDX_LIKE   0x080   /* line LIKE ? */
#define MB_IDX_GLOB   0x100   /* line GLOB ? */
#define MB_IDX_NOTEXT 0x200   /* neither line nor length is used (count(*)) */

/* A scan that needs no line's bytes finds this many line ends per guarded
** search of the mapping, looking at most this far ahead per search. */
#define MB_LINES_BATCH      512
#define MB_LINES_BATCH_SPAN (1u << 20)

typedef struct MbLinesTable MbLinesTable;
struct MbLinesTable {
  sqlite3_vtab base;          /* base class: must be first */
  sqlite3 *db;
  char *zFile;                /* CREATE form: the file; 0 for the function */
  char *zDelim;               /* CREATE form: the delimiter as written */
  unsigned char delim;        /* CREATE form: the delimiter */
  int eDrop;                  /* dropbehind=: mb_dropbehind, -1 = default */
  mb_map *pPin;               /* the last file scanned, kept mapped */
};

typedef struct MbLinesCursor MbLinesCursor;
struct MbLinesCursor {
  sqlite3_vtab_cursor base;   /* base class: must be first */
  char *zFile;                /* the file of this scan (for messages) */
  char *zDelimArg;            /* the delimiter argument, as given */
  mb_map *pMap;               /* registry reference, held until close */
  mb_window win;              /* guarded windows over the file */
  int bWin;                   /* win is initialised */
  unsigned char delim;
  int bEof;
  int bChecked;               /* the end-of-scan size check was done */
  uint64_t iEnd;              /* scan bytes [0, iEnd) */
  uint64_t iNext;             /* start of the next line */
  uint64_t iStart, iStop;     /* the current line: [iStart, iStop) */
  sqlite3_int64 iRowid;       /* its number; the line before iNext is iRowid */
  sqlite3_int64 iLast;        /* last rowid wanted */
  int bFind;                  /* prefilter with finder */
  mb_finder finder;
  uint64_t iSearch;           /* search from here (>= iNext, same line) */
  unsigned char *aLine;       /* a line that spans windows, copied */
  size_t nLineAlloc;
  int bNoText;                /* no column needs the bytes: search in place */
  int nEnds, iEnds;           /* aEnds[iEnds..nEnds) are the next line ends */
  uint64_t iChecked;          /* the file was checked to hold [0, iChecked) */
  uint64_t aEnds[MB_LINES_BATCH];
};

/* ------------------------------------------------------------ helpers */

static void mbLinesSetError(sqlite3_vtab *pVtab, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  sqlite3_free(pVtab->zErrMsg);
  pVtab->zErrMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
}

static int mbHexDigit(char c){
  if( c>='0' && c<='9' ) return c-'0';
  if( c>='a' && c<='f' ) return c-'a'+10;
  if( c>='A' && c<='F' ) return c-'A'+10;
  return -1;
}

/* Parse a delimiter: one byte, or an escape. 0 on success. */
static int mbParseDelim(const unsigned char *z, int n, unsigned char *pOut){
  if( n==1 ){ *pOut = z[0]; return 0; }
  if( n==2 && z[0]=='\\' ){
    switch( z[1] ){
      case 'n':  *pOut = '\n'; return 0;
      case 'r':  *pOut = '\r'; return 0;
      case 't':  *pOut = '\t'; return 0;
      case '0':  *pOut = 0;    return 0;
      case '\\': *pOut = '\\'; return 0;
    }
    return 1;
  }
  if( n==4 && z[0]=='\\' && z[1]=='x' ){
    int h = mbHexDigit((char)z[2]), l = mbHexDigit((char)z[3]);
    if( h<0 || l<0 ) return 1;
    *pOut = (unsigned char)(h*16+l);
    return 0;
  }
  return 1;
}

/* The compression format whose magic bytes start z[0..n), or 0. */
static const char *mbCompressed(const unsigned char *z, size_t n){
  if( n>=2 && z[0]==0x1f && z[1]==0x8b ) return "gzip";
  if( n>=4 && z[0]==0x28 && z[1]==0xb5 && z[2]==0x2f && z[3]==0xfd ) return "zstd";
  if( n>=6 && z[0]==0xfd && memcmp(z+1, "7zXZ", 4)==0 && z[5]==0 ) return "xz";
  if( n>=4 && z[0]==0x04 && z[1]==0x22 && z[2]==0x4d && z[3]==0x18 ) return "lz4";
  /* "BZh" + block size digit + the magic of a block or of the end. */
  if( n>=10 && memcmp(z, "BZh", 3)==0 && z[3]>='1' && z[3]<='9'
   && (memcmp(z+4, "\x31\x41\x59\x26\x53\x59", 6)==0
    || memcmp(z+4, "\x17\x72\x45\x38\x50\x90", 6)==0) ) return "bzip2";
  return 0;
}

/* ------------------------------------------------------------ connect */

static int mbLinesConnect(
  sqlite3 *db,
  void *pAux,
  int argc,
  const char *const *argv,
  sqlite3_vtab **ppVtab,
  char **pzErr
){
  MbLinesTable *pTab;
  int rc, i;
  char *zFile = 0, *zDelim = 0;
  unsigned char delim = '\n';
  int eDrop = -1;
  unsigned seen = 0;      /* options given, for the duplicate check */
  (void)pAux;

  /* argv[3..]: key = value options of CREATE VIRTUAL TABLE. */
  for(i=3; i<argc; i++){
    static const char *const azOpt[] = { "file", "dropbehind", "delimiter" };
    static const char *const azDrop[] = { "auto", "on", "off" };
    static const char zWho[] = "membase_lines";
    char *zKey, *zVal;
    int iOpt, e;
    rc = mb_opt_split(zWho, argv[i], -1, 0, &zKey, &zVal, pzErr);
    if( rc ) goto fail_rc;
    for(iOpt=0; iOpt<3 && sqlite3_stricmp(zKey, azOpt[iOpt]); iOpt++){}
    if( iOpt==3 ){
      *pzErr = sqlite3_mprintf("%s: unknown option \"%s\"", zWho, zKey);
      rc = SQLITE_ERROR;
    }else{
      rc = mb_opt_once(zWho, azOpt[iOpt], &seen, iOpt, pzErr);
    }
    if( rc==SQLITE_OK && iOpt==0 ){
      zFile = zVal;
      zVal = 0;
    }else if( rc==SQLITE_OK && iOpt==1 ){
      mb_dropbehind d;
      rc = mb_opt_enum(zWho, zKey, zVal, azDrop, 3, &e, pzErr);
      if( rc==SQLITE_OK && mb_dropbehind_parse(azDrop[e], &d)==MB_OK ){
        eDrop = (int)d;
      }
    }else if( rc==SQLITE_OK && iOpt==2 ){
      if( mbParseDelim((const unsigned char*)zVal, (int)strlen(zVal), &delim) ){
        rc = mb_opt_bad(zWho, zKey, zVal, "a single byte", pzErr);
      }else{
        zDelim = zVal;
        zVal = 0;
      }
    }
    sqlite3_free(zKey);
    sqlite3_free(zVal);
    if( rc ) goto fail_rc;
  }
  /* The eponymous table (named as the module, no options) takes its file
  ** from the hidden column; a created table must name one. */
  if( zFile==0 && !(argc==3 && strcmp(argv[0], argv[2])==0) ){
    *pzErr = sqlite3_mprintf("membase_lines: no file given: use "
        "membase_lines('path') or CREATE VIRTUAL TABLE ... USING "
        "membase_lines(file=path)");
    goto fail;
  }

  rc = sqlite3_declare_vtab(db, MB_LINES_SCHEMA);
  if( rc!=SQLITE_OK ) goto fail_rc;
  /* It opens files named in SQL: direct use only. */
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  pTab = (MbLinesTable*)sqlite3_malloc64(sizeof(*pTab));
  if( pTab==0 ){ rc = SQLITE_NOMEM; goto fail_rc; }
  memset(pTab, 0, sizeof(*pTab));
  pTab->db = db;
  pTab->zFile = zFile;
  pTab->zDelim = zDelim;
  pTab->delim = delim;
  pTab->eDrop = eDrop;
  *ppVtab = &pTab->base;
  return SQLITE_OK;

fail:
  rc = SQLITE_ERROR;
fail_rc:
  sqlite3_free(zFile);
  sqlite3_free(zDelim);
  return rc;
}

static int mbLinesDisconnect(sqlite3_vtab *pVtab){
  MbLinesTable *pTab = (MbLinesTable*)pVtab;
  mb_registry_release(pTab->pPin);
  sqlite3_free(pTab->zFile);
  sqlite3_free(pTab->zDelim);
  sqlite3_free(pTab);
  return SQLITE_OK;
}

/* ------------------------------------------------------------ planning */

static int mbLinesBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  MbLinesTable *pTab = (MbLinesTable*)pVtab;
  int i;
  int iFile = -1, iDelim = -1, iEq = -1, iLo = -1, iHi = -1, iPat = -1;
  int bFileUnusable = 0;
  int idxNum = 0, nArg = 0;
  double cost = 1e6, rows = 1e6;

  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *p = &pInfo->aConstraint[i];
    int op = p->op;
    if( p->iColumn==MB_LINES_FILE && op==SQLITE_INDEX_CONSTRAINT_EQ
     && pTab->zFile==0 ){
      if( p->usable ){ if( iFile<0 ) iFile = i; }
      else bFileUnusable = 1;
      continue;
    }
    if( !p->usable ) continue;
    if( p->iColumn==MB_LINES_DELIM && op==SQLITE_INDEX_CONSTRAINT_EQ
     && pTab->zFile==0 ){
      if( iDelim<0 ) iDelim = i;
    }else if( p->iColumn==-1 ){
      if( op==SQLITE_INDEX_CONSTRAINT_EQ ){
        if( iEq<0 ) iEq = i;
      }else if( op==SQLITE_INDEX_CONSTRAINT_GE || op==SQLITE_INDEX_CONSTRAINT_GT ){
        if( iLo<0 ) iLo = i;
      }else if( op==SQLITE_INDEX_CONSTRAINT_LE || op==SQLITE_INDEX_CONSTRAINT_LT ){
        if( iHi<0 ) iHi = i;
      }
    }else if( p->iColumn==MB_LINES_LINE && iPat<0
           && (op==SQLITE_INDEX_CONSTRAINT_LIKE || op==SQLITE_INDEX_CONSTRAINT_GLOB) ){
      iPat = i;
    }
  }
  if( pTab->zFile==0 && iFile<0 ){
    /* The file would come from a table not yet scanned: another order. */
    if( bFileUnusable ) return SQLITE_CONSTRAINT;
    /* No file = ? at all. SQLite also asks this for one branch of an OR
    ** (WHERE rowid = 3 OR line LIKE ...: one plan per branch, with only
    ** that branch's terms): an error here failed such queries. A plan
    ** that costs more than any other is never chosen when a plan with the
    ** file exists; when none does, xFilter reports the missing file. */
    pInfo->idxNum = 0;
    pInfo->estimatedCost = 1e300;
    pInfo->estimatedRows = INT64_MAX;
    return SQLITE_OK;
  }
  /* Arguments, in the order of the MB_IDX_* bits. The hidden arguments are
  ** omitted (the delimiter column shows the argument as written, which
  ** SQLite could not compare); everything else is checked again by SQLite,
  ** so the pushdowns may be approximate (floor/ceil of a REAL bound). */
  if( iFile>=0 ){
    idxNum |= MB_IDX_FILE;
    pInfo->aConstraintUsage[iFile].argvIndex = ++nArg;
    pInfo->aConstraintUsage[iFile].omit = 1;
  }
  if( iDelim>=0 ){
    idxNum |= MB_IDX_DELIM;
    pInfo->aConstraintUsage[iDelim].argvIndex = ++nArg;
    pInfo->aConstraintUsage[iDelim].omit = 1;
  }
  if( iEq>=0 ){
    idxNum |= MB_IDX_EQ;
    pInfo->aConstraintUsage[iEq].argvIndex = ++nArg;
    cost = 10;
    rows = 1;
    pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  }else{
    if( iLo>=0 ){
      idxNum |= MB_IDX_LO;
      if( pInfo->aConstraint[iLo].op==SQLITE_INDEX_CONSTRAINT_GT ) idxNum |= MB_IDX_LO_GT;
      pInfo->aConstraintUsage[iLo].argvIndex = ++nArg;
      cost /= 2;
      rows /= 2;
    }
    if( iHi>=0 ){
      idxNum |= MB_IDX_HI;
      if( pInfo->aConstraint[iHi].op==SQLITE_INDEX_CONSTRAINT_LT ) idxNum |= MB_IDX_HI_LT;
      pInfo->aConstraintUsage[iHi].argvIndex = ++nArg;
      cost /= (iLo>=0) ? 500 : 2;
      rows /= (iLo>=0) ? 500 : 2;
    }
  }
  if( iPat>=0 ){
    idxNum |= pInfo->aConstraint[iPat].op==SQLITE_INDEX_CONSTRAINT_LIKE
              ? MB_IDX_LIKE : MB_IDX_GLOB;
    pInfo->aConstraintUsage[iPat].argvIndex = ++nArg;
    cost *= 0.5;
    rows *= 0.1;
  }
  /* count(*) and offset need no line's bytes: xNext can then search the
  ** mapping in place instead of copying windows out of it. */
  if( (pInfo->colUsed & (((sqlite3_uint64)1<<MB_LINES_LINE)
                        |((sqlite3_uint64)1<<MB_LINES_LENGTH)))==0 ){
    idxNum |= MB_IDX_NOTEXT;
  }
  /* Lines come out in rowid order. */
  if( pInfo->nOrderBy==1 && pInfo->aOrderBy[0].iColumn==-1
   && !pInfo->aOrderBy[0].desc ){
    pInfo->orderByConsumed = 1;
  }
  pInfo->idxNum = idxNum;
  pInfo->estimatedCost = cost;
  pInfo->estimatedRows = (sqlite3_int64)rows;
  return SQLITE_OK;
}

/* ------------------------------------------------------------ cursor */

static int mbLinesOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  MbLinesCursor *pCur;
  (void)pVtab;
  pCur = (MbLinesCursor*)sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->bEof = 1;
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

/* Drop what one scan holds: the file and its mapping. */
static void mbLinesReset(MbLinesCursor *pCur){
  if( pCur->bWin ){
    mb_window_free(&pCur->win);
    pCur->bWin = 0;
  }
  if( pCur->pMap ){
    mb_registry_release(pCur->pMap);
    pCur->pMap = 0;
  }
  sqlite3_free(pCur->zFile);
  pCur->zFile = 0;
  sqlite3_free(pCur->zDelimArg);
  pCur->zDelimArg = 0;
  pCur->bEof = 1;
  pCur->bFind = 0;
}

static int mbLinesClose(sqlite3_vtab_cursor *cur){
  MbLinesCursor *pCur = (MbLinesCursor*)cur;
  mbLinesReset(pCur);
  sqlite3_free(pCur->aLine);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Report a core error met while reading the file. */
static int mbLinesReadError(MbLinesCursor *pCur, int rc){
  sqlite3_vtab *pVtab = pCur->base.pVtab;
  pCur->bEof = 1;
  if( rc==MB_ENOMEM ) return SQLITE_NOMEM;
  if( rc==MB_EFAULT ){
    mbLinesSetError(pVtab, "membase_lines: \"%s\" was truncated during the scan",
                    pCur->zFile);
  }else{
    mbLinesSetError(pVtab, "membase_lines: cannot read \"%s\": %s",
                    pCur->zFile, mb_strerror(rc));
  }
  return SQLITE_ERROR;
}

/* The scan reached its end: check once that the file still holds what was
** read (a truncation that left the copies readable, zeros past the new
** end of a page, is caught here). */
static int mbLinesFinish(MbLinesCursor *pCur){
  pCur->bEof = 1;
  if( !pCur->bChecked && pCur->bWin ){
    int rc;
    pCur->bChecked = 1;
    rc = mb_window_check(&pCur->win, pCur->iEnd);
    if( rc!=MB_OK ) return mbLinesReadError(pCur, rc);
  }
  return SQLITE_OK;
}

/* Make the line that starts at iNext, ending at the delimiter at iDelimAt
** (or at the end), the current row. */
static void mbLinesSetRow(MbLinesCursor *pCur, uint64_t iDelimAt){
  pCur->iStart = pCur->iNext;
  pCur->iStop = iDelimAt;
  pCur->iNext = iDelimAt<pCur->iEnd ? iDelimAt+1 : pCur->iEnd;
  pCur->iSearch = pCur->iNext;
  pCur->iRowid++;
}

/* The next line, every line: the hot path of a full scan. */
static int mbLinesNextPlain(MbLinesCursor *pCur){
  mb_window *w = &pCur->win;
  uint64_t pos = pCur->iNext, at;
  int rc;
  if( pos>=pCur->iEnd || pCur->iRowid>=pCur->iLast ) return mbLinesFinish(pCur);
  if( pos>=w->off && pos-w->off<w->len ){
    /* No bounds check beyond this: the window holds [off, off+len). */
    size_t i = (size_t)(pos - w->off);
    const unsigned char *hit = memchr(w->buf+i, pCur->delim, w->len-i);
    if( hit ){
      mbLinesSetRow(pCur, w->off + (uint64_t)(hit - w->buf));
      return SQLITE_OK;
    }
  }
  rc = mb_window_find_byte(w, pos, pCur->delim, &at);
  if( rc!=MB_OK ) return mbLinesReadError(pCur, rc);
  if( at>pCur->iEnd ) at = pCur->iEnd;
  mbLinesSetRow(pCur, at);
  return SQLITE_OK;
}

/* One guarded search of the mapping for line ends (mb_guarded_call): it
** only reads [z, z+n) and writes the job, as a guarded call must. */
typedef struct MbEndsJob {
  const unsigned char *z;     /* search [z, z+n) */
  size_t n;
  unsigned char delim;
  uint64_t *aEnd;             /* out: offsets from z of the delimiters found */
  int nMax, nFound;
  size_t nScanned;            /* out: bytes searched */
} MbEndsJob;

static void mbLinesFindEnds(void *ctx){
  MbEndsJob *j = (MbEndsJob*)ctx;
  const unsigned char *p = j->z, *e = j->z + j->n;
  int k = 0;
  while( k<j->nMax ){
    const unsigned char *hit = memchr(p, j->delim, (size_t)(e - p));
    if( hit==0 ){ p = e; break; }
    j->aEnd[k++] = (uint64_t)(hit - j->z);
    p = hit + 1;
  }
  j->nFound = k;
  j->nScanned = (size_t)(p - j->z);
}

/* Find the next batch of line ends at or after pos, searching the mapping
** in place under the fault guard. None found means the last line runs to
** the end without a delimiter. */
static int mbLinesFillEnds(MbLinesCursor *pCur, uint64_t pos){
  pCur->nEnds = pCur->iEnds = 0;
  while( pos<pCur->iEnd ){
    MbEndsJob job;
    uint64_t span = pCur->iEnd - pos;
    int rc;
    if( span>MB_LINES_BATCH_SPAN ) span = MB_LINES_BATCH_SPAN;
    /* Another user of the shared map may have shrunk the view. */
    if( pCur->iEnd>mb_map_size(pCur->pMap) ) return mbLinesReadError(pCur, MB_EFAULT);
    (void)mb_scan_advance(&pCur->win.scan, pos);
    job.z = (const unsigned char*)mb_map_data(pCur->pMap) + pos;
    job.n = (size_t)span;
    job.delim = pCur->delim;
    job.aEnd = pCur->aEnds;
    job.nMax = MB_LINES_BATCH;
    rc = mb_guarded_call(job.z, job.n, mbLinesFindEnds, &job);
    /* A truncation can leave the rest of a page readable as zeros, not a
    ** fault: check the file's size every MiB (and at the end, in Finish). */
    if( rc==MB_OK && pos + job.nScanned >= pCur->iChecked + MB_LINES_BATCH_SPAN ){
      pCur->iChecked = pos + job.nScanned;
      rc = mb_window_check(&pCur->win, pCur->iChecked);
    }
    if( rc!=MB_OK ) return mbLinesReadError(pCur, rc);
    if( job.nFound>0 ){
      int i;
      for(i=0; i<job.nFound; i++) pCur->aEnds[i] += pos;
      pCur->nEnds = job.nFound;
      return SQLITE_OK;
    }
    pos += span;
  }
  return SQLITE_OK;
}

/* The next line when no column needs its bytes (count(*), offset). */
static int mbLinesNextNoText(MbLinesCursor *pCur){
  if( pCur->iNext>=pCur->iEnd || pCur->iRowid>=pCur->iLast ) return mbLinesFinish(pCur);
  if( pCur->iEnds>=pCur->nEnds ){
    int rc = mbLinesFillEnds(pCur, pCur->iNext);
    if( rc!=SQLITE_OK ) return rc;
  }
  if( pCur->iEnds<pCur->nEnds ){
    mbLinesSetRow(pCur, pCur->aEnds[pCur->iEnds++]);
  }else{
    mbLinesSetRow(pCur, pCur->iEnd);
  }
  return SQLITE_OK;
}

/* The next line that contains the literal of the LIKE/GLOB pattern. */
static int mbLinesNextFind(MbLinesCursor *pCur){
  mb_window *w = &pCur->win;
  const size_t n = pCur->finder.n;
  int rc;
  for(;;){
    uint64_t s = pCur->iSearch, wEnd;
    const unsigned char *base, *hit;
    size_t i;
    uint64_t k;
    /* The search never starts before the current line (see mbLinesSeek). */
    if( s<pCur->iNext ) s = pCur->iSearch = pCur->iNext;
    if( s>=pCur->iEnd || pCur->iRowid>=pCur->iLast ) return mbLinesFinish(pCur);
    /* Load a window at s unless the current one holds s and room for a
    ** whole match after it (or the rest of the scan). */
    if( !(s>=w->off && s-w->off<w->len)
     || (w->off+w->len<pCur->iEnd && w->off+w->len-s<n) ){
      rc = mb_window_load(w, s);
      if( rc!=MB_OK ) return mbLinesReadError(pCur, rc);
    }
    wEnd = w->off + w->len;
    if( wEnd>pCur->iEnd ) wEnd = pCur->iEnd;
    i = (size_t)(s - w->off);
    base = w->buf + i;
    hit = mb_finder_find(&pCur->finder, base, (size_t)(wEnd - s));
    if( hit==0 ){
      /* Count the lines passed; search on from where a match could still
      ** begin (n-1 bytes back), within the same last line. */
      k = mb_count_byte(base, (size_t)(wEnd - s), pCur->delim);
      if( k ){
        const unsigned char *d = mb_last_byte(base, (size_t)(wEnd - s), pCur->delim);
        pCur->iRowid += (sqlite3_int64)k;
        pCur->iNext = w->off + (uint64_t)(d - w->buf) + 1;
      }
      if( wEnd>=pCur->iEnd ) return mbLinesFinish(pCur);
      /* [iNext, wEnd) holds no delimiter, so nothing is counted twice;
      ** the window held at least n bytes from s, so this moves on. */
      pCur->iSearch = wEnd - (n - 1);
      if( pCur->iSearch<pCur->iNext ) pCur->iSearch = pCur->iNext;
      continue;
    }
    /* A match: its line starts after the last delimiter before it. */
    k = mb_count_byte(base, (size_t)(hit - base), pCur->delim);
    if( k ){
      const unsigned char *d = mb_last_byte(base, (size_t)(hit - base), pCur->delim);
      pCur->iRowid += (sqlite3_int64)k;
      pCur->iNext = w->off + (uint64_t)(d - w->buf) + 1;
    }
    if( pCur->iRowid>=pCur->iLast ) return mbLinesFinish(pCur);
    {
      uint64_t q = w->off + (uint64_t)(hit - w->buf), at;
      const unsigned char *e = memchr(hit, pCur->delim, (size_t)(w->buf + w->len - hit));
      if( e ){
        at = w->off + (uint64_t)(e - w->buf);
      }else{
        rc = mb_window_find_byte(w, q, pCur->delim, &at);
        if( rc!=MB_OK ) return mbLinesReadError(pCur, rc);
      }
      if( at>pCur->iEnd ) at = pCur->iEnd;
      mbLinesSetRow(pCur, at);
    }
    return SQLITE_OK;
  }
}

static int mbLinesNext(sqlite3_vtab_cursor *cur){
  MbLinesCursor *pCur = (MbLinesCursor*)cur;
  if( pCur->bEof ) return SQLITE_OK;
  if( pCur->bFind ) return mbLinesNextFind(pCur);
  return pCur->bNoText ? mbLinesNextNoText(pCur) : mbLinesNextPlain(pCur);
}

/* An integer bound from a rowid constraint's value: REAL values are
** rounded outwards (SQLite checks the exact bound again), anything that is
** not a number gives no bound (*pOk = 0). */
static sqlite3_int64 mbLinesBound(sqlite3_value *v, int bUp, int *pOk){
  int t = sqlite3_value_numeric_type(v);
  *pOk = 1;
  if( t==SQLITE_INTEGER ) return sqlite3_value_int64(v);
  if( t==SQLITE_FLOAT ){
    double d = sqlite3_value_double(v);
    if( d>=9.2e18 ) return INT64_MAX;
    if( d<=-9.2e18 ) return INT64_MIN;
    {
      sqlite3_int64 x = (sqlite3_int64)d;   /* toward zero */
      if( bUp && (double)x<d ) x++;
      if( !bUp && (double)x>d ) x--;
      return x;
    }
  }
  *pOk = 0;
  return 0;
}

/* Position the scan at line `iLine` with the line index; for a bounded
** search, also end it after line iLast. */
static int mbLinesSeek(MbLinesCursor *pCur, sqlite3_int64 iLine){
  mb_cache_item *pItem = 0;
  const mb_line_index *ix;
  uint64_t total, off, at, pos, skipped;
  int rc = mb_line_index_get(pCur->pMap, pCur->delim, pCur->iEnd, &pItem);
  if( rc!=MB_OK ) return mbLinesReadError(pCur, rc);
  ix = (const mb_line_index*)mb_cache_value(pItem);
  total = ix->lines + (pCur->iEnd>ix->scanned ? 1 : 0);
  if( (uint64_t)iLine>total ){
    /* Past the last line: nothing to scan. The pattern search starts at
    ** iSearch, so it moves to the end too (it was left at byte 0, and a
    ** match there made a "line" from iEnd back to that match: string or
    ** blob too big). */
    mb_cache_release(pItem);
    pCur->iNext = pCur->iSearch = pCur->iEnd;
    return SQLITE_OK;
  }
  mb_line_index_seek(ix, (uint64_t)iLine, &off, &at);
  /* The end of a bounded search, also from the index: the start of the
  ** first line past the last one wanted. */
  if( pCur->bFind && pCur->iLast<INT64_MAX && (uint64_t)pCur->iLast<ix->lines ){
    uint64_t eOff, eAt, ePos, eSkipped;
    mb_line_index_seek(ix, (uint64_t)pCur->iLast+1, &eOff, &eAt);
    rc = mb_window_skip_bytes(&pCur->win, eOff, pCur->delim,
                              (uint64_t)pCur->iLast+1-eAt, &ePos, &eSkipped);
    if( rc==MB_OK && eSkipped==(uint64_t)pCur->iLast+1-eAt ) pCur->iEnd = ePos;
  }
  mb_cache_release(pItem);
  if( rc!=MB_OK ) return mbLinesReadError(pCur, rc);
  rc = mb_window_skip_bytes(&pCur->win, off, pCur->delim, (uint64_t)iLine-at,
                            &pos, &skipped);
  if( rc!=MB_OK ) return mbLinesReadError(pCur, rc);
  pCur->iNext = pos;
  pCur->iSearch = pos;
  pCur->iRowid = (sqlite3_int64)(at + skipped) - 1;
  return SQLITE_OK;
}

static int mbLinesFilter(
  sqlite3_vtab_cursor *cur,
  int idxNum,
  const char *idxStr,
  int argc,
  sqlite3_value **argv
){
  MbLinesCursor *pCur = (MbLinesCursor*)cur;
  MbLinesTable *pTab = (MbLinesTable*)cur->pVtab;
  sqlite3_vtab *pVtab = cur->pVtab;
  const char *zFile;
  sqlite3_int64 iFirst = 1;
  int iArg = 0, rc, ok;
  uint64_t size = 0;
  unsigned char magic[10];
  (void)idxStr;
  (void)argc;

  mbLinesReset(pCur);
  pCur->bChecked = 0;
  pCur->iRowid = 0;
  pCur->iLast = INT64_MAX;
  pCur->iNext = pCur->iSearch = 0;
  pCur->iStart = pCur->iStop = 0;

  /* The file and the delimiter. */
  if( pTab->zFile ){
    zFile = pTab->zFile;
    pCur->delim = pTab->delim;
  }else{
    if( !(idxNum & MB_IDX_FILE) ){
      mbLinesSetError(pVtab, "membase_lines: no file given: use "
          "membase_lines('path') or CREATE VIRTUAL TABLE ... USING "
          "membase_lines(file=path)");
      return SQLITE_ERROR;
    }
    zFile = (const char*)sqlite3_value_text(argv[iArg++]);
    if( zFile==0 ){
      if( sqlite3_value_type(argv[iArg-1])!=SQLITE_NULL ) return SQLITE_NOMEM;
      mbLinesSetError(pVtab, "membase_lines: file is NULL");
      return SQLITE_ERROR;
    }
    pCur->delim = '\n';
  }
  pCur->zFile = sqlite3_mprintf("%s", zFile);
  if( pCur->zFile==0 ) return SQLITE_NOMEM;
  if( idxNum & MB_IDX_DELIM ){
    sqlite3_value *v = argv[iArg++];
    const unsigned char *z = (const unsigned char*)sqlite3_value_blob(v);
    int n = sqlite3_value_bytes(v);
    if( sqlite3_value_type(v)==SQLITE_NULL || mbParseDelim(z, n, &pCur->delim) ){
      mbLinesSetError(pVtab, "membase_lines: delimiter=\"%.*s\": expected "
          "a single byte", n, z ? (const char*)z : "");
      return SQLITE_ERROR;
    }
    pCur->zDelimArg = sqlite3_mprintf("%.*s", n, z ? (const char*)z : "");
    if( pCur->zDelimArg==0 ) return SQLITE_NOMEM;
  }

  /* The file's shared mapping, brought up to the file's size now. */
  rc = mb_registry_acquire(pCur->zFile, 0, &pCur->pMap);
  if( rc==MB_OK ) rc = mb_registry_refresh(pCur->pMap, &size);
  if( rc!=MB_OK ){
    if( rc==MB_ENOMEM ) return SQLITE_NOMEM;
    mbLinesSetError(pVtab, "membase_lines: cannot open \"%s\": %s",
                    pCur->zFile, mb_strerror(rc));
    return SQLITE_ERROR;
  }
  /* Keep the file mapped between queries (see "Mappings"): pin the map
  ** of the last file this table scanned, dropping the one before. */
  if( pTab->pPin!=pCur->pMap ){
    mb_map *pNew = 0;
    if( mb_registry_acquire(pCur->zFile, 0, &pNew)==MB_OK ){
      mb_registry_release(pTab->pPin);
      pTab->pPin = pNew;
    }
  }
  pCur->iEnd = size;
  rc = mb_window_init(&pCur->win, pCur->pMap, size, 0);
  if( rc!=MB_OK ) return SQLITE_NOMEM;
  pCur->bWin = 1;
  /* Point lookups (rowid = N, rowid IN (...)) never drop behind; scans
  ** and rowid ranges follow the table's policy (or the process default). */
  if( idxNum & MB_IDX_EQ ){
    mb_scan_set_dropbehind(&pCur->win.scan, MB_DROP_OFF);
  }else if( pTab->eDrop>=0 ){
    mb_scan_set_dropbehind(&pCur->win.scan, (mb_dropbehind)pTab->eDrop);
  }

  /* Compressed files are refused by their magic bytes. */
  if( size>0 ){
    size_t nMagic = size<sizeof(magic) ? (size_t)size : sizeof(magic);
    const char *zKind;
    rc = mb_map_read(pCur->pMap, 0, magic, nMagic);
    if( rc!=MB_OK ) return mbLinesReadError(pCur, rc==MB_ERANGE ? MB_EFAULT : rc);
    zKind = mbCompressed(magic, nMagic);
    if( zKind ){
      mbLinesSetError(pVtab, "membase_lines: \"%s\" is %s-compressed: "
                      "decompress it first", pCur->zFile, zKind);
      return SQLITE_ERROR;
    }
  }

  /* rowid bounds. */
  if( idxNum & MB_IDX_EQ ){
    sqlite3_value *v = argv[iArg++];
    sqlite3_int64 lo = mbLinesBound(v, 0, &ok), hi;
    if( ok ){
      hi = mbLinesBound(v, 1, &ok);
      iFirst = lo;
      pCur->iLast = hi;
    }
  }
  if( idxNum & MB_IDX_LO ){
    sqlite3_int64 x = mbLinesBound(argv[iArg++], 0, &ok);
    if( ok ){
      if( (idxNum & MB_IDX_LO_GT) && x<INT64_MAX ) x++;
      if( x>iFirst ) iFirst = x;
    }
  }
  if( idxNum & MB_IDX_HI ){
    sqlite3_int64 x = mbLinesBound(argv[iArg++], 1, &ok);
    if( ok ){
      if( (idxNum & MB_IDX_HI_LT) && x>INT64_MIN ) x--;
      if( x<pCur->iLast ) pCur->iLast = x;
    }
  }
  if( iFirst<1 ) iFirst = 1;

  /* The LIKE/GLOB prefilter. */
  if( idxNum & (MB_IDX_LIKE|MB_IDX_GLOB) ){
    const char *zPat = (const char*)sqlite3_value_text(argv[iArg++]);
    unsigned char aLit[MB_FIND_MAX];
    size_t nLit = 0;
    int bNoCase = (idxNum & MB_IDX_LIKE)!=0;
    if( zPat ){
      nLit = bNoCase ? mb_like_literal(zPat, aLit) : mb_glob_literal(zPat, aLit);
    }
    if( nLit>0 ){
      size_t j;
      mb_finder_init(&pCur->finder, aLit, nLit, bNoCase);
      pCur->bFind = 1;
      /* A literal holding the delimiter itself (not a case-folded letter)
      ** is in no line: nothing can match. */
      for(j=0; j<nLit; j++){
        if( aLit[j]==pCur->delim && pCur->finder.fold[j]==0 ) pCur->iLast = 0;
      }
    }
  }

  pCur->bNoText = (idxNum & MB_IDX_NOTEXT)!=0;
  pCur->nEnds = pCur->iEnds = 0;
  pCur->iChecked = 0;
  pCur->bEof = 0;
  if( pCur->iLast<iFirst ){
    pCur->iNext = pCur->iSearch = pCur->iEnd;
  }else if( iFirst>1 || (pCur->bFind && pCur->iLast<INT64_MAX) ){
    rc = mbLinesSeek(pCur, iFirst);
    if( rc!=SQLITE_OK ) return rc;
  }
  return mbLinesNext(cur);
}

static int mbLinesEof(sqlite3_vtab_cursor *cur){
  return ((MbLinesCursor*)cur)->bEof;
}

/* The bytes of the current line, without a trailing \r for \n-delimited
** files: a pointer into the window, or into aLine. */
static int mbLinesText(MbLinesCursor *pCur, const unsigned char **pz, uint64_t *pn){
  uint64_t n = pCur->iStop - pCur->iStart;
  const unsigned char *z;
  int rc;
  if( n==0 ){
    *pz = (const unsigned char*)"";
    *pn = 0;
    return MB_OK;
  }
  z = mb_window_at(&pCur->win, pCur->iStart, (size_t)n);
  if( z==0 ){
    if( n>(uint64_t)SIZE_MAX-1 ) return MB_ENOMEM;
    if( n>pCur->nLineAlloc ){
      unsigned char *p = (unsigned char*)sqlite3_realloc64(pCur->aLine, n);
      if( p==0 ) return MB_ENOMEM;
      pCur->aLine = p;
      pCur->nLineAlloc = (size_t)n;
    }
    rc = mb_window_copy(&pCur->win, pCur->iStart, pCur->aLine, (size_t)n);
    if( rc!=MB_OK ) return rc;
    z = pCur->aLine;
  }
  if( pCur->delim=='\n' && z[n-1]=='\r' ) n--;
  *pz = z;
  *pn = n;
  return MB_OK;
}

static int mbLinesColumn(
  sqlite3_vtab_cursor *cur,
  sqlite3_context *ctx,
  int i
){
  MbLinesCursor *pCur = (MbLinesCursor*)cur;
  MbLinesTable *pTab = (MbLinesTable*)cur->pVtab;
  switch( i ){
    case MB_LINES_LINE:
    case MB_LINES_LENGTH: {
      const unsigned char *z = 0;
      uint64_t n = 0;
      int rc;
      if( i==MB_LINES_LINE ){
        int lim = sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1);
        if( pCur->iStop - pCur->iStart > (uint64_t)lim ){
          sqlite3_result_error_toobig(ctx);
          return SQLITE_OK;
        }
      }else if( pCur->delim!='\n' ){
        sqlite3_result_int64(ctx, (sqlite3_int64)(pCur->iStop - pCur->iStart));
        return SQLITE_OK;
      }else if( pCur->iStop>pCur->iStart ){
        /* Only the last byte decides: is it a \r? */
        unsigned char last;
        rc = mb_window_copy(&pCur->win, pCur->iStop-1, &last, 1);
        if( rc!=MB_OK ){
          pCur->bEof = 1;
          mbLinesReadError(pCur, rc);
          sqlite3_result_error(ctx, pCur->base.pVtab->zErrMsg, -1);
          return SQLITE_ERROR;
        }
        sqlite3_result_int64(ctx, (sqlite3_int64)(pCur->iStop - pCur->iStart
                                                  - (last=='\r' ? 1 : 0)));
        return SQLITE_OK;
      }else{
        sqlite3_result_int64(ctx, 0);
        return SQLITE_OK;
      }
      rc = mbLinesText(pCur, &z, &n);
      if( rc!=MB_OK ){
        if( rc==MB_ENOMEM ){
          sqlite3_result_error_nomem(ctx);
          return SQLITE_NOMEM;
        }
        mbLinesReadError(pCur, rc);
        sqlite3_result_error(ctx, pCur->base.pVtab->zErrMsg, -1);
        return SQLITE_ERROR;
      }
      /* TRANSIENT: the window is reused by the next row (see "Safety"). */
      sqlite3_result_text64(ctx, (const char*)z, n, SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
    case MB_LINES_OFFSET:
      sqlite3_result_int64(ctx, (sqlite3_int64)pCur->iStart);
      break;
    case MB_LINES_FILE:
      sqlite3_result_text(ctx, pCur->zFile, -1, SQLITE_TRANSIENT);
      break;
    case MB_LINES_DELIM:
      if( pTab->zFile ){
        if( pTab->zDelim ){
          sqlite3_result_text(ctx, pTab->zDelim, -1, SQLITE_TRANSIENT);
        }else{
          sqlite3_result_text(ctx, "\n", 1, SQLITE_STATIC);
        }
      }else if( pCur->zDelimArg ){
        sqlite3_result_text(ctx, pCur->zDelimArg, -1, SQLITE_TRANSIENT);
      }else{
        sqlite3_result_text(ctx, "\n", 1, SQLITE_STATIC);
      }
      break;
  }
  return SQLITE_OK;
}

static int mbLinesRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  *pRowid = ((MbLinesCursor*)cur)->iRowid;
  return SQLITE_OK;
}

/* xCreate == xConnect: eponymous (the function form) and creatable. */
static const sqlite3_module mbLinesModule = {
  .iVersion    = 0,
  .xCreate     = mbLinesConnect,
  .xConnect    = mbLinesConnect,
  .xBestIndex  = mbLinesBestIndex,
  .xDisconnect = mbLinesDisconnect,
  .xDestroy    = mbLinesDisconnect,
  .xOpen       = mbLinesOpen,
  .xClose      = mbLinesClose,
  .xFilter     = mbLinesFilter,
  .xNext       = mbLinesNext,
  .xEof        = mbLinesEof,
  .xColumn     = mbLinesColumn,
  .xRowid      = mbLinesRowid,
};

/* ------------------------------------------------------------ index info */

/* membase_lines_index(FILE [, DELIMITER]) */
static void mbLinesIndexFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  const char *zFile = (const char*)sqlite3_value_text(argv[0]);
  unsigned char delim = '\n';
  mb_map *pMap = 0;
  mb_cache_item *pItem = 0;
  char zTag[MB_CACHE_MAX_TAG + 1];
  int rc;
  if( zFile==0 ){
    sqlite3_result_error(ctx, "membase_lines_index: file is NULL", -1);
    return;
  }
  if( argc>1 ){
    const unsigned char *z = (const unsigned char*)sqlite3_value_blob(argv[1]);
    int n = sqlite3_value_bytes(argv[1]);
    if( sqlite3_value_type(argv[1])==SQLITE_NULL || mbParseDelim(z, n, &delim) ){
      char *zMsg = sqlite3_mprintf("membase_lines_index: delimiter=\"%.*s\": "
          "expected a single byte", n, z ? (const char*)z : "");
      sqlite3_result_error(ctx, zMsg ? zMsg : "out of memory", -1);
      sqlite3_free(zMsg);
      return;
    }
  }
  rc = mb_registry_acquire(zFile, 0, &pMap);
  if( rc!=MB_OK ){
    char *zMsg = sqlite3_mprintf("membase_lines_index: cannot open \"%s\": %s",
                                 zFile, mb_strerror(rc));
    sqlite3_result_error(ctx, zMsg ? zMsg : "out of memory", -1);
    sqlite3_free(zMsg);
    return;
  }
  mb_line_index_tag(delim, zTag);
  if( mb_cache_get(pMap, zTag, &pItem)==MB_OK ){
    const mb_line_index *ix = (const mb_line_index*)mb_cache_value(pItem);
    char *zJson = sqlite3_mprintf(
        "{\"every\":%u,\"lines\":%llu,\"indexed_bytes\":%llu,\"samples\":%llu,"
        "\"file_size\":%llu,\"builds\":%llu,\"extends\":%llu,\"bytes_read\":%llu,"
        "\"verifies\":%llu,\"bytes_verified\":%llu}",
        MB_LINE_INDEX_EVERY, (unsigned long long)ix->lines,
        (unsigned long long)ix->scanned, (unsigned long long)ix->nsample,
        (unsigned long long)mb_cache_size(pItem), (unsigned long long)ix->builds,
        (unsigned long long)ix->extends, (unsigned long long)ix->bytes_read,
        (unsigned long long)ix->verifies, (unsigned long long)ix->bytes_verified);
    mb_cache_release(pItem);
    if( zJson==0 ){
      sqlite3_result_error_nomem(ctx);
    }else{
      sqlite3_result_text(ctx, zJson, -1, sqlite3_free);
    }
  }
  mb_registry_release(pMap);
}

/* ------------------------------------------------------------ registration */

int mb_lines_register(sqlite3 *db){
  int rc = sqlite3_create_module(db, "membase_lines", &mbLinesModule, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function(db, "membase_lines_index", 1,
                                 SQLITE_UTF8|SQLITE_DIRECTONLY, 0,
                                 mbLinesIndexFunc, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function(db, "membase_lines_index", 2,
                                 SQLITE_UTF8|SQLITE_DIRECTONLY, 0,
                                 mbLinesIndexFunc, 0, 0);
  }
  return rc;
}
