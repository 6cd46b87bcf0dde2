/*
** mb_aggregate.h -- registration of the membase_aggregate() table-valued
** function (vectorized count/sum/min/max/avg over a membase table's
** column). Internal to the extension: see vtab/mb_aggregate.c.
*/
#ifndef MB_AGGREGATE_H
#define MB_AGGREGATE_H

#include "sqlite3ext.h"

/* Register membase_aggregate on db. Returns an SQLite result code. */
int mb_aggregate_register(sqlite3 *db);

#endif /* MB_AGGREGATE_H */
