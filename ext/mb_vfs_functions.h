/*
** mb_vfs_functions.h -- SQL and start-up control of the membase VFS
** (manual: mb_vfs_functions.c).
*/
#ifndef MB_VFS_FUNCTIONS_H
#define MB_VFS_FUNCTIONS_H

#include "sqlite3ext.h"

/* membase_vfs_default() on db. */
int mb_vfs_functions_register(sqlite3 *db);

/* Register the VFSes, making one the default as the environment variable
** MEMBASE_DEFAULT_VFS asks. SQLITE_ERROR with *pzErr (sqlite3_malloc'ed)
** on a bad value. */
int mb_vfs_register_from_env(char **pzErr);

/* Fail a connection opened through membase with a bad URI value, with the
** message (for an automatic extension): SQLITE_ERROR and *pzErr set. */
int mb_vfs_check_open(sqlite3 *db, char **pzErr);

#endif
