/*
** mb_policy_functions.h -- the process's file policy from SQL and C
** (manual: mb_policy_functions.c; contract: docs/SECURITY.md).
*/
#ifndef MB_POLICY_FUNCTIONS_H
#define MB_POLICY_FUNCTIONS_H

#include "sqlite3ext.h"

/* membase_allowed_directories(), membase_external_access() on db. */
int mb_policy_functions_register(sqlite3 *db);

/* MEMBASE_ALLOWED_DIRS, applied once per process (mb_policy_from_env):
** SQLITE_OK, or SQLITE_ERROR with *pzErr (sqlite3_malloc) naming the
** variable and the directory at fault; the process then has no file
** access. pzErr may be NULL. */
int mb_policy_from_environment(char **pzErr);

#endif
