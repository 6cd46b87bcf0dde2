/*
** mb_lines.h -- registration of membase_lines, the text-file table, and of
** membase_lines_index(). Internal to the extension: see mb_lines.c for what
** they do.
*/
#ifndef MB_LINES_H
#define MB_LINES_H

#include "sqlite3ext.h"

/* Register the module membase_lines (an eponymous table-valued function,
** and a module for CREATE VIRTUAL TABLE) and the function
** membase_lines_index() on `db`. Returns an SQLite result code. */
int mb_lines_register(sqlite3 *db);

#endif /* MB_LINES_H */
