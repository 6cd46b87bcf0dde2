/*
** mb_stats_table.h -- registration of the membase_stats table and the
** membase_counters() function. Internal to the extension: see mb_stats_table.c
** for what they show.
*/
#ifndef MB_STATS_VTAB_H
#define MB_STATS_VTAB_H

#include "sqlite3ext.h"

/* Register the eponymous table membase_stats and the function
** membase_counters() on `db`. Returns an SQLite result code. Registering
** again replaces the earlier registration. */
int mb_stats_register(sqlite3 *db);

#endif /* MB_STATS_VTAB_H */
