/*
** membase.h -- the public C API of MemBase, for applications that link
** MemBase in statically (libmembase.a, CMake target membase_static) instead
** of loading the module with `.load membase` / sqlite3_load_extension().
**
** MemBase adds to SQLite, on every connection it is registered with, the
** SQL objects that ext/membase.c lists (functions, the membase,
** membase_lines, membase_aggregate and membase_stats tables), each with
** its manual in the opening comment of its source file; and, for the
** process, the VFSes "membase" and "membase-process" (vfs/mb_vfs.c).
** docs/GUIDE.md is the user's guide to all of them.
**
** Typical use, once at program start-up, before opening connections:
**
**     #include "membase.h"
**     if( membase_register()!=SQLITE_OK ) ... fail ...
**     sqlite3_open("app.db", &db);     // db has the MemBase functions
**
** Thread safety: every function here may be called from any thread. The
** MemBase functions of one connection follow that connection's threading
** mode, like any SQL function.
*/
#ifndef MEMBASE_H
#define MEMBASE_H

#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header. membase_version() returns the version of the
** library actually linked; the two are equal unless the build is mixed up. */
#define MEMBASE_VERSION "0.1.0"

/*
** The version string of the linked library, "MAJOR.MINOR.PATCH", e.g.
** "0.1.0". A static string: never NULL, never to be freed.
*/
const char *membase_version(void);

/*
** What a bug report needs, as the text SELECT membase_debug() returns: one
** `key: value` line per fact (the version, the commit and date of the
** build, the compiler, the SQLite compiled against and running, the
** platform, and which optional features are active now; ext/mb_debug.c
** lists the keys). Returns a string obtained from sqlite3_mprintf(), to be
** freed with sqlite3_free(), or NULL if out of memory.
*/
char *membase_debug_info(void);

/*
** Register MemBase as an automatic extension (sqlite3_auto_extension), so
** that every connection opened afterwards in this process has the MemBase
** functions and tables, and register the membase VFSes (without making
** either the default: see membase_vfs_register). Connections already open
** are not changed: use membase_register_db() for them.
**
** Calling it more than once is harmless: SQLite keeps one entry.
**
** Returns SQLITE_OK, or SQLITE_NOMEM if SQLite could not grow its list of
** automatic extensions (nothing is registered then), or the error of
** sqlite3_initialize() if SQLite cannot initialise.
**
** If registering on a new connection fails later (out of memory),
** sqlite3_open() of that connection fails with the message
** "automatic extension loading failed: ...".
*/
int membase_register(void);

/*
** Register the MemBase functions and tables on one open connection `db`.
**
** Idempotent: a connection that already has them (from an earlier call,
** from membase_register() or from loading the module) is left as it is, and
** the pins it holds (membase_map) are kept.
**
** `db` must be an open connection: NULL gives SQLITE_MISUSE.
**
** Returns SQLITE_OK, SQLITE_NOMEM, or the error code SQLite returned for a
** failed registration (SQLITE_BUSY if a statement of `db` that uses a
** function of the same name is running). On error the connection may have
** some of the functions; calling again completes the registration.
** sqlite3_errmsg(db) is not changed.
*/
int membase_register_db(sqlite3 *db);

/*
** Register the MemBase VFSes with SQLite (see vfs/mb_vfs.c for the manual):
**   "membase"          database pages served from the file's process-wide
**                      mapping; locking exactly as the platform VFS
**                      ("unix" or "win32"), which it wraps;
**   "membase-process"  the same with membase_locking=process: the process
**                      takes the file's OS lock once and coordinates its
**                      own connections in memory.
**
** makeDefault: MEMBASE_VFS_KEEP_DEFAULT (0) leaves the default VFS alone,
** MEMBASE_VFS_DEFAULT_SHARED (1) makes "membase" the default,
** MEMBASE_VFS_DEFAULT_PROCESS (2) makes "membase-process" the default.
**
** Idempotent: calling it again (or loading the module again) never wraps
** membase around itself; it only re-asserts the default when asked, which
** is needed after sqlite3_shutdown() + sqlite3_initialize(), as these make
** the platform VFS the default again.
**
** It also installs a small automatic extension: a connection opened
** through membase with a bad membase_* URI value then fails to open with a
** message naming the value (the VFS's xOpen cannot carry one).
**
** Returns SQLITE_OK, SQLITE_MISUSE for another makeDefault value,
** SQLITE_ERROR if the platform VFS is not registered, SQLITE_NOMEM, or the
** error of sqlite3_initialize().
*/
#define MEMBASE_VFS_KEEP_DEFAULT    0
#define MEMBASE_VFS_DEFAULT_SHARED  1
#define MEMBASE_VFS_DEFAULT_PROCESS 2
int membase_vfs_register(int makeDefault);

/*
** Memory manners, process-wide (docs/GUIDE.md, "Memory"):
**  - membase_set_dropbehind("auto" | "on" | "off"): the default drop-behind
**    policy of scans (record and lines tables, VFS databases) that do not
**    set their own. auto (the default): release the pages a scan has passed
**    when the file is larger than half the memory the process may use
**    (MemAvailable, or the memory cgroup's limit minus its usage), or under
**    memory pressure. SQLITE_ERROR for another value (nothing changes).
**  - membase_set_idle_budget(bytes, count): how many mappings, and how many
**    bytes of them, the registry may keep open after their last user, so
**    the next query of the file skips the map cost; least recently used
**    are closed first, and all of them under memory pressure. Default 0, 0.
**    SQLITE_RANGE for a negative value (nothing changes).
** Both may be called at any time, from any thread.
*/
int membase_set_dropbehind(const char *zPolicy);
int membase_set_idle_budget(sqlite3_int64 nBytes, sqlite3_int64 nCount);

/*
** The file policy (docs/SECURITY.md): which files MemBase may open by name
** (record tables, membase_lines, membase_map; never the VFS's databases).
** One per process, and it only narrows.
**  - membase_allow_directories(azDir, nDir, &zErr): only files inside these
**    nDir directories (resolved now; each must exist, and lie inside the
**    directories already allowed). SQLITE_OK; SQLITE_AUTH when it would
**    widen the policy, SQLITE_ERROR for a directory that cannot be
**    resolved, SQLITE_MISUSE for no directory; *pzErr (if pzErr is not
**    NULL) then holds the message, to be freed with sqlite3_free.
**  - membase_disable_file_access(): no file by name until the process ends.
** The environment's MEMBASE_ALLOWED_DIRS=/a:/b is applied first, by
** membase_register() or the first load.
*/
int membase_allow_directories(const char *const *azDir, int nDir, char **pzErr);
void membase_disable_file_access(void);

/*
** The entry point SQLite calls when it loads the module (the name comes from
** the file name membase.so). Listed here for completeness: applications call
** membase_register() or membase_register_db() instead.
*/
int sqlite3_membase_init(sqlite3 *db, char **pzErrMsg,
                         const sqlite3_api_routines *pApi);

#ifdef __cplusplus
}
#endif
#endif /* MEMBASE_H */
