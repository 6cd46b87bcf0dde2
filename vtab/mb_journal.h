/*
** mb_journal.h -- the record table's rollback journal, FILE-mbjournal: its
** format, writing it, and reading it back (docs/TRANSACTIONS.md has the
** format and the recovery rules). It knows files and bytes, not tables:
** mb_rectx.c decides what goes in and applies what comes out.
*/
#ifndef MB_JOURNAL_H
#define MB_JOURNAL_H

#include <stdint.h>
#include "sqlite3ext.h"

#define MBJ_HEADER 64
#define MBJ_MAGIC  "MBJRNL02"
#define MBJ_MAGIC1 "MBJRNL01"   /* version 1: appends only, 24 bytes */

/* The header's fields. */
typedef struct MbjHeader {
  uint64_t dev, ino;       /* the file's identity */
  uint64_t nOrig, nNew;    /* its length before and after the transaction */
  uint64_t nBody;          /* bytes of entries */
  uint64_t cksum;          /* their checksum */
} MbjHeader;

/* A journal being written. */
typedef struct MbjWriter {
  sqlite3_vfs *pVfs;
  sqlite3_file *pF;        /* open when not 0 */
  char *zName;             /* FILE-mbjournal */
  unsigned char *aBuf;     /* entries not yet written */
  size_t nBuf;
  uint64_t iOff;           /* journal offset of aBuf[0] */
  uint32_t s0, s1;         /* running checksum of the bytes written */
} MbjWriter;

/* The journal's name for a file: sqlite3_malloc'd, 0 when out of memory. */
char *mbjName(const char *zFile);

/* The checksum of n bytes (a multiple of 8 except at the end, which is
** read as zero-padded), continuing from *s0, *s1. */
void mbjCksum(const unsigned char *a, size_t n, uint32_t *s0, uint32_t *s1);

/* Create (or empty) FILE-mbjournal for writing. SQLite codes. Under a
** file policy (mb_policy_state() not MB_POLICY_OPEN) whatever holds the
** name is removed and the journal created with SQLITE_OPEN_EXCLUSIVE
** (O_EXCL|O_NOFOLLOW): a file linked in under that name is never written. */
int mbjBegin(MbjWriter *w, const char *zFile);
/* Add an entry: the n bytes at file offset off before the commit. */
int mbjAdd(MbjWriter *w, uint64_t off, const void *pOld, uint32_t n);
/* Write the rest and the header, sync; then arm it and sync again. */
int mbjArm(MbjWriter *w, MbjHeader *h);
/* Close the journal (it stays on disk). */
void mbjEnd(MbjWriter *w);
/* Disarm FILE-mbjournal (its arm word zeroed) and sync it: the commit
** point; then empty it (no sync: an unarmed journal is inert, and an empty
** one readers take for none). It is kept for the next commit. If the sync
** fails, the journal is armed again, for the caller's rollback. Under a
** file policy the name is not opened again: the commit point is its
** deletion with a sync of the directory (nothing is kept). */
int mbjClear(sqlite3_vfs *pVfs, const char *zName);
/* Open the journal zName read-only into pF (pVfs->szOsFile bytes, zeroed)
** if it is a regular file: SQLITE_CANTOPEN for a FIFO, a device or a
** directory under its name (a FIFO would block the open forever). */
int mbjOpenRead(sqlite3_vfs *pVfs, const char *zName, sqlite3_file *pF);
/* Delete FILE-mbjournal and sync its directory. */
int mbjDelete(sqlite3_vfs *pVfs, const char *zName);

/* What a journal on disk holds (mbjRead). */
enum { MBJ_NONE = 0, MBJ_UNARMED, MBJ_V1, MBJ_HOT };

/* Read FILE-mbjournal: *peState is MBJ_NONE (no journal, or an empty one),
** MBJ_UNARMED (the
** commit never touched the file), MBJ_V1 (*pnV1 = the length to cut the
** file to), or MBJ_HOT (*pHdr filled, the entries checked against their
** checksum). A journal that must not be applied nor ignored is an error
** with a message naming the journal and the file (*pzErr). */
int mbjRead(sqlite3_vfs *pVfs, const char *zFile, int *peState,
            MbjHeader *pHdr, uint64_t *pnV1, char **pzErr);

/* Call xApply for each entry of a hot journal that mbjRead checked. */
int mbjForEach(sqlite3_vfs *pVfs, const char *zFile, const MbjHeader *pHdr,
               int (*xApply)(void*, uint64_t off, const void *pOld, uint32_t n),
               void *pCtx);

/* The end of every recovery message: what the user can do. */
#define MBJ_ADVICE "restore the file from a backup, or delete the journal " \
                   "to keep the file as it is"

#endif /* MB_JOURNAL_H */
