/*
** mb_stats_table.c -- what the mapping core holds: the table membase_stats and
** the function membase_counters().
**
**   SELECT path, mapped, refcount, advice FROM membase_stats;
**   SELECT json_extract(membase_counters(), '$.live_maps');
**   SELECT key, value FROM json_each(membase_counters());
**
** membase_stats
**   An eponymous-only virtual table: it exists on every connection with
**   MemBase registered, without CREATE VIRTUAL TABLE (which it refuses).
**   One row per mapping (live or idle) in the process-wide registry of the core, i.e.
**   per file mapped by any connection, VFS or table of this process, read
**   when the scan starts:
**
**     path       TEXT     the path the mapping was first opened with
**     file_size  INTEGER  the file's size when the mapping was last
**                         brought up to date (opened or remapped); a file
**                         that grew since shows its old size here until
**                         something remaps it (membase_map() does)
**     mapped     INTEGER  bytes in the view (the file's size, as above)
**     reserved   INTEGER  address space reserved so the view can grow in
**                         place (costs no memory)
**     refcount   INTEGER  users of the mapping: one per pinning connection
**                         (membase_map), VFS file or table
**     writable   INTEGER  1 if the view is read-write, else 0
**     advice     TEXT     the last whole-view advice: normal, random or
**                         sequential
**     hugepages  TEXT     the huge-page outcome as last measured:
**                         'not requested', 'unsupported', 'advised' or
**                         'active'
**     remaps     INTEGER  grows and shrinks since the mapping was opened
**     moves      INTEGER  grows that had to move the view (reservation
**                         exceeded)
**     map_reads  INTEGER  reads the membase VFS served from this mapping,
**                         all connections of the process (0 for files no
**                         VFS connection has open)
**     os_reads   INTEGER  reads of the file the VFS had to send to the OS
**                         instead (past the view, or after a truncation)
**     fetches    INTEGER  zero-copy page references (xFetch) the VFS
**                         handed out of this mapping
**     dropped_behind  INTEGER  bytes of this mapping that scans gave back
**                         to the OS behind them (drop-behind)
**     prefetch_window INTEGER  the prefetch-ahead window a scan of this
**                         mapping last used, after the memory bound (0:
**                         no prefetch requests, the kernel's read-ahead)
**     populate_bound  INTEGER  0, or the bytes a populate was cut to
**                         because the file was larger than memory allows
**     idle       INTEGER  1 if kept mapped with no user (idle budget)
**     resident   INTEGER  bytes of the file in memory now (mincore). Only
**                         measured when the query asks for this column;
**                         NULL where the platform cannot tell
**     idle_evicted, pressure_events  INTEGER  process-wide: idle mappings
**                         closed (budget or pressure), and memory-pressure
**                         episodes seen; the same on every row
**
**   The table is read-only. It is DIRECTONLY: it opens no file, but it
**   reveals the paths of the files the process maps, so SQLite refuses it in
**   views, triggers and other schema objects ("unsafe use of virtual table
**   "membase_stats"").
**
** membase_counters()
**   The process-wide counters of the core, as the text of one JSON object:
**     {"live_maps":N, "bytes_mapped":N, "bytes_reserved":N,
**      "maps_opened":N, "remaps":N, "guard_faults":N,
**      "minor_faults":N, "major_faults":N}
**   live_maps, bytes_mapped and bytes_reserved describe the mappings open
**   now; maps_opened, remaps and guard_faults count since the process
**   started; minor_faults and major_faults are the process's page faults as
**   the OS reports them (0 where it cannot). Not deterministic; neither
**   DIRECTONLY nor INNOCUOUS (it reveals no path but is process state).
**   More counters will join the object (keys are only ever added).
*/
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_stats_table.h"
#include "../ext/mb_sqlite.h"

/* ------------------------------------------------------------ the table */

/* The columns, in the order of the CREATE TABLE below: to add one, add it to
** both and to mbStatsColumn(). */
#define MB_STATS_SCHEMA \
  "CREATE TABLE x(path TEXT, file_size INTEGER, mapped INTEGER," \
  " reserved INTEGER, refcount INTEGER, writable INTEGER, advice TEXT," \
  " hugepages TEXT, remaps INTEGER, moves INTEGER, map_reads INTEGER," \
  " os_reads INTEGER, fetches INTEGER, dropped_behind INTEGER," \
  " prefetch_window INTEGER, populate_bound INTEGER, idle INTEGER," \
  " resident INTEGER, idle_evicted INTEGER, pressure_events INTEGER)"
enum {
  MB_STATS_PATH = 0,
  MB_STATS_FILE_SIZE,
  MB_STATS_MAPPED,
  MB_STATS_RESERVED,
  MB_STATS_REFCOUNT,
  MB_STATS_WRITABLE,
  MB_STATS_ADVICE,
  MB_STATS_HUGEPAGES,
  MB_STATS_REMAPS,
  MB_STATS_MOVES,
  MB_STATS_MAP_READS,
  MB_STATS_OS_READS,
  MB_STATS_FETCHES,
  MB_STATS_DROPPED,
  MB_STATS_WINDOW,
  MB_STATS_POPULATE_BOUND,
  MB_STATS_IDLE,
  MB_STATS_RESIDENT,
  MB_STATS_IDLE_EVICTED,
  MB_STATS_PRESSURE_EVENTS
};

typedef struct MbStatsCursor MbStatsCursor;
struct MbStatsCursor {
  sqlite3_vtab_cursor base;   /* base class: must be first */
  mb_map_info *aInfo;         /* snapshot taken by xFilter */
  size_t nInfo;               /* entries in aInfo */
  size_t iRow;                /* current entry */
  mb_stats st;                /* process counters, read by xFilter */
};

static int mbStatsConnect(
  sqlite3 *db,
  void *pAux,
  int argc,
  const char *const *argv,
  sqlite3_vtab **ppVtab,
  char **pzErr
){
  sqlite3_vtab *pVtab;
  int rc;
  (void)pAux;
  (void)argc;
  (void)argv;
  (void)pzErr;
  rc = sqlite3_declare_vtab(db, MB_STATS_SCHEMA);
  if( rc!=SQLITE_OK ) return rc;
  /* It reveals the paths the process maps: direct use only. */
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  pVtab = (sqlite3_vtab*)sqlite3_malloc64(sizeof(*pVtab));
  if( pVtab==0 ) return SQLITE_NOMEM;
  memset(pVtab, 0, sizeof(*pVtab));
  *ppVtab = pVtab;
  return SQLITE_OK;
}

static int mbStatsDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int mbStatsOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  MbStatsCursor *pCur;
  (void)pVtab;
  pCur = (MbStatsCursor*)sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static void mbStatsFreeSnapshot(MbStatsCursor *pCur){
  mb_registry_free_snapshot(pCur->aInfo, pCur->nInfo);
  pCur->aInfo = 0;
  pCur->nInfo = 0;
  pCur->iRow = 0;
}

static int mbStatsClose(sqlite3_vtab_cursor *cur){
  MbStatsCursor *pCur = (MbStatsCursor*)cur;
  mbStatsFreeSnapshot(pCur);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Every scan is a full scan of a snapshot of the registry. */
static int mbStatsFilter(
  sqlite3_vtab_cursor *cur,
  int idxNum,
  const char *idxStr,
  int argc,
  sqlite3_value **argv
){
  MbStatsCursor *pCur = (MbStatsCursor*)cur;
  int mrc;
  (void)idxStr;
  (void)argc;
  (void)argv;
  mbStatsFreeSnapshot(pCur);
  /* idxNum 1: the query reads `resident` (xBestIndex saw it in colUsed):
  ** only then is residency measured. */
  mrc = mb_registry_snapshot_opt(&pCur->aInfo, &pCur->nInfo,
                                 idxNum==1 ? MB_SNAP_RESIDENT : 0);
  memset(&pCur->st, 0, sizeof(pCur->st));
  mb_stats_get(&pCur->st);
  if( mrc!=MB_OK ){
    pCur->aInfo = 0;
    pCur->nInfo = 0;
    /* SQLITE_ERROR, not an IOERR: listing the mappings touches no database
    ** file, and SQLite rolls a transaction back on an IOERR. */
    if( mrc==MB_ENOMEM ) return SQLITE_NOMEM;
    return mb_vtab_error(cur->pVtab, SQLITE_ERROR,
        "membase_stats: cannot list the mappings: %s", mb_strerror(mrc));
  }
  return SQLITE_OK;
}

static int mbStatsNext(sqlite3_vtab_cursor *cur){
  MbStatsCursor *pCur = (MbStatsCursor*)cur;
  pCur->iRow++;
  return SQLITE_OK;
}

static int mbStatsEof(sqlite3_vtab_cursor *cur){
  MbStatsCursor *pCur = (MbStatsCursor*)cur;
  return pCur->iRow>=pCur->nInfo;
}

/* Sizes and counters are uint64_t in the core; clamp rather than wrap in
** the impossible case that one exceeds SQLite's signed 64-bit integers. */
static void mbResultU64(sqlite3_context *ctx, uint64_t v){
  sqlite3_result_int64(ctx, v>(uint64_t)INT64_MAX ? INT64_MAX
                                                   : (sqlite3_int64)v);
}

static int mbStatsColumn(
  sqlite3_vtab_cursor *cur,
  sqlite3_context *ctx,
  int i
){
  MbStatsCursor *pCur = (MbStatsCursor*)cur;
  const mb_map_info *p = &pCur->aInfo[pCur->iRow];
  switch( i ){
    case MB_STATS_PATH:
      sqlite3_result_text(ctx, p->path, -1, SQLITE_TRANSIENT);
      break;
    case MB_STATS_FILE_SIZE: mbResultU64(ctx, p->file_size);  break;
    case MB_STATS_MAPPED:    mbResultU64(ctx, p->mapped);     break;
    case MB_STATS_RESERVED:  mbResultU64(ctx, p->reserved);   break;
    case MB_STATS_REFCOUNT:  mbResultU64(ctx, p->refcount);   break;
    case MB_STATS_WRITABLE:
      sqlite3_result_int(ctx, p->writable ? 1 : 0);
      break;
    case MB_STATS_ADVICE:
      sqlite3_result_text(ctx, mb_advice_name(p->advice), -1, SQLITE_STATIC);
      break;
    case MB_STATS_HUGEPAGES:
      sqlite3_result_text(ctx, mb_huge_name(p->huge), -1, SQLITE_STATIC);
      break;
    case MB_STATS_REMAPS:    mbResultU64(ctx, p->remaps);     break;
    case MB_STATS_MOVES:     mbResultU64(ctx, p->moves);      break;
    case MB_STATS_MAP_READS: mbResultU64(ctx, p->io.count[MB_IO_MAP_READ]); break;
    case MB_STATS_OS_READS:  mbResultU64(ctx, p->io.count[MB_IO_OS_READ]);  break;
    case MB_STATS_FETCHES:   mbResultU64(ctx, p->io.count[MB_IO_FETCH]);    break;
    case MB_STATS_DROPPED:   mbResultU64(ctx, p->mem.dropped);  break;
    case MB_STATS_WINDOW:    mbResultU64(ctx, p->mem.window);   break;
    case MB_STATS_POPULATE_BOUND: mbResultU64(ctx, p->mem.populate_bound); break;
    case MB_STATS_IDLE:      sqlite3_result_int(ctx, p->idle);  break;
    case MB_STATS_RESIDENT:
      if( p->resident!=UINT64_MAX ) mbResultU64(ctx, p->resident);
      break;
    case MB_STATS_IDLE_EVICTED:    mbResultU64(ctx, pCur->st.idle_evicted);    break;
    case MB_STATS_PRESSURE_EVENTS: mbResultU64(ctx, pCur->st.pressure_events); break;
  }
  return SQLITE_OK;
}

static int mbStatsRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  MbStatsCursor *pCur = (MbStatsCursor*)cur;
  *pRowid = (sqlite_int64)pCur->iRow + 1;
  return SQLITE_OK;
}

static int mbStatsBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  pInfo->idxNum = (pInfo->colUsed & ((sqlite3_uint64)1 << MB_STATS_RESIDENT)) ? 1 : 0;
  /* A handful of rows, all produced by one snapshot: no index helps. */
  pInfo->estimatedCost = 10.0;
  pInfo->estimatedRows = 10;
  return SQLITE_OK;
}

static const sqlite3_module mbStatsModule = {
  .iVersion    = 0,
  .xCreate     = 0,               /* eponymous-only */
  .xConnect    = mbStatsConnect,
  .xBestIndex  = mbStatsBestIndex,
  .xDisconnect = mbStatsDisconnect,
  .xDestroy    = mbStatsDisconnect,
  .xOpen       = mbStatsOpen,
  .xClose      = mbStatsClose,
  .xFilter     = mbStatsFilter,
  .xNext       = mbStatsNext,
  .xEof        = mbStatsEof,
  .xColumn     = mbStatsColumn,
  .xRowid      = mbStatsRowid,
};

/* ------------------------------------------------------------ counters */

/* The keys of membase_counters(), in output order: to add a counter of the
** core, add a line here. */
static const struct {
  const char *zKey;
  size_t iOffset;
} aMbCounter[] = {
  { "live_maps",      offsetof(mb_stats, live_maps)      },
  { "bytes_mapped",   offsetof(mb_stats, bytes_mapped)   },
  { "bytes_reserved", offsetof(mb_stats, bytes_reserved) },
  { "maps_opened",    offsetof(mb_stats, maps_opened)    },
  { "remaps",         offsetof(mb_stats, remaps)         },
  { "guard_faults",   offsetof(mb_stats, guard_faults)   },
  { "minor_faults",   offsetof(mb_stats, minor_faults)   },
  { "major_faults",   offsetof(mb_stats, major_faults)   },
  { "dropped_behind", offsetof(mb_stats, dropped_behind) },
  { "pressure_events", offsetof(mb_stats, pressure_events) },
  { "pressure_unreadable", offsetof(mb_stats, pressure_unreadable) },
  { "idle_maps",      offsetof(mb_stats, idle_maps)      },
  { "idle_bytes",     offsetof(mb_stats, idle_bytes)     },
  { "idle_evicted",   offsetof(mb_stats, idle_evicted)   },
  { "prefetch_throttled", offsetof(mb_stats, prefetch_throttled) },
};

/* membase_counters() */
static void mbCountersFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  mb_stats st;
  sqlite3_str *pStr;
  size_t i;
  int rc;
  (void)argc;
  (void)argv;

  memset(&st, 0, sizeof(st));
  mb_stats_get(&st);
  pStr = sqlite3_str_new(sqlite3_context_db_handle(ctx));
  sqlite3_str_appendchar(pStr, 1, '{');
  for(i=0; i<sizeof(aMbCounter)/sizeof(aMbCounter[0]); i++){
    uint64_t v;
    memcpy(&v, (const char*)&st + aMbCounter[i].iOffset, sizeof(v));
    sqlite3_str_appendf(pStr, "%s\"%s\":%llu", i ? "," : "",
                        aMbCounter[i].zKey, (unsigned long long)v);
  }
  sqlite3_str_appendchar(pStr, 1, '}');
  rc = sqlite3_str_errcode(pStr);
  if( rc!=SQLITE_OK ){
    sqlite3_free(sqlite3_str_finish(pStr));
    if( rc==SQLITE_NOMEM ){
      sqlite3_result_error_nomem(ctx);
    }else{
      sqlite3_result_error_code(ctx, rc);
    }
    return;
  }
  sqlite3_result_text(ctx, sqlite3_str_finish(pStr), -1, sqlite3_free);
}

/* ------------------------------------------------------------ registration */

int mb_stats_register(sqlite3 *db){
  int rc = sqlite3_create_module(db, "membase_stats", &mbStatsModule, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function(db, "membase_counters", 0, SQLITE_UTF8, 0,
                                 mbCountersFunc, 0, 0);
  }
  return rc;
}
