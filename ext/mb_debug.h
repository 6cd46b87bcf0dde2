/*
** mb_debug.h -- registration of membase_debug(), the facts a bug report
** needs (mb_debug.c has the manual; membase_debug_info() in membase.h is
** the same text from C).
*/
#ifndef MB_DEBUG_H
#define MB_DEBUG_H

#include "sqlite3ext.h"

/* Register membase_debug() on `db`. Returns an SQLite result code. */
int mb_debug_register(sqlite3 *db);

#endif /* MB_DEBUG_H */
