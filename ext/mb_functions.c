/*
** mb_functions.c -- the MemBase SQL functions that map files.
**
**   SELECT membase_version();                      -- '0.1.0'
**   SELECT membase_map('data/big.bin');            -- 67108864
**   SELECT membase_map('data/big.bin', 'populate,advice=sequential');
**   SELECT * FROM membase_stats;                   -- see vtab/mb_stats_table.c
**   SELECT membase_unmap('data/big.bin');          -- 1
**
** membase_version()
**   The version string of the extension, "MAJOR.MINOR.PATCH".
**   Deterministic and innocuous: usable anywhere, schema included.
**
** membase_map(PATH [, OPTIONS])
**   Maps the file PATH through the process-wide registry of the mapping
**   core (one mapping per file per process, shared by every connection and
**   every spelling of the path: "a.bin", "./a.bin" and a hard link to it
**   share one mapping) and pins that mapping for the life of this
**   connection: it stays mapped until membase_unmap(PATH) or until the
**   connection closes, whichever comes first. Returns the size of the
**   mapping in bytes, which is the size of the file.
**
**   Mapping a file this connection has already pinned (under any spelling)
**   takes no second pin; it applies the options to the shared mapping,
**   brings the mapping up to date with the file's current size (a file that
**   grew or shrank since it was mapped is remapped now; membase_stats shows
**   the old size until then) and returns the size again.
**
**   A zero-length file is not an error: it maps as an empty view of 0
**   bytes, which a later membase_map() call grows if the file grows.
**
**   OPTIONS is a comma-separated list of words (case-insensitive; spaces
**   around words and empty words are ignored; NULL is no options):
**     populate    bring the whole file into memory now, so the first reads
**                 do not fault (the platform's best method)
**     hugepages   ask for huge pages; a request, never a failure (see the
**                 hugepages column of membase_stats for the outcome).
**                 Honoured only by the call that creates the shared mapping.
**     write       map read-write (an existing read-only shared mapping is
**                 upgraded in place); fails if the file is not writable
**     advice=A    advise the kernel on the whole mapping, A one of normal,
**                 random, sequential, willneed, dontneed. normal, random and
**                 sequential are remembered (membase_stats.advice);
**                 willneed and dontneed act once.
**
**   Errors name the function, the file and the reason, e.g.
**     membase_map: cannot map "/x/y": no such file
**     membase_map: cannot map "/x": is a directory, not a file
**     membase_map: cannot map "/x/y": permission denied
**     membase_map: cannot map "/x/y": write access to a read-only file or mapping
**     membase_map: unknown option "xyz"
**     membase_map: unknown advice "xyz" (use normal, random, sequential, willneed or dontneed)
**     membase_map: path is NULL
**   On any error the connection's pins are as they were before the call.
**
** membase_unmap(PATH)
**   Drops this connection's pin on the file PATH (any spelling of it).
**   Returns 1 if the connection held one, 0 if not. The mapping itself goes
**   away when its last user (connection, VFS, table) releases it.
**
** membase_map() and membase_unmap() open files, so they are DIRECTONLY:
** SQLite refuses them in views, triggers and DEFAULT values ("unsafe use
** of membase_map()"), whatever trusted_schema says; being non-deterministic
** they cannot be in generated columns or indexes. SQLite 3.40 does run them
** in CHECK constraints, so they also act only when the running statement's
** own SQL names them (mb_sqlsafe.h). A path must be TEXT without a NUL
** byte, and the file must pass the file policy (docs/SECURITY.md):
**   membase_map: PATH must be TEXT (a file path), not BLOB
**   membase_map: "/data/../etc/x" resolves to "/etc/x", outside the allowed
**     directories /data (set by MEMBASE_ALLOWED_DIRS)
**
** Implementation notes
**   SQLite 3.40 has no per-connection client data, so the pins hang off a
**   per-connection MbConn that is the user data of the registrations of
**   membase_map and membase_unmap. It is reference-counted by those
**   registrations and freed, releasing every pin, by SQLite's destructor
**   call when the connection closes (or when all of them are replaced).
**   A process-wide list of the MbConn objects tells whether a connection is
**   already registered, which makes loading the extension twice harmless.
*/
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "membase.h"
#include "mb_functions.h"
#include "mb_mutex.h"
#include "mb_sqlite.h"
#include "mb_sqlsafe.h"

typedef struct MbPin MbPin;
typedef struct MbConn MbConn;

/* One mapping pinned by one connection. */
struct MbPin {
  MbPin *pNext;
  mb_map *pMap;       /* a reference taken with mb_registry_acquire() */
  char *zPath;        /* the path as this connection spelled it */
};

/* The MemBase state of one connection. */
struct MbConn {
  MbConn *pNext;      /* the process-wide list (mbConnList) */
  sqlite3 *db;        /* the connection */
  int nRef;           /* registrations (and callers) holding this object */
  int bLinked;        /* non-zero while on mbConnList */
  MbPin *pPin;        /* the pins of this connection */
};

/* Every registered MbConn. Guarded by the mutex below, which is held
** only for list operations and never while calling SQLite or the core, so
** it cannot deadlock with anything. */
static MbConn *mbConnList = 0;

static mb_mutex mbConnMu = MB_MUTEX_INIT;

/* Release one reference to p; the last one releases the pins and frees it.
** Also the destructor SQLite calls for each registration. */
static void mbConnUnref(void *pArg){
  MbConn *p = (MbConn*)pArg;
  if( --p->nRef>0 ) return;
  if( p->bLinked ){
    MbConn **pp;
    mb_mutex_enter(&mbConnMu);
    for(pp=&mbConnList; *pp && *pp!=p; pp=&(*pp)->pNext){}
    if( *pp ) *pp = p->pNext;
    mb_mutex_leave(&mbConnMu);
  }
  while( p->pPin ){
    MbPin *pPin = p->pPin;
    p->pPin = pPin->pNext;
    mb_registry_release(pPin->pMap);
    sqlite3_free(pPin->zPath);
    sqlite3_free(pPin);
  }
  sqlite3_free(p);
}

int mb_functions_registered(sqlite3 *db){
  MbConn *p;
  mb_mutex_enter(&mbConnMu);
  for(p=mbConnList; p && p->db!=db; p=p->pNext){}
  mb_mutex_leave(&mbConnMu);
  return p!=0;
}

/* ------------------------------------------------------------ errors */

/* Take the path argument, or set an error and return NULL. */
static const char *mbPathArg(
  sqlite3_context *ctx,
  const char *zFunc,
  sqlite3_value *pVal
){
  int bNull = 0;
  const char *zPath;
  /* The own-SQL rule first: a schema object's call learns nothing, not
  ** even whether its argument was acceptable. */
  if( !mb_sql_called_directly(ctx, zFunc) ) return 0;
  zPath = mb_sql_path_arg(ctx, pVal, zFunc, "PATH", &bNull);
  if( bNull ) mb_result_errorf(ctx, "%s: path is NULL", zFunc);
  return zPath;
}

/* ------------------------------------------------------------ options */

typedef struct MbMapOptions MbMapOptions;
struct MbMapOptions {
  unsigned flags;       /* MB_MAP_POPULATE | MB_MAP_HUGEPAGES | MB_MAP_WRITE */
  int bAdvice;          /* non-zero if advice= was given */
  mb_advice eAdvice;    /* the advice given */
};

/*
** Parse the OPTIONS argument of membase_map() into *p: comma-separated
** words populate, hugepages, write and advice=NAME. Returns SQLITE_OK, or
** SQLITE_ERROR with *pzErr set to a message from sqlite3_mprintf() that
** names the word at fault, or SQLITE_NOMEM.
*/
static int mbParseOptions(const char *z, MbMapOptions *p, char **pzErr){
  static const char *const azOpt[] = { "populate", "hugepages", "write",
                                       "advice" };
  static const unsigned aFlag[] = { MB_MAP_POPULATE, MB_MAP_HUGEPAGES,
                                    MB_MAP_WRITE, 0 };
  static const char *const azAdvice[] = { "normal", "random", "sequential",
                                          "willneed", "dontneed" };
  static const char zWho[] = "membase_map";
  unsigned seen = 0;
  while( *z ){
    const char *zEnd = strchr(z, ',');
    int n = zEnd ? (int)(zEnd - z) : (int)strlen(z);
    char *zKey = 0, *zVal = 0;
    int iOpt, rc;
    rc = mb_opt_split(zWho, z, n, 1, &zKey, &zVal, pzErr);
    z += zEnd ? n+1 : n;
    if( rc ) return rc;
    if( zKey[0]==0 && zVal==0 ){ sqlite3_free(zKey); continue; }
    for(iOpt=0; iOpt<4 && sqlite3_stricmp(zKey, azOpt[iOpt]); iOpt++){}
    if( iOpt==4 || (iOpt<3)!=(zVal==0) ){
      /* unknown, advice without a value, or a flag with one */
      *pzErr = zVal ? sqlite3_mprintf("%s: unknown option \"%s=%s\"", zWho,
                                      zKey, zVal)
                    : sqlite3_mprintf("%s: unknown option \"%s\"", zWho, zKey);
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }else{
      rc = mb_opt_once(zWho, azOpt[iOpt], &seen, iOpt, pzErr);
    }
    if( rc==SQLITE_OK && iOpt<3 ){
      p->flags |= aFlag[iOpt];
    }else if( rc==SQLITE_OK ){
      int a;
      rc = mb_opt_enum(zWho, zKey, zVal, azAdvice, 5, &a, pzErr);
      p->bAdvice = 1;
      p->eAdvice = (mb_advice)(MB_ADV_NORMAL + a);
    }
    sqlite3_free(zKey);
    sqlite3_free(zVal);
    if( rc ) return rc;
  }
  return SQLITE_OK;
}

/* ------------------------------------------------------------ functions */

/* membase_version() */
static void mbVersionFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  (void)argc;
  (void)argv;
  sqlite3_result_text(ctx, MEMBASE_VERSION, -1, SQLITE_STATIC);
}

static MbPin *mbFindPinByMap(MbConn *p, const mb_map *pMap){
  MbPin *pPin;
  for(pPin=p->pPin; pPin && pPin->pMap!=pMap; pPin=pPin->pNext){}
  return pPin;
}

/* membase_map(PATH [, OPTIONS]) */
static void mbMapFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  MbConn *pConn = (MbConn*)sqlite3_user_data(ctx);
  MbMapOptions opt = { 0, 0, MB_ADV_NORMAL };
  const char *zPath;
  mb_map *pMap = 0;
  uint64_t nOld;                  /* size of the view before the refresh */
  uint64_t nByte = 0;             /* size of the view after it */
  char why[1600];
  int rc, mrc;

  zPath = mbPathArg(ctx, "membase_map", argv[0]);
  if( zPath==0 ) return;
  if( argc>1 && sqlite3_value_type(argv[1])!=SQLITE_NULL ){
    const char *zOpt = (const char*)sqlite3_value_text(argv[1]);
    char *zErr = 0;
    rc = zOpt ? mbParseOptions(zOpt, &opt, &zErr) : SQLITE_NOMEM;
    if( rc==SQLITE_NOMEM ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
    if( rc!=SQLITE_OK ){
      sqlite3_result_error(ctx, zErr, -1);
      sqlite3_free(zErr);
      return;
    }
  }

  /* Always acquire, even if this connection already pins the file: the
  ** registry applies write and populate to the shared mapping as it hands
  ** out the reference. A second reference is dropped again below. */
  mrc = mb_registry_acquire_checked(zPath, opt.flags, &pMap, why, sizeof why);
  if( mrc==MB_EPOLICY ){
    mb_result_errorf(ctx, "membase_map: %s", why);
    return;
  }
  if( mrc!=MB_OK ){
    mb_result_core_error(ctx, "membase_map", "map", zPath, mrc);
    return;
  }

  /* Bring the mapping up to date with the file (growth since another user
  ** mapped it), then advise. Both before the pin is recorded, so a failure
  ** leaves the connection's pins as they were. */
  nOld = mb_map_size(pMap);
  mrc = mb_registry_refresh(pMap, &nByte);
  if( mrc!=MB_OK ){
    mb_result_core_error(ctx, "membase_map", "remap", zPath, mrc);
    mb_registry_release(pMap);
    return;
  }
  if( (opt.flags & MB_MAP_POPULATE) && nByte>nOld ){
    /* The registry populated the view as it was; populate the growth too.
    ** Best effort, like populate itself: a failure is not a failure to map. */
    (void)mb_map_populate_bounded(pMap, nOld, nByte-nOld, MB_POP_DEFAULT, 0, 0);
  }
  if( opt.bAdvice ){
    mrc = mb_map_advise(pMap, opt.eAdvice, 0, 0);
    if( mrc!=MB_OK ){
      mb_result_core_error(ctx, "membase_map", "advise", zPath, mrc);
      mb_registry_release(pMap);
      return;
    }
  }
  if( nByte>(uint64_t)INT64_MAX ){
    /* Not reachable with real files; keeps the conversion below exact. */
    mb_result_core_error(ctx, "membase_map", "map", zPath, MB_EOVERFLOW);
    mb_registry_release(pMap);
    return;
  }

  if( mbFindPinByMap(pConn, pMap) ){
    /* Already pinned by this connection: keep one pin only. */
    mb_registry_release(pMap);
  }else{
    MbPin *pPin = (MbPin*)sqlite3_malloc64(sizeof(*pPin));
    char *zCopy = sqlite3_mprintf("%s", zPath);
    if( pPin==0 || zCopy==0 ){
      sqlite3_free(pPin);
      sqlite3_free(zCopy);
      mb_registry_release(pMap);
      sqlite3_result_error_nomem(ctx);
      return;
    }
    pPin->pMap = pMap;
    pPin->zPath = zCopy;
    pPin->pNext = pConn->pPin;
    pConn->pPin = pPin;
  }
  sqlite3_result_int64(ctx, (sqlite3_int64)nByte);
}

/* membase_unmap(PATH) */
static void mbUnmapFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  MbConn *pConn = (MbConn*)sqlite3_user_data(ctx);
  const char *zPath;
  MbPin **pp;
  (void)argc;

  zPath = mbPathArg(ctx, "membase_unmap", argv[0]);
  if( zPath==0 ) return;

  /* The spelling this connection mapped it by... */
  for(pp=&pConn->pPin; *pp && strcmp((*pp)->zPath, zPath)!=0; pp=&(*pp)->pNext){}

  /* ...or another spelling of the same file: the registry knows files by
  ** identity. The lookup opens nothing and takes no reference. */
  if( *pp==0 && pConn->pPin!=0
   && mb_policy_check_path(zPath, 0, 0)==MB_OK ){   /* no probe outside it */
    mb_map *pMap = 0;
    if( mb_registry_lookup(zPath, &pMap)==MB_OK && pMap ){
      for(pp=&pConn->pPin; *pp && (*pp)->pMap!=pMap; pp=&(*pp)->pNext){}
    }
  }

  if( *pp ){
    MbPin *pPin = *pp;
    *pp = pPin->pNext;
    mb_registry_release(pPin->pMap);
    sqlite3_free(pPin->zPath);
    sqlite3_free(pPin);
    sqlite3_result_int(ctx, 1);
  }else{
    sqlite3_result_int(ctx, 0);
  }
}

/* ------------------------------------------------------------ registration */

int mb_functions_register(sqlite3 *db){
  static const struct {
    const char *zName;
    int nArg;
    int eFlags;
    void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
  } aFunc[] = {
    { "membase_map",   1, SQLITE_DIRECTONLY, mbMapFunc   },
    { "membase_map",   2, SQLITE_DIRECTONLY, mbMapFunc   },
    { "membase_unmap", 1, SQLITE_DIRECTONLY, mbUnmapFunc },
  };
  MbConn *p;
  size_t i;
  int rc;

  rc = sqlite3_create_function(db, "membase_version", 0,
      SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS, 0,
      mbVersionFunc, 0, 0);
  if( rc!=SQLITE_OK ) return rc;

  p = (MbConn*)sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->nRef = 1;                    /* held by this function until the end */
  for(i=0; i<sizeof(aFunc)/sizeof(aFunc[0]) && rc==SQLITE_OK; i++){
    /* SQLite calls the destructor if the registration fails, so the
    ** reference is taken before the call either way. */
    p->nRef++;
    rc = sqlite3_create_function_v2(db, aFunc[i].zName, aFunc[i].nArg,
        SQLITE_UTF8|aFunc[i].eFlags, p, aFunc[i].xFunc, 0, 0, mbConnUnref);
  }
  if( rc==SQLITE_OK ){
    /* Only a complete registration marks the connection as done. */
    mb_mutex_enter(&mbConnMu);
    p->pNext = mbConnList;
    mbConnList = p;
    p->bLinked = 1;
    mb_mutex_leave(&mbConnMu);
  }
  mbConnUnref(p);
  return rc;
}
