/*
** mb_records.h -- registration of the "membase" virtual table module
** (files of fixed-size records and .npy arrays as SQL tables). Internal to
** the extension: see vtab/mb_records.c for the manual.
*/
#ifndef MB_RECORDS_H
#define MB_RECORDS_H

#include "sqlite3ext.h"

#include <stdint.h>
#include "mb_map.h"

/* Register the module "membase" on db. Returns an SQLite result code. */
int mb_records_register(sqlite3 *db);

/* The records of one column of a membase table that an aggregate reads:
** records [iFirst, iEnd) of the file mapped by pMap, the field at iOff of
** each record. Valid until the statement that asked ends. */
typedef struct mb_records_span {
  mb_map *pMap;
  int eDrop;               /* the table's dropbehind=, -1 = process default */
  uint64_t nHeader, nStride;
  uint64_t iFirst, iEnd;
  uint32_t iOff, nByte;
  int eType;            /* MB_TYPE_* (numeric or bool) */
  int bBig;             /* stored big-endian */
  const char *zFile;
  void *pTab;           /* the table (mb_records_span_read) */
  uint64_t nFileRows;   /* records in the file (the rest are bOwn appends) */
  int bHeld;            /* holds the file's view lock (until _done) */
  int bOwn;             /* the table's connection has writes of its own:
                        ** read with mb_records_span_read, not the map */
} mb_records_span;

/* Find the membase table zTab of db (connecting it if need be), the
** numeric column zCol, and the records whose rowid (zKey NULL or "rowid")
** or sorted key (zKey = the sorted column) lies in [pLo, pHi] (either NULL
** or an SQL NULL: unbounded). The connection's own uncommitted writes
** count (pOut->bOwn); the sorted order is verified for key ranges. On
** SQLITE_OK the span holds the file against commits (a statement's view
** lock) until mb_records_aggregate_done. SQLITE_ERROR
** with *pzErr (sqlite3_malloc'ed) naming what is wrong. */
int mb_records_aggregate_prepare(sqlite3 *db, const char *zTab,
                                 const char *zCol, const char *zKey,
                                 sqlite3_value *pLo, sqlite3_value *pHi,
                                 mb_records_span *pOut, char **pzErr);

/* The same for membase_group (its errors say so), over the table and the
** range only: the span's own field (iOff, nByte, eType, bBig) is zero;
** the caller looks up its columns with mb_records_span_field. */
int mb_records_group_prepare(sqlite3 *db, const char *zTab, const char *zKey,
                             sqlite3_value *pLo, sqlite3_value *pHi,
                             mb_records_span *pOut, char **pzErr);

/* Column zCol (any type; case-insensitive) of a prepared span's table:
** its index and *pOut (zName owned by the table, valid while the span
** is), or -1 and *pOut untouched when the table has no such column. */
struct MbCol;
int mb_records_span_field(const mb_records_span *s, const char *zCol,
                          struct MbCol *pOut);

/* Read [off, off+n) of a span's file as its connection sees it (its own
** uncommitted writes included). SQLite codes; *pzErr on an error. */
int mb_records_span_read(const mb_records_span *s, uint64_t off, void *dst,
                         size_t n, char **pzErr);
/* The aggregate's statement is done with the span: its hold on the file
** (taken by mb_records_aggregate_prepare on success) ends. Call it at the
** end of the statement (the cursor's xClose), not after computing: a
** statement sees one committed state from start to end. */
void mb_records_aggregate_done(const mb_records_span *s);

#endif /* MB_RECORDS_H */
