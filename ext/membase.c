/*
** membase.c -- the entry point of MemBase: memory-mapped I/O for SQLite.
**
** Load the module into the sqlite3 shell, or any program using SQLite:
**
**     .load ./build/membase
**     SELECT membase_version();
**     SELECT membase_map('data.bin', 'populate');
**     SELECT path, mapped, refcount FROM membase_stats;
**
** or from C: sqlite3_enable_load_extension(db, 1);
**            sqlite3_load_extension(db, "build/membase", 0, &zErr);
**
** Loading registers MemBase on the loading connection and installs it as an
** automatic extension, so every connection the process opens afterwards has
** it too, and keeps the module loaded for the life of the process
** (SQLITE_OK_LOAD_PERMANENTLY). Loading it again, on the same connection or
** another, is harmless: a connection that has MemBase keeps it (and its
** pins) as it is, and SQLite keeps one automatic-extension entry.
**
** What a connection gets (each documented in the opening comment of its
** file, which is its manual):
**   ext/mb_functions.c        membase_version(), membase_map(), membase_unmap()
**   ext/mb_memory_functions.c membase_memory(), membase_dropbehind_default(),
**                             membase_idle_budget()
**   ext/mb_vfs_functions.c    membase_vfs_default()
**   ext/mb_policy_functions.c membase_allowed_directories(),
**                             membase_external_access()
**   ext/mb_debug.c            membase_debug() (for bug reports)
**   vtab/mb_stats_table.c     the membase_stats table, membase_counters()
**   vtab/mb_records.c         the membase module (record files as tables)
**   vtab/mb_aggregate.c       membase_aggregate()
**   vtab/mb_group.c           membase_group()
**   vtab/mb_lines.c           membase_lines (text files as tables),
**                             membase_lines_index()
** and, for the process, the VFSes "membase" and "membase-process"
** (vfs/mb_vfs.c), made the default if MEMBASE_DEFAULT_VFS asks.
**
** Built into the static library (SQLITE_CORE defined), the same code backs
** the C API of ext/membase.h: membase_register() registers the VFSes and
** installs the automatic extension, membase_register_db() registers on one
** connection, membase_vfs_register() registers the VFSes alone. There
** sqlite3_membase_init() registers on its connection only and returns
** SQLITE_OK, so it can itself be passed to sqlite3_auto_extension().
**
** This file only wires: it calls the registration function of each part.
*/
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1
#include "membase.h"
#include "mb_functions.h"
#include "../vtab/mb_stats_table.h"
#include "../vtab/mb_records.h"
#include "../vtab/mb_aggregate.h"
#include "../vtab/mb_group.h"
#include "../vtab/mb_lines.h"
#include "mb_vfs_functions.h"
#include "mb_memory_functions.h"
#include "mb_policy_functions.h"
#include "mb_debug.h"
#include "mb_sqlite_version.h"
#include "mb_map.h"
#include "../vfs/mb_vfs.h"

/* The module is built with hidden visibility: the entry point is the one
** symbol it exports. */
#if defined(_WIN32) && !defined(SQLITE_CORE)
# define MB_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
# define MB_EXPORT __attribute__((visibility("default")))
#else
# define MB_EXPORT
#endif

const char *membase_version(void){
  return MEMBASE_VERSION;
}

/* Register every part on db, unless db already has MemBase. The functions
** go last: their registration is the marker mb_functions_registered() sees,
** so a failure half-way leaves no marker and a retry completes the work. */
static int mbRegisterAll(sqlite3 *db){
  int rc;
  if( mb_functions_registered(db) ) return SQLITE_OK;
  rc = mb_stats_register(db);
  if( rc==SQLITE_OK ) rc = mb_records_register(db);
  if( rc==SQLITE_OK ) rc = mb_aggregate_register(db);
  if( rc==SQLITE_OK ) rc = mb_group_register(db);
  if( rc==SQLITE_OK ) rc = mb_lines_register(db);
  if( rc==SQLITE_OK ) rc = mb_vfs_functions_register(db);
  if( rc==SQLITE_OK ) rc = mb_memory_functions_register(db);
  if( rc==SQLITE_OK ) rc = mb_policy_functions_register(db);
  if( rc==SQLITE_OK ) rc = mb_debug_register(db);
  if( rc==SQLITE_OK ) rc = mb_functions_register(db);
  return rc;
}

static void mbSetError(char **pzErrMsg, int rc){
  if( pzErrMsg ){
    *pzErrMsg = sqlite3_mprintf("membase: cannot register: %s",
                                sqlite3_errstr(rc));
  }
}

/* The automatic extension. SQLite fails sqlite3_open() when an automatic
** extension returns anything but 0, so unlike the entry point this returns
** SQLITE_OK, never SQLITE_OK_LOAD_PERMANENTLY. */
static int mbAutoInit(
  sqlite3 *db,
  char **pzErrMsg,
  const sqlite3_api_routines *pApi
){
  int rc;
  (void)pApi;   /* the API pointer was set when the module was loaded */
  /* A database opened through membase with a bad URI value fails here,
  ** with the message the VFS kept (mb_vfs_functions.c). */
  rc = mb_vfs_check_open(db, pzErrMsg);
  if( rc!=SQLITE_OK ) return rc;
  rc = mbRegisterAll(db);
  if( rc!=SQLITE_OK ) mbSetError(pzErrMsg, rc);
  return rc;
}

MB_EXPORT int sqlite3_membase_init(
  sqlite3 *db,
  char **pzErrMsg,
  const sqlite3_api_routines *pApi
){
  int rc;
  SQLITE_EXTENSION_INIT2(pApi);
  /* An older SQLite than we support is refused before any call that its
  ** API table may not have (mb_sqlite_version.h). */
  rc = mb_sqlite_version_check(pzErrMsg);
  if( rc!=SQLITE_OK ) return rc;
  /* The file policy of the environment (MEMBASE_ALLOWED_DIRS), once per
  ** process; a bad value fails every load, with no file access left. First
  ** of all: a failed load is unloaded again, so nothing (no VFS) may have
  ** been registered that points into it. */
  rc = mb_policy_from_environment(pzErrMsg);
  if( rc!=SQLITE_OK ) return rc;
#ifndef SQLITE_CORE
  /* The VFSes, and the default VFS the environment asks for. */
  {
    char *zErr = 0;
    rc = mb_vfs_register_from_env(&zErr);
    if( rc!=SQLITE_OK ){
      if( pzErrMsg && zErr ){
        *pzErrMsg = zErr;
      }else{
        sqlite3_free(zErr);
        mbSetError(pzErrMsg, rc);
      }
      return rc;
    }
  }
#endif
  rc = mbRegisterAll(db);
#ifndef SQLITE_CORE
  /* SQLite ignores a second registration of the same function. */
  if( rc==SQLITE_OK ) rc = sqlite3_auto_extension((void(*)(void))mbAutoInit);
#endif
  if( rc!=SQLITE_OK ){
    mbSetError(pzErrMsg, rc);
    return rc;
  }
#ifdef SQLITE_CORE
  return SQLITE_OK;
#else
  /* The automatic extension points into this module: never unload it. */
  return SQLITE_OK_LOAD_PERMANENTLY;
#endif
}

#ifdef SQLITE_CORE
int membase_register(void){
  int rc = mb_sqlite_version_check(0);
  if( rc==SQLITE_OK ) rc = mb_policy_from_environment(0);
  if( rc==SQLITE_OK ) rc = mb_vfs_register(0);
  if( rc==SQLITE_OK ) rc = sqlite3_auto_extension((void(*)(void))mbAutoInit);
  return rc;
}

/* Only the check of the VFS's deferred open errors, for applications that
** register the VFS without the rest of MemBase. */
static int mbCheckOpenInit(
  sqlite3 *db,
  char **pzErrMsg,
  const sqlite3_api_routines *pApi
){
  (void)pApi;
  return mb_vfs_check_open(db, pzErrMsg);
}

int membase_vfs_register(int makeDefault){
  int rc = mb_sqlite_version_check(0);
  if( rc==SQLITE_OK ) rc = mb_vfs_register(makeDefault);
  if( rc==SQLITE_OK ) rc = sqlite3_auto_extension((void(*)(void))mbCheckOpenInit);
  return rc;
}

int membase_register_db(sqlite3 *db){
  int rc;
  if( db==0 ) return SQLITE_MISUSE;
  rc = mb_sqlite_version_check(0);
  if( rc!=SQLITE_OK ) return rc;
  /* The check and the registration as one step with respect to other
  ** threads using db (loading and sqlite3_open hold this mutex too). */
  rc = mb_policy_from_environment(0);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_mutex_enter(sqlite3_db_mutex(db));
  rc = mbRegisterAll(db);
  sqlite3_mutex_leave(sqlite3_db_mutex(db));
  return rc;
}
#endif

/* Memory manners (ext/membase.h). */
int membase_set_dropbehind(const char *zPolicy){
  mb_dropbehind p;
  if( zPolicy==0 || mb_dropbehind_parse(zPolicy, &p)!=MB_OK ) return SQLITE_ERROR;
  mb_set_dropbehind_default(p);
  return SQLITE_OK;
}

int membase_set_idle_budget(sqlite3_int64 nBytes, sqlite3_int64 nCount){
  if( nBytes<0 || nCount<0 ) return SQLITE_RANGE;
  return mb_registry_set_idle_budget((uint64_t)nBytes, (uint64_t)nCount)==MB_OK
       ? SQLITE_OK : SQLITE_ERROR;
}

/* The file policy (ext/membase.h, docs/SECURITY.md). */
int membase_allow_directories(const char *const *azDir, int nDir, char **pzErr){
  char why[1600];
  int mrc;
  if( pzErr ) *pzErr = 0;
  if( azDir==0 || nDir<1 ) return SQLITE_MISUSE;
  mrc = mb_policy_allow(azDir, (size_t)nDir, "membase_allow_directories()",
                        why, sizeof why);
  if( mrc==MB_OK ) return SQLITE_OK;
  if( mrc==MB_ENOMEM ) return SQLITE_NOMEM;
  if( pzErr ) *pzErr = sqlite3_mprintf("membase_allow_directories: %s", why);
  return mrc==MB_EPOLICY ? SQLITE_AUTH : SQLITE_ERROR;
}

void membase_disable_file_access(void){
  mb_policy_deny_all("membase_disable_file_access()");
}
