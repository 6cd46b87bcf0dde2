/*
** mb_rectab.h -- the record table's internal model, shared by its files:
**   mb_rectab.c  the record file: size, reads, the sorted key, bounds,
**                the tables open in the process
**   mb_recscan.c planning (xBestIndex) and the cursor (xFilter, xNext...)
**   mb_recgroup.c GROUP BY: the hashed pass into group order, the gather
**   mb_rectx.c   the write set, xUpdate, xBegin ... xCommit, savepoints
**   mb_reccommit.c the writer and view locks, COMMIT, recovery
**   mb_journal.c the journal file (knows no tables)
**   mb_records.c the module: options, connect, the module table
** mb_records.c has the user manual.
*/
#ifndef MB_RECTAB_H
#define MB_RECTAB_H

#include "mb_codec.h"
#include "mb_map.h"
#include "mb_layout.h"
#include "mb_npy.h"
#include "../ext/mb_sqlite.h"

/* Records copied per block by scans: bytes of the block buffer. Large
** enough that the guarded copy's fixed cost (tens of ns) vanishes per
** record, small enough to stay in L2. */
#define MB_BLOCK_BYTES (64*1024)
/* GROUP BY without SQLite's sorter (mb_recgroup.c): tables of at most
** this many records (8 bytes of memory each during the pass), and at most
** this many columns grouped on. */
#define MB_GROUP_MAX_ROWS ((uint64_t)1<<26)
#define MB_GROUP_MAX_COLS 16
/* How long a writer waits for another writer, in ms. */
#define MB_BUSY_MS 5000



typedef struct MbSavepoint {
  size_t nUndo;        /* undo log bytes when it was set */
  uint64_t nRows;      /* logical records when it was set */
} MbSavepoint;

typedef struct MbRecTab MbRecTab;
struct MbRecTab {
  sqlite3_vtab base;       /* base class: must be first */
  sqlite3 *db;
  char *zFile;             /* as given */
  char *zName;             /* the table's name */
  char *zSchema;           /* its database: main, temp, or attached */
  mb_map *pMap;            /* registry map of the file */
  mb_layout layout;
  int nCol;
  MbCol *aCol;
  uint64_t nHeader;        /* bytes before the first record */
  uint64_t nStride;        /* bytes per record */
  uint64_t nRecord;        /* bytes of a record that the layout covers */
  int iSorted;             /* column index of sorted=, or -1 */
  int bSortedFloat;        /* the sorted column is f32/f64 */
  int bReadonly;           /* readonly=1 or the file is not writable */
  int bReadonlyOpt;        /* readonly=1 given */
  int bTailIgnore;
  int bNpy;
  mb_npy npy;
  uint64_t nMapSize;       /* view size nRows was computed from */
  uint64_t nRows;          /* records in the file (not counting pending) */
  int eAdvice;             /* last advice given, -1 none */
  int eDrop;               /* dropbehind=: mb_dropbehind, -1 = process default */
  /* sorted verification */
  int bVerified;
  mb_stamp verStamp;       /* the file's change stamp when it was verified */
  /* write transaction (mb_rectx.c; docs/TRANSACTIONS.md) */
  int bWriting;            /* holds the writer token and the file lock */
  uint64_t nTxRows;        /* records at the start of the transaction */
  uint64_t nTxFile;        /* the file's length then (no one else may
                           ** change it until COMMIT) */
  unsigned char *aPend;    /* appended records, not in the file until COMMIT */
  uint64_t nPend;          /* records in aPend */
  uint64_t nPendAlloc;     /* records aPend can hold */
  /* the write set: the new images (nRecord bytes) of updated records */
  uint64_t *aWsHash;       /* slots of (record+1, image index); 0 = free */
  uint64_t nWsHash;        /* slots: a power of two, or 0 */
  unsigned char *aWsImg;   /* images, in the order they were added */
  uint64_t *aWsRow;        /* the record of each image */
  uint64_t nWs, nWsAlloc;  /* images held, and room */
  unsigned char *aUndo;    /* undo log for savepoints: [u64 record][u32 n]
                           ** [n bytes as the transaction saw them]... */
  size_t nUndo, nUndoAlloc;
  MbSavepoint *aSave;
  int nSave;               /* savepoints 0..nSave-1 are set */
  unsigned nViewHold;      /* shared view-lock holds of this table's
                           ** statements (mb_map_view_lock) */
  int bOrphan;             /* disconnected while an aggregate statement held
                           ** it: freed when that statement ends */
  mb_stamp jrnStamp;       /* the file's stamp when no journal was there */
  int bJrnClean;           /* jrnStamp is set */
  int bJrnKept;            /* a commit left FILE-mbjournal empty (deleted
                           ** when the table closes: mbJournalTidy) */
  uint64_t nViewSize;      /* the file's length read by mbViewBegin, for the
                           ** first xFilter (mbFilterCheckSize); -1 none */
  unsigned char *aRec;     /* scratch record (nStride bytes) */
  unsigned char *aRec2;
};

typedef struct MbRange { uint64_t iFirst, iEnd; } MbRange;

typedef struct MbRecCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  /* the hot state: kept together */
  const unsigned char *pRec; /* current record inside aBuf */
  uint64_t iRow;             /* current record index */
  uint64_t iBufLo, iBufHi;   /* records [iBufLo, iBufHi) are in aBuf */
  uint64_t nStride;
  int bEof;
  int bDesc;
  /* grouped (mb_recgroup.c): the visited records in group order; aBuf
  ** holds those of [iPos, iGathHi) */
  uint32_t *aIdx;            /* NULL unless grouped */
  uint64_t nIdx, iPos, iGathHi;
  /* ranges to visit, ascending; visited backwards when bDesc */
  MbRange *aRange;
  int nRange, iRange;
  MbRange one;               /* storage when there is one range */
  unsigned char *aBuf;
  uint64_t nBufRows;         /* capacity of aBuf in records */
  uint64_t iReadHi;          /* end of the bytes read since xFilter */
  uint64_t nLoadRows;        /* records the next block load copies: small
                             ** at first, doubling up to nBufRows, so a
                             ** query that stops early (LIMIT) reads little */
  mb_scan scan;
  int bScan;                 /* full or range scan: prefetch */
  int bViewed;               /* mbViewBegin ran (at the first xFilter) */
  int bViewLock;             /* holds a shared view lock (to xClose) */
} MbRecCursor;

/* An interval of the key space: integers [lo, hi], or reals between lo
** and hi with open ends. Empty when bEmpty. */
typedef struct MbIval {
  int bEmpty;
  int64_t iLo, iHi;
  double rLo, rHi;
  int bLoOpen, bHiOpen;
} MbIval;

/* A table open in this process (see mbOpenAdd). */
typedef struct MbOpen {
  struct MbOpen *pNext;
  MbRecTab *pTab;
} MbOpen;

static inline const MbCol *mbKeyCol(MbRecTab *p){ return &p->aCol[p->iSorted]; }
/* Records this connection sees: the file's, and its own appends. */
static inline uint64_t mbRowsSeen(const MbRecTab *p){ return p->nRows + p->nPend; }

/* mb_rectab.c */
void mbIvalAll(MbIval *v);
void mbIvalApply(MbIval *v, int op, sqlite3_value *pVal, int bReal);
int mbMapRefresh(mb_map *pMap);
int mbMapResize(mb_map *pMap, uint64_t nSize);
void mbOpenAdd(MbRecTab *p, MbOpen *pNew);
void mbOpenRemove(MbRecTab *p);
MbRecTab *mbOpenFind(sqlite3 *db, const char *zSchema,
                            const char *zName);
int mbRead(MbRecTab *p, uint64_t off, void *dst, size_t n);
int mbRefresh(MbRecTab *p);
int mbSearch(MbRecTab *p, const MbIval *v, int bUpper,
                    uint64_t *piRow);
int mbVerifySorted(MbRecTab *p);
void mbAdvise(MbRecTab *p, int eAdvice);
int mbUpdateRows(MbRecTab *p);
int mbKeyRange(MbRecTab *p, const MbIval *v, uint64_t *pLo,
                      uint64_t *pHi);
int mbLoadNpyHeader(MbRecTab *p, uint64_t nSize, mb_npy *pNpy,
                    mb_layout *pLay);
int mbOrderError(MbRecTab *p, uint64_t iRow);
int mbChangedError(MbRecTab *p, uint64_t nNow);
int mbReadKey(MbRecTab *p, uint64_t iRow, int64_t *pI, double *pR);
int mbReadView(MbRecTab *p, uint64_t off, void *dst, size_t n);
uint64_t mbWsHashOf(uint64_t x);
unsigned char *mbWsFind(const MbRecTab *p, uint64_t iRow);

/* mb_recscan.c */
int mbRecBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo);
int mbRecClose(sqlite3_vtab_cursor *cur);
int mbRecColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i);
int mbRecEof(sqlite3_vtab_cursor *cur);
int mbRecFilter(
  sqlite3_vtab_cursor *cur,
  int idxNum,
  const char *idxStr,
  int argc,
  sqlite3_value **argv
);
int mbRecNext(sqlite3_vtab_cursor *cur);
int mbRecOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur);
int mbRecRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid);

/* mb_recgroup.c */
int mbGroupBuild(MbRecTab *p, MbRecCursor *pCur, const char *zCols);
int mbGroupLoad(MbRecCursor *pCur);
void mbGroupFree(MbRecCursor *pCur);

/* mb_reccommit.c */
int mbWriteLock(MbRecTab *p);
void mbWriteUnlock(MbRecTab *p);
int mbViewBegin(MbRecTab *p, int *pbHeld);
void mbViewEnd(MbRecTab *p);
int mbRecoverNow(MbRecTab *p);
int mbRecoverLocked(MbRecTab *p, int bViewHeld);
int mbCommit(MbRecTab *p);
void mbJournalTidy(MbRecTab *p);
int mbTokenTry(MbRecTab *p);
void mbTokenRelease(MbRecTab *p);
/* mb_rectx.c */
int mbTxBusy(const MbRecTab *p);
int mbRecRename(sqlite3_vtab *pVtab, const char *zNew);
void mbTxFree(MbRecTab *p);
int mbRecBegin(sqlite3_vtab *pVtab);
int mbRecCommit(sqlite3_vtab *pVtab);
int mbRecRelease(sqlite3_vtab *pVtab, int iSave);
int mbRecRollbackTo(sqlite3_vtab *pVtab, int iSave);
int mbRecRollback(sqlite3_vtab *pVtab);
int mbRecSavepoint(sqlite3_vtab *pVtab, int iSave);
int mbRecSync(sqlite3_vtab *pVtab);
int mbRecUpdate(
  sqlite3_vtab *pVtab,
  int argc,
  sqlite3_value **argv,
  sqlite_int64 *pRowid
);

#endif /* MB_RECTAB_H */
