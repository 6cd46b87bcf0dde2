/*
** mb_memory_functions.h -- SQL and C control of MemBase's memory manners
** (manual: mb_memory_functions.c).
*/
#ifndef MB_MEMORY_FUNCTIONS_H
#define MB_MEMORY_FUNCTIONS_H

#include "sqlite3ext.h"

/* membase_memory(), membase_dropbehind_default(), membase_idle_budget()
** on db. */
int mb_memory_functions_register(sqlite3 *db);

#endif
