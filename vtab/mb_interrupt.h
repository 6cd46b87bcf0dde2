/*
** mb_interrupt.h -- whether sqlite3_interrupt() was called on a
** connection, for scans that run inside one xFilter call (the vectorised
** aggregates): SQLite only checks between rows, so a scan of seconds must
** ask itself.
*/
#ifndef MB_INTERRUPT_H
#define MB_INTERRUPT_H
#include "sqlite3ext.h"

/* Non-zero when db has a pending sqlite3_interrupt(). Uses
** sqlite3_is_interrupted(), found at run time: SQLite 3.41 and later have
** it; on older libraries this is always 0 (such scans cannot be
** interrupted, the manual says so). Safe from any thread, cheap enough to
** call every few thousand records. */
int mb_interrupted(sqlite3 *db);
/* 1 when the running SQLite lets scans be interrupted (3.41+). */
int mb_interrupt_supported(void);

#endif
