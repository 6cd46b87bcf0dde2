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
**   trigger or other schema object; the function also acts only when the
**   statement's own SQL names it (a CHECK constraint cannot call it). FILE
**   must be TEXT without a NUL byte, and pass the process's file policy
**   (docs/SECURITY.md). A CREATE form table that a database file's schema
**   declares is refused while the connection has trusted_schema OFF, or
**   when its file lies outside the policy (the message says how to allow
**   it).
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
**   membase_lines: FILE must be TEXT (a file path), not BLOB
**   membase_lines: FILE contains a NUL byte at offset 11: "/secret.txt"
**   membase_lines: "/data/../etc/passwd" resolves to "/etc/passwd", outside
**     the allowed directories /data (set by MEMBASE_ALLOWED_DIRS)
*/
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_lines.h"
#include "mb_lines_int.h"
#include "../ext/mb_sqlite.h"
#include "../ext/mb_sqlsafe.h"

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

  /* argv[3..]: key = value options of CREATE VIRTUAL TABLE. */
  for(i=3; i<argc; i++){
    static const char *const azOpt[] = { "file", "dropbehind", "delimiter" };
    static const char zWho[] = "membase_lines";
    char *zKey, *zVal;
    int iOpt;
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
      rc = mb_opt_dropbehind(zWho, zKey, zVal, &eDrop, pzErr);
    }else if( rc==SQLITE_OK && iOpt==2 ){
      if( mbLinesParseDelim((const unsigned char*)zVal, (int)strlen(zVal), &delim) ){
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

  /* A table from a database schema: trusted schema and file policy. */
  rc = mb_sql_table_allowed((MbTrust*)pAux, db, mb_sql_creating(db, argc, argv),
                            "membase_lines", argc, argv, zFile, pzErr);
  if( rc!=SQLITE_OK ) goto fail_rc;

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

/* The constraints a plan uses: indexes into aConstraint, -1 for none. */
typedef struct MbLinesTerms {
  int iFile, iDelim;          /* file = ?, delimiter = ? (function form) */
  int iEq, iLo, iHi;          /* rowid =, rowid > or >=, rowid < or <= */
  int iPat;                   /* line LIKE ? or line GLOB ? */
  int bFileUnusable;          /* a file = ? that needs another order */
} MbLinesTerms;

/* Pick the first usable constraint of each kind. */
static void mbLinesPickTerms(MbLinesTable *pTab, sqlite3_index_info *pInfo,
                             MbLinesTerms *t){
  int i;
  t->iFile = t->iDelim = t->iEq = t->iLo = t->iHi = t->iPat = -1;
  t->bFileUnusable = 0;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *p = &pInfo->aConstraint[i];
    int op = p->op;
    if( p->iColumn==MB_LINES_FILE && op==SQLITE_INDEX_CONSTRAINT_EQ
     && pTab->zFile==0 ){
      if( p->usable ){ if( t->iFile<0 ) t->iFile = i; }
      else t->bFileUnusable = 1;
      continue;
    }
    if( !p->usable ) continue;
    if( p->iColumn==MB_LINES_DELIM && op==SQLITE_INDEX_CONSTRAINT_EQ
     && pTab->zFile==0 ){
      if( t->iDelim<0 ) t->iDelim = i;
    }else if( p->iColumn==-1 ){
      if( op==SQLITE_INDEX_CONSTRAINT_EQ ){
        if( t->iEq<0 ) t->iEq = i;
      }else if( op==SQLITE_INDEX_CONSTRAINT_GE || op==SQLITE_INDEX_CONSTRAINT_GT ){
        if( t->iLo<0 ) t->iLo = i;
      }else if( op==SQLITE_INDEX_CONSTRAINT_LE || op==SQLITE_INDEX_CONSTRAINT_LT ){
        if( t->iHi<0 ) t->iHi = i;
      }
    }else if( p->iColumn==MB_LINES_LINE && t->iPat<0
           && (op==SQLITE_INDEX_CONSTRAINT_LIKE || op==SQLITE_INDEX_CONSTRAINT_GLOB) ){
      t->iPat = i;
    }
  }
}

/* xBestIndex: see "The planner's contract" in the manual above. */
static int mbLinesBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  MbLinesTable *pTab = (MbLinesTable*)pVtab;
  MbLinesTerms t;
  int idxNum = 0, nArg = 0;
  double cost = 1e6, rows = 1e6;

  mbLinesPickTerms(pTab, pInfo, &t);
  if( pTab->zFile==0 && t.iFile<0 ){
    /* The file would come from a table not yet scanned: another order. */
    if( t.bFileUnusable ) return SQLITE_CONSTRAINT;
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
  if( t.iFile>=0 ){
    idxNum |= MB_IDX_FILE;
    pInfo->aConstraintUsage[t.iFile].argvIndex = ++nArg;
    pInfo->aConstraintUsage[t.iFile].omit = 1;
  }
  if( t.iDelim>=0 ){
    idxNum |= MB_IDX_DELIM;
    pInfo->aConstraintUsage[t.iDelim].argvIndex = ++nArg;
    pInfo->aConstraintUsage[t.iDelim].omit = 1;
  }
  if( t.iEq>=0 ){
    idxNum |= MB_IDX_EQ;
    pInfo->aConstraintUsage[t.iEq].argvIndex = ++nArg;
    cost = 10;
    rows = 1;
    pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  }else{
    if( t.iLo>=0 ){
      idxNum |= MB_IDX_LO;
      if( pInfo->aConstraint[t.iLo].op==SQLITE_INDEX_CONSTRAINT_GT ) idxNum |= MB_IDX_LO_GT;
      pInfo->aConstraintUsage[t.iLo].argvIndex = ++nArg;
      cost /= 2;
      rows /= 2;
    }
    if( t.iHi>=0 ){
      idxNum |= MB_IDX_HI;
      if( pInfo->aConstraint[t.iHi].op==SQLITE_INDEX_CONSTRAINT_LT ) idxNum |= MB_IDX_HI_LT;
      pInfo->aConstraintUsage[t.iHi].argvIndex = ++nArg;
      cost /= (t.iLo>=0) ? 500 : 2;
      rows /= (t.iLo>=0) ? 500 : 2;
    }
  }
  if( t.iPat>=0 ){
    idxNum |= pInfo->aConstraint[t.iPat].op==SQLITE_INDEX_CONSTRAINT_LIKE
              ? MB_IDX_LIKE : MB_IDX_GLOB;
    pInfo->aConstraintUsage[t.iPat].argvIndex = ++nArg;
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

/* ------------------------------------------------------------ registration */

int mb_lines_register(sqlite3 *db){
  MbTrust *pTrust = mb_trust_new();
  int rc;
  if( pTrust==0 ) return SQLITE_NOMEM;
  /* SQLite calls mb_trust_free even when the registration fails */
  rc = sqlite3_create_module_v2(db, "membase_lines", &mbLinesModule, pTrust,
                                mb_trust_free);
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
