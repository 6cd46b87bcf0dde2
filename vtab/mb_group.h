/*
** mb_group.h -- registration of the membase_group() table-valued function
** (grouped, multi-column, parallel count/sum/min/max/avg over a membase
** table). Internal to the extension: see vtab/mb_group.c.
*/
#ifndef MB_GROUP_H
#define MB_GROUP_H

#include "sqlite3ext.h"

/* Register membase_group on db. Returns an SQLite result code. */
int mb_group_register(sqlite3 *db);

#endif /* MB_GROUP_H */
