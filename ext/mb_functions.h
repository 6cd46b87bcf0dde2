/*
** mb_functions.h -- registration of the MemBase SQL functions
** membase_version(), membase_map() and membase_unmap(). Internal to the
** extension: see mb_functions.c for what the functions do.
*/
#ifndef MB_FUNCTIONS_H
#define MB_FUNCTIONS_H

#include "sqlite3ext.h"

/* Register the functions on `db`. Creates the connection's pin list (the
** mappings it holds), which is freed, releasing every pin, when the
** connection closes. Returns an SQLite result code. */
int mb_functions_register(sqlite3 *db);

/* Non-zero if mb_functions_register() has already succeeded on `db` and the
** connection still holds its pin list: the marker that makes loading the
** extension twice harmless. */
int mb_functions_registered(sqlite3 *db);

#endif /* MB_FUNCTIONS_H */
