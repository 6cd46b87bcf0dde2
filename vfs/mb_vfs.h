/*
** mb_vfs.h -- what ext/ needs of the membase VFS (manual: mb_vfs.c).
*/
#ifndef MB_VFS_H
#define MB_VFS_H

#include "sqlite3ext.h"

/* Register "membase" and "membase-process" (idempotent); makeDefault 0
** keeps the default VFS, 1 makes "membase" the default, 2
** "membase-process". As membase_vfs_register() in ext/membase.h. */
int mb_vfs_register(int makeDefault);

/* Check the environment variables the VFS reads at registration
** (MEMBASE_WAL_MAP: 0 or 1); mb_vfs_register() fails with SQLITE_ERROR on a
** bad one. SQLITE_ERROR with *pzErr (sqlite3_malloc'ed) naming it. */
int mb_vfs_check_env(char **pzErr);

/* The deferred error of database zDb of db when it was opened through
** membase with a bad URI value: SQLITE_ERROR with *pzErr the message
** (owned by the file, valid while it is open), else SQLITE_OK. */
int mb_vfs_open_error(sqlite3 *db, const char *zDb, const char **pzErr);

#endif /* MB_VFS_H */
