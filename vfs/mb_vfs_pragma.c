/*
** mb_vfs_pragma.c -- the PRAGMAs of the membase VFS.
**
** PRAGMAs (SQLITE_FCNTL_PRAGMA), each on one database of a connection:
**   PRAGMA membase_advice [= auto|normal|random|sequential]
**        the access-pattern advice given to the OS for the mapping (shared
**        by the process's connections to the file). auto (the default)
**        watches this connection's page reads in windows of 128: mostly
**        sequential gives "sequential", mostly scattered "random", else
**        "normal". Returns the setting, and in parentheses what is in
**        force on the mapping: "auto (random)".
**   PRAGMA membase_dropbehind [= auto|on|off]
**        whether a sequential scan of the database (a run of forward page
**        reads over 32 MiB) gives the pages it has passed back to the OS
**        (mb_scan drop-behind; point lookups never do). auto: when the file
**        is larger than half the memory the process may use, or under
**        memory pressure. Default: the process default (auto unless set
**        with membase_dropbehind_default() or the C API). PRAGMA
**        membase_stats shows the bytes released.
**   PRAGMA membase_populate [= 0|1]
**        1 reads the whole file into memory now and maps it (returns the
**        method the core used); the URI parameter does it at open.
**   PRAGMA membase_hugepages [= 0|1]
**        reports the huge-page outcome of the mapping ('not requested',
**        'unsupported', 'advised', 'active'). Huge pages are requested when
**        the file is first mapped (URI membase_hugepages=1); asking for
**        them later is an error that says so.
**   PRAGMA membase_reserve [= N]
**        the address space reserved for growth. Fixed when the file is
**        first mapped (URI membase_reserve); a larger value later is an
**        error that says so.
**   PRAGMA membase_locking
**        "shared" or "process" (chosen at open; read-only).
**   PRAGMA membase_stats
**        one JSON object: reads of this connection served from the map and
**        from the OS, xFetch pointers handed out, the same for the whole
**        mapping (all connections), bytes mapped, remaps, page faults.
** A bad value is an error naming it; an unknown membase_ PRAGMA too.
**
** Each PRAGMA is one handler in aPragma below: it receives the value
** (NULL for a query), parses it with mb_vfs_options.c, acts, and answers
** through azArg[0] (SQLITE_FCNTL_PRAGMA's convention).
*/
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_int.h"

/* The PRAGMA's answer (a sqlite3_mprintf'ed string; NULL: out of memory). */
static int mbPragmaResult(char **azArg, char *z){
  azArg[0] = z;
  return z ? SQLITE_OK : SQLITE_NOMEM;
}

static int mbPragmaError(char **azArg, char *zMsg){
  azArg[0] = zMsg;
  return SQLITE_ERROR;
}

/* The file's path for a message. */
static const char *mbPath(const MbFile *f){
  return f->pShared ? f->pShared->zPath : "?";
}

/* The file's mapping, or NULL. */
static mb_map *mbMap(const MbFile *f){
  return f->pShared ? f->pShared->pMap : 0;
}

/* ------------------------------------------------------------- handlers */

static int mbPragmaAdvice(MbFile *f, const char *zVal, char **azArg){
  mb_map *m = mbMap(f);
  char *zErr = 0;
  if( zVal ){
    int a;
    if( mb_vfs_parse_advice("membase_advice", zVal, &a, &zErr) ){
      return mbPragmaError(azArg, zErr);
    }
    mb_vfs_pattern_set_advice(f, a);
  }
  return mbPragmaResult(azArg, sqlite3_mprintf("%s (%s)",
      mb_vfs_advice_name(f->opts.advice),
      m ? mb_advice_name(mb_vfs_map_advice(m)) : "not mapped"));
}

/* membase_populate=1: populate the mapping now, and say how. */
static int mbPopulateNow(MbFile *f, char **azArg){
  MbShared *s = f->pShared;
  mb_map *m = mbMap(f);
  mb_populate used = MB_POP_NONE;
  uint64_t done = 0, size;
  int mrc = MB_OK;
  if( m==0 ){
    return mbPragmaError(azArg, sqlite3_mprintf(
        "membase_populate: \"%s\" is not mapped (%s)", mbPath(f),
        s && s->zMapErr ? s->zMapErr : "no mapping"));
  }
  mb_vfs_shared_remap(s);
  size = mb_map_size(m);
  if( size>0 ) mrc = mb_map_populate_bounded(m, 0, 0, MB_POP_DEFAULT, &used, &done);
  if( mrc!=MB_OK ){
    return mbPragmaError(azArg, sqlite3_mprintf(
        "membase_populate: cannot populate \"%s\": %s", s->zPath, mb_strerror(mrc)));
  }
  s->bPopulated = 1;
  /* A file larger than memory allows is populated only in part: say so,
  ** with how much. */
  if( done<size ){
    return mbPragmaResult(azArg, sqlite3_mprintf("%s (bounded: %llu of %llu bytes)",
        mb_populate_name(used), (unsigned long long)done, (unsigned long long)size));
  }
  return mbPragmaResult(azArg, sqlite3_mprintf("%s", mb_populate_name(used)));
}

static int mbPragmaPopulate(MbFile *f, const char *zVal, char **azArg){
  char *zErr = 0;
  if( zVal ){
    int b;
    if( mb_vfs_parse_bool("membase_populate", zVal, &b, &zErr) ){
      return mbPragmaError(azArg, zErr);
    }
    f->opts.populate = b;
    if( b ) return mbPopulateNow(f, azArg);
  }
  return mbPragmaResult(azArg, sqlite3_mprintf("%d", f->opts.populate));
}

static int mbPragmaHugepages(MbFile *f, const char *zVal, char **azArg){
  mb_map *m = mbMap(f);
  mb_huge h = MB_HUGE_NOT_REQUESTED;
  char *zErr = 0;
  if( m ) mb_map_huge_status(m, &h, 0);
  if( zVal ){
    int b;
    if( mb_vfs_parse_bool("membase_hugepages", zVal, &b, &zErr) ){
      return mbPragmaError(azArg, zErr);
    }
    if( b!=(h!=MB_HUGE_NOT_REQUESTED) ){
      return mbPragmaError(azArg, sqlite3_mprintf(
          "membase_hugepages: the mapping of \"%s\" is shared by the process and "
          "was made %s huge pages; choose them when the file is first opened "
          "(URI parameter membase_hugepages=%d)", mbPath(f),
          b ? "without" : "with", b));
    }
  }
  return mbPragmaResult(azArg, sqlite3_mprintf("%s", m ? mb_huge_name(h) : "not mapped"));
}

static int mbPragmaReserve(MbFile *f, const char *zVal, char **azArg){
  mb_map *m = mbMap(f);
  mb_map_info info;
  char *zErr = 0;
  memset(&info, 0, sizeof(info));
  if( m ) mb_map_get_info(m, &info);
  if( zVal ){
    sqlite3_int64 v;
    if( mb_vfs_parse_size("membase_reserve", zVal, &v, &zErr) ){
      return mbPragmaError(azArg, zErr);
    }
    if( (uint64_t)v>info.reserved ){
      return mbPragmaError(azArg, sqlite3_mprintf(
          "membase_reserve: the mapping of \"%s\" reserved %llu bytes when it "
          "was made; a reservation of %s can only be asked for when the file "
          "is first opened (URI parameter membase_reserve)", mbPath(f),
          (unsigned long long)info.reserved, zVal));
    }
  }
  return mbPragmaResult(azArg, sqlite3_mprintf("%llu", (unsigned long long)info.reserved));
}

static int mbPragmaLocking(MbFile *f, const char *zVal, char **azArg){
  char *zErr = 0;
  if( zVal ){
    int l;
    if( mb_vfs_parse_locking("membase_locking", zVal, &l, &zErr) ){
      return mbPragmaError(azArg, zErr);
    }
    if( l!=f->opts.locking ){
      return mbPragmaError(azArg, sqlite3_mprintf(
          "membase_locking: the locking mode is chosen when the database is "
          "opened (URI parameter membase_locking=%s, or VFS \"%s\"); it "
          "cannot become \"%s\" now", zVal,
          l==MB_VFS_LOCK_PROCESS ? "membase-process" : "membase", zVal));
    }
  }
  return mbPragmaResult(azArg, sqlite3_mprintf("%s", mb_vfs_locking_name(f->opts.locking)));
}

static int mbPragmaDropbehind(MbFile *f, const char *zVal, char **azArg){
  char *zErr = 0;
  if( zVal ){
    int d;
    if( mb_vfs_parse_dropbehind("membase_dropbehind", zVal, &d, &zErr) ){
      return mbPragmaError(azArg, zErr);
    }
    mb_vfs_pattern_set_dropbehind(f, d);
  }
  return mbPragmaResult(azArg, sqlite3_mprintf("%s", mb_vfs_pattern_drop_name(f)));
}

static int mbPragmaStats(MbFile *f, const char *zVal, char **azArg){
  MbShared *s = f->pShared;
  mb_map_info info;
  mb_stats st;
  if( zVal ){
    return mbPragmaError(azArg, sqlite3_mprintf(
        "membase_stats is read-only: \"%s\"", zVal));
  }
  memset(&info, 0, sizeof(info));
  mb_vfs_pattern_flush_counts(f);
  if( s && s->pMap ) mb_map_get_info(s->pMap, &info);
  mb_stats_get(&st);
  return mbPragmaResult(azArg, sqlite3_mprintf(
    "{\"locking\":\"%s\",\"mapped\":%s,\"map_error\":%s%s%s,"
    "\"reads_from_map\":%llu,\"reads_from_os\":%llu,\"fetches\":%llu,"
    "\"file_reads_from_map\":%llu,\"file_reads_from_os\":%llu,"
    "\"file_fetches\":%llu,\"bytes_mapped\":%llu,\"bytes_reserved\":%llu,"
    "\"remaps\":%llu,\"moves\":%llu,\"advice\":\"%s\","
    "\"dropbehind\":\"%s\",\"dropped_behind\":%llu,\"file_dropped_behind\":%llu,"
    "\"minor_faults\":%llu,\"major_faults\":%llu}",
    mb_vfs_locking_name(f->opts.locking),
    (s && s->pMap) ? "true" : "false",
    (s && s->zMapErr) ? "\"" : "", (s && s->zMapErr) ? s->zMapErr : "null",
    (s && s->zMapErr) ? "\"" : "",
    (unsigned long long)f->pattern.aCount[MB_IO_MAP_READ],
    (unsigned long long)f->pattern.aCount[MB_IO_OS_READ],
    (unsigned long long)f->pattern.aCount[MB_IO_FETCH],
    (unsigned long long)info.io.count[MB_IO_MAP_READ],
    (unsigned long long)info.io.count[MB_IO_OS_READ],
    (unsigned long long)info.io.count[MB_IO_FETCH],
    (unsigned long long)info.mapped, (unsigned long long)info.reserved,
    (unsigned long long)info.remaps, (unsigned long long)info.moves,
    mb_advice_name(info.advice),
    mb_vfs_pattern_drop_name(f), (unsigned long long)mb_vfs_pattern_dropped(&f->pattern),
    (unsigned long long)info.mem.dropped,
    (unsigned long long)st.minor_faults, (unsigned long long)st.major_faults));
}

/* ---------------------------------------------------------------- table */

static const struct {
  const char *zName;
  int (*xHandler)(MbFile *f, const char *zVal, char **azArg);
} aPragma[] = {
  { "membase_advice",     mbPragmaAdvice     },
  { "membase_populate",   mbPragmaPopulate   },
  { "membase_hugepages",  mbPragmaHugepages  },
  { "membase_reserve",    mbPragmaReserve    },
  { "membase_locking",    mbPragmaLocking    },
  { "membase_dropbehind", mbPragmaDropbehind },
  { "membase_stats",      mbPragmaStats      },
};
#define MB_NPRAGMA ((int)(sizeof(aPragma)/sizeof(aPragma[0])))

/* "membase: unknown PRAGMA x (expected a, b ... or z)", from the table. */
static int mbPragmaUnknown(const char *zName, char **azArg){
  sqlite3_str *p = sqlite3_str_new(0);
  sqlite3_str_appendf(p, "membase: unknown PRAGMA %s (expected ", zName);
  for(int i=0; i<MB_NPRAGMA; i++){
    sqlite3_str_appendf(p, "%s%s", i==0 ? "" : i==MB_NPRAGMA-1 ? " or " : ", ",
                        aPragma[i].zName);
  }
  sqlite3_str_appendall(p, ")");
  return mbPragmaError(azArg, sqlite3_str_finish(p));
}

int mb_vfs_pragma(MbFile *f, char **azArg){
  for(int i=0; i<MB_NPRAGMA; i++){
    if( sqlite3_stricmp(azArg[1], aPragma[i].zName)==0 ){
      return aPragma[i].xHandler(f, azArg[2], azArg);
    }
  }
  return mbPragmaUnknown(azArg[1], azArg);
}
