/*
** mb_reccommit.c -- the locks of a record file and how a transaction
** reaches it (docs/TRANSACTIONS.md): the writer token and writer lock,
** the view lock that statements hold, COMMIT through the journal
** (mb_journal.c), and the recovery of a commit a dead writer left half
** done.
*/
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_npy.h"
#include "mb_rectab.h"
#include "mb_journal.h"
#include "mb_mutex.h"

/* Guards the writer list (below); held only for list operations. */
static mb_mutex mbWriterMu = MB_MUTEX_INIT;

/* ------------------------------------------------------------ writer */

/* Writers of one file in this process take turns on a token; across
** processes on the file's advisory lock. */
typedef struct MbWriter {
  struct MbWriter *pNext;
  mb_map *pMap;
  MbRecTab *pOwner;
} MbWriter;
static MbWriter *mbWriters;   /* guarded by mbWriterMu */

/* Take the token: 1 taken, 0 held by another table. */
int mbTokenTry(MbRecTab *p){
  MbWriter *w;
  int bGot = 0;
  mb_mutex_enter(&mbWriterMu);
  for(w=mbWriters; w && w->pMap!=p->pMap; w=w->pNext){}
  if( w==0 ){
    w = sqlite3_malloc64(sizeof(*w));
    if( w ){
      w->pMap = p->pMap;
      w->pOwner = 0;
      w->pNext = mbWriters;
      mbWriters = w;
    }
  }
  if( w && (w->pOwner==0 || w->pOwner==p) ){
    w->pOwner = p;
    bGot = 1;
  }
  mb_mutex_leave(&mbWriterMu);
  return bGot;
}

void mbTokenRelease(MbRecTab *p){
  MbWriter **pp;
  mb_mutex_enter(&mbWriterMu);
  for(pp=&mbWriters; *pp; pp=&(*pp)->pNext){
    if( (*pp)->pMap==p->pMap && (*pp)->pOwner==p ){
      MbWriter *w = *pp;
      *pp = w->pNext;
      sqlite3_free(w);
      break;
    }
  }
  mb_mutex_leave(&mbWriterMu);
}

/* Become the writer of the file: token, then the advisory lock, then
** recovery of a dead writer's commit. The caller starts its transaction. */
int mbWriteLock(MbRecTab *p){
  int nWait = 0, rc;
  if( p->bWriting ) return SQLITE_OK;
  while( !mbTokenTry(p) ){
    if( nWait>=MB_BUSY_MS ){
      return mb_vtab_error(&p->base, SQLITE_BUSY, "membase: %s is being written by "
                      "another connection", p->zFile);
    }
    sqlite3_sleep(1);
    nWait++;
  }
  for(;;){
    int mrc = mb_map_lock(p->pMap, MB_LOCK_EXCLUSIVE|MB_LOCK_NOWAIT);
    if( mrc==MB_OK ) break;
    if( mrc!=MB_EBUSY || nWait>=MB_BUSY_MS ){
      mbTokenRelease(p);
      return mb_vtab_error(&p->base, SQLITE_BUSY, "membase: %s is locked by another "
                      "process%s", p->zFile,
                      mrc==MB_EBUSY ? "" : " (cannot lock)");
    }
    sqlite3_sleep(2);
    nWait += 2;
  }
  rc = mbRecoverLocked(p, 0);
  if( rc==SQLITE_OK ) rc = mbRefresh(p);
  if( rc ){
    (void)mb_map_lock(p->pMap, MB_LOCK_UNLOCK);
    mbTokenRelease(p);
    return rc;
  }
  p->bWriting = 1;
  p->nTxRows = p->nRows;
  p->nTxFile = mb_map_size(p->pMap);
  return SQLITE_OK;
}

void mbWriteUnlock(MbRecTab *p){
  if( !p->bWriting ) return;
  (void)mb_map_lock(p->pMap, MB_LOCK_UNLOCK);
  mbTokenRelease(p);
  p->bWriting = 0;
}


/* ------------------------------------------------------------ view lock */

/* How long a commit waits for a gap between other statements before it
** claims the view lock (then statements that start wait for it): short
** enough that readers back to back cannot starve commits, long enough
** that a reader seldom waits for one. */
#define MB_COMMIT_GRACE_MS 20

/* Take the view lock as `how` (MB_VIEW_SHARED or MB_VIEW_EXCLUSIVE),
** waiting up to MB_BUSY_MS for a commit or for readers. A writer that
** gives up drops its pending claim. */
static int mbViewLock(MbRecTab *p, int how){
  int nWait = 0;
  for(;;){
    /* a writer first waits for a gap between statements; after
    ** MB_COMMIT_GRACE_MS it claims the lock, and new statements wait */
    int how2 = how==MB_VIEW_EXCLUSIVE && nWait<MB_COMMIT_GRACE_MS
             ? MB_VIEW_TRY : how;
    int mrc = mb_map_view_lock(p->pMap, how2, p->nViewHold);
    if( mrc==MB_OK ) return SQLITE_OK;
    if( mrc!=MB_EBUSY ){
      if( how==MB_VIEW_EXCLUSIVE ){
        (void)mb_map_view_lock(p->pMap, MB_VIEW_RELEASE, p->nViewHold);
      }
      return mb_vtab_error(&p->base, mb_sqlite_rc(mrc, SQLITE_IOERR_LOCK),
                           "membase: %s: cannot lock the file: %s", p->zFile,
                           mb_strerror(mrc));
    }
    if( nWait>=MB_BUSY_MS ){
      if( how==MB_VIEW_EXCLUSIVE ){
        (void)mb_map_view_lock(p->pMap, MB_VIEW_RELEASE, p->nViewHold);
      }
      return mb_vtab_error(&p->base, SQLITE_BUSY, how==MB_VIEW_SHARED
          ? "membase: %s: another connection is committing to the file"
          : "membase: %s: cannot commit while other statements read the "
            "file (they hold it until they are reset or finalized)",
          p->zFile);
    }
    sqlite3_sleep(1);
    nWait++;
  }
}

static int mbViewUnlock(MbRecTab *p){
  return mb_map_view_lock(p->pMap, MB_VIEW_RELEASE, p->nViewHold);
}

/* Is there a journal next to the file? (one system call) */
static int mbJournalThere(MbRecTab *p){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  char *zName = mbjName(p->zFile);
  int bThere = 0;
  if( zName==0 ) return 0;
  if( pVfs->xAccess(pVfs, zName, SQLITE_ACCESS_EXISTS, &bThere)!=SQLITE_OK ){
    bThere = 0;
  }
  sqlite3_free(zName);
  return bThere;
}

/* A statement begins to read p: one shared hold of the view lock (*pbHeld
** set) until mbViewEnd. A journal found there is a writer's that has not applied
** anything yet (it would hold the lock exclusive), or a dead writer's:
** then the file is restored first. */
int mbViewBegin(MbRecTab *p, int *pbHeld){
  mb_stamp now;
  int rc;
  *pbHeld = 0;
  p->nViewSize = (uint64_t)-1;
  /* The writer needs no hold: no one else can commit to the file while it
  ** holds the writer lock. */
  if( p->bWriting ) return SQLITE_OK;
  rc = mbViewLock(p, MB_VIEW_SHARED);
  if( rc ) return rc;
  p->nViewHold++;
  *pbHeld = 1;
  if( mb_map_change_stamp(p->pMap, &now)==MB_OK ){
    p->nViewSize = now.size;
    /* A commit touches the file's times (mb_map_touch) before it changes
    ** a byte: a file unchanged since a look found no journal has none
    ** that matters (a racy stamp proves nothing: look again). */
    if( p->bJrnClean && mb_stamp_unchanged(&p->jrnStamp, &now) ){
      return SQLITE_OK;
    }
    if( !mbJournalThere(p) ){
      p->jrnStamp = now;
      p->bJrnClean = 1;
      return SQLITE_OK;
    }
  }else if( !mbJournalThere(p) ){
    return SQLITE_OK;
  }
  p->bJrnClean = 0;
  p->nViewSize = (uint64_t)-1;
  mbViewEnd(p);
  *pbHeld = 0;
  rc = mbRecoverNow(p);
  if( rc==SQLITE_OK ) rc = mbViewLock(p, MB_VIEW_SHARED);
  if( rc ) return rc;
  p->nViewHold++;
  *pbHeld = 1;
  return SQLITE_OK;
}

void mbViewEnd(MbRecTab *p){
  if( p->nViewHold==0 ) return;
  p->nViewHold--;
  (void)mb_map_view_lock(p->pMap, MB_VIEW_UNSHARE, 0);
}

/* ------------------------------------------------------------ recovery */

static int mbRecoverLocked2(MbRecTab *p, int bViewHeld, int bTidy);

/* Under a file policy, the journal's path is checked each time it is used
** by name (recovery, COMMIT, tidying): its directories may have been
** swapped for symlinks since the table opened, or the working directory
** changed under a relative path, or the policy narrowed since. SQLITE_OK,
** or SQLITE_AUTH with the table's message. */
static int mbJournalAllowed(MbRecTab *p){
  char why[1600];
  char *zJ;
  int mrc;
  if( mb_policy_state()==MB_POLICY_OPEN ) return SQLITE_OK;
  zJ = mbjName(p->zFile);
  if( zJ==0 ) return SQLITE_NOMEM;
  mrc = mb_policy_check_path(zJ, why, sizeof why);
  sqlite3_free(zJ);
  if( mrc==MB_OK ) return SQLITE_OK;
  return mb_vtab_error(&p->base, SQLITE_AUTH, "membase: the journal of %s: %s",
                       p->zFile, why);
}

static int mbApplyOld(void *pCtx, uint64_t off, const void *pOld, uint32_t n){
  MbRecTab *p = (MbRecTab*)pCtx;
  int mrc = mb_map_write(p->pMap, off, pOld, n);
  return mrc==MB_OK ? SQLITE_OK : mb_sqlite_rc(mrc, SQLITE_IOERR_WRITE);
}

static int mbRecoverError(MbRecTab *p, int rc, const char *zWhat, int mrc){
  return mb_vtab_error(&p->base, rc, "membase: %s: cannot roll back the "
                       "journal %s-mbjournal: %s%s%s", p->zFile, p->zFile,
                       zWhat, mrc ? ": " : "", mrc ? mb_strerror(mrc) : "");
}

/* Put back what a hot journal holds (its header checked by mbjRead),
** with the writer lock and the view lock exclusive held: the entries'
** bytes, the length, a sync, and the journal deleted. */
static int mbRestore(MbRecTab *p, const MbjHeader *h){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  uint64_t dev = 0, ino = 0, nNow, lo, hi;
  char *zName;
  int mrc, rc;
  mrc = mbMapRefresh(p->pMap);
  if( mrc ) return mbRecoverError(p, SQLITE_IOERR, "cannot read the file", mrc);
  nNow = mb_map_size(p->pMap);
  mrc = mb_map_file_identity(p->pMap, &dev, &ino);
  if( mrc ) return mbRecoverError(p, SQLITE_IOERR, "cannot stat the file", mrc);
  if( dev!=h->dev || ino!=h->ino ){
    return mb_vtab_error(&p->base, SQLITE_CORRUPT, "membase: %s: the journal "
        "%s-mbjournal belongs to another file (device %llu, inode %llu; "
        "this file is device %llu, inode %llu): the last transaction cannot "
        "be rolled back; " MBJ_ADVICE, p->zFile, p->zFile,
        (unsigned long long)h->dev, (unsigned long long)h->ino,
        (unsigned long long)dev, (unsigned long long)ino);
  }
  lo = h->nOrig<h->nNew ? h->nOrig : h->nNew;
  hi = h->nOrig<h->nNew ? h->nNew : h->nOrig;
  if( nNow<lo || nNow>hi ){
    return mb_vtab_error(&p->base, SQLITE_CORRUPT, "membase: %s: the journal "
        "%s-mbjournal does not match the file: it has %llu bytes, the journal "
        "expects %llu (before the transaction) or %llu (after), so another "
        "program changed it since: the last transaction cannot be rolled "
        "back; " MBJ_ADVICE, p->zFile, p->zFile, (unsigned long long)nNow,
        (unsigned long long)h->nOrig, (unsigned long long)h->nNew);
  }
  rc = mbjForEach(pVfs, p->zFile, h, mbApplyOld, p);
  if( rc ) return mbRecoverError(p, rc, "cannot write the file back", 0);
  if( nNow!=h->nOrig ){
    mrc = mbMapResize(p->pMap, h->nOrig);
    if( mrc ) return mbRecoverError(p, SQLITE_IOERR_TRUNCATE,
                                    "cannot restore the file's length", mrc);
  }
  mrc = mb_map_flush(p->pMap, 0, 0, MB_FLUSH_SYNC);
  if( mrc ) return mbRecoverError(p, SQLITE_IOERR_FSYNC, "cannot sync the file", mrc);
  zName = mbjName(p->zFile);
  if( zName==0 ) return SQLITE_NOMEM;
  rc = mbjDelete(pVfs, zName);
  sqlite3_free(zName);
  if( rc ) return mbRecoverError(p, rc, "cannot delete the journal", 0);
  p->nMapSize = (uint64_t)-1;
  return SQLITE_OK;
}

/* With the writer token and the file lock held (and the view lock
** exclusive if bViewHeld): act on a journal a writer left
** (docs/TRANSACTIONS.md, "Recovery"). */
int mbRecoverLocked(MbRecTab *p, int bViewHeld){
  return mbRecoverLocked2(p, bViewHeld, 0);
}

/* The same; bTidy: an empty journal is deleted too (at connect: one kept
** by a writer that went away; not when a writer begins, which would pay
** for a new journal and its directory's sync at each commit). */
static int mbRecoverLocked2(MbRecTab *p, int bViewHeld, int bTidy){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  MbjHeader h;
  uint64_t n1 = 0;
  char *zErr = 0, *zName;
  int e = MBJ_NONE, rc, mrc;
  memset(&h, 0, sizeof(h));
  rc = mbJournalAllowed(p);
  if( rc ) return rc;
  rc = mbjRead(pVfs, p->zFile, &e, &h, &n1, &zErr);
  if( rc ){
    if( zErr==0 ){
      char *zJ = mbjName(p->zFile);
      uint64_t d, i;
      int bOdd = zJ && (mb_file_identity(zJ, &d, &i)==MB_ENOTFILE
                        || mb_file_identity(zJ, &d, &i)==MB_EISDIR);
      sqlite3_free(zJ);
      return mbRecoverError(p, rc, bOdd ? "it is not a regular file (remove "
                            "it: MemBase never made it)" : "cannot read it", 0);
    }
    sqlite3_free(p->base.zErrMsg);
    p->base.zErrMsg = zErr;
    return rc;
  }
  if( e==MBJ_NONE ){
    if( bTidy ){
      int bThere = 0;
      zName = mbjName(p->zFile);
      if( zName==0 ) return SQLITE_NOMEM;
      if( pVfs->xAccess(pVfs, zName, SQLITE_ACCESS_READWRITE, &bThere)==SQLITE_OK
       && bThere ){
        (void)pVfs->xDelete(pVfs, zName, 0);   /* empty: no sync needed */
      }
      sqlite3_free(zName);
    }
    return SQLITE_OK;
  }
  if( e!=MBJ_UNARMED ){
    if( p->bReadonly ){
      return mb_vtab_error(&p->base, SQLITE_READONLY_ROLLBACK, "membase: %s: "
          "the journal %s-mbjournal must be rolled back first, and this table "
          "cannot write the file (%s): open the table once from a connection "
          "that can", p->zFile, p->zFile, p->bReadonlyOpt ? "readonly=1"
          : "the file is not writable");
    }
    if( !bViewHeld ){
      rc = mbViewLock(p, MB_VIEW_EXCLUSIVE);
      if( rc ) return rc;
    }
    if( e==MBJ_HOT ){
      rc = mbRestore(p, &h);
    }else{
      /* version 1: an append's length before it */
      (void)mbMapRefresh(p->pMap);
      if( n1<mb_map_size(p->pMap) ){
        mrc = mbMapResize(p->pMap, n1);
        if( mrc==MB_OK ) mrc = mb_map_flush(p->pMap, 0, 0, MB_FLUSH_SYNC);
        if( mrc ){
          rc = mbRecoverError(p, SQLITE_IOERR_TRUNCATE, "cannot cut the file "
                              "back", mrc);
        }
      }
      p->nMapSize = (uint64_t)-1;
    }
    if( !bViewHeld ) (void)mbViewUnlock(p);
    if( rc ) return rc;
  }
  zName = mbjName(p->zFile);
  if( zName==0 ) return SQLITE_NOMEM;
  /* rolled back, or unarmed (never armed: the file is the old state;
  ** disarmed at the commit point: the new one) */
  (void)mbjDelete(pVfs, zName);
  sqlite3_free(zName);
  return SQLITE_OK;
}

/* Recover now if no writer is alive (in this process or another): at
** connect, and when a statement finds a journal. A live writer's journal
** is not hot: then nothing happens. */
int mbRecoverNow(MbRecTab *p){
  int rc;
  if( p->bWriting ) return SQLITE_OK;
  if( !mbTokenTry(p) ) return SQLITE_OK;
  if( mb_map_lock(p->pMap, MB_LOCK_EXCLUSIVE|MB_LOCK_NOWAIT)!=MB_OK ){
    mbTokenRelease(p);
    return SQLITE_OK;
  }
  rc = mbRecoverLocked2(p, 0, 1);
  (void)mb_map_lock(p->pMap, MB_LOCK_UNLOCK);
  mbTokenRelease(p);
  return rc;
}

/* The table closes: an empty journal its commits kept is deleted, if no
** writer holds the file (a writer may be between writing a journal and
** arming it). */
void mbJournalTidy(MbRecTab *p){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  char *zName;
  sqlite3_file *pF;
  if( !p->bJrnKept || p->bWriting || p->pMap==0 ) return;
  p->bJrnKept = 0;
  if( mbJournalAllowed(p)!=SQLITE_OK ) return;
  if( !mbTokenTry(p) ) return;
  if( mb_map_lock(p->pMap, MB_LOCK_EXCLUSIVE|MB_LOCK_NOWAIT)==MB_OK ){
    zName = mbjName(p->zFile);
    pF = zName ? sqlite3_malloc64((sqlite3_uint64)pVfs->szOsFile) : 0;
    if( pF ){
      sqlite3_int64 n = -1;
      memset(pF, 0, (size_t)pVfs->szOsFile);
      if( mbjOpenRead(pVfs, zName, pF)==SQLITE_OK ){
        (void)pF->pMethods->xFileSize(pF, &n);
      }
      if( pF->pMethods ) pF->pMethods->xClose(pF);
      /* empty: no sync needed, an empty journal that comes back is inert */
      if( n==0 ) (void)pVfs->xDelete(pVfs, zName, 0);
    }
    sqlite3_free(pF);
    sqlite3_free(zName);
    (void)mb_map_lock(p->pMap, MB_LOCK_UNLOCK);
  }
  mbTokenRelease(p);
}

/* ------------------------------------------------------------ commit */

typedef struct MbChange { uint64_t iRow, iImg; } MbChange;

static int mbChangeCmp(const void *a, const void *b){
  uint64_t x = ((const MbChange*)a)->iRow, y = ((const MbChange*)b)->iRow;
  return x<y ? -1 : x>y;
}

/* Sort changes by record: qsort for a few, else a radix sort on 16-bit
** digits, as many passes as the largest record number needs (a million
** scattered updates: 2 passes, against ~200 ms of qsort). */
static int mbSortChanges(MbChange *a, uint64_t n){
  MbChange *b, *src = a, *dst;
  uint64_t k, iMax = 0, *aCnt;
  int shift;
  if( n<=4096 ){
    qsort(a, (size_t)n, sizeof(MbChange), mbChangeCmp);
    return SQLITE_OK;
  }
  b = sqlite3_malloc64(n*sizeof(MbChange));
  aCnt = sqlite3_malloc64(65536*sizeof(uint64_t));
  if( b==0 || aCnt==0 ){ sqlite3_free(b); sqlite3_free(aCnt); return SQLITE_NOMEM; }
  dst = b;
  for(k=0; k<n; k++) if( a[k].iRow>iMax ) iMax = a[k].iRow;
  for(shift=0; shift<64 && (iMax>>shift)!=0; shift+=16){
    uint64_t sum = 0, d;
    MbChange *t;
    memset(aCnt, 0, 65536*sizeof(uint64_t));
    for(k=0; k<n; k++) aCnt[(src[k].iRow>>shift) & 0xffff]++;
    for(d=0; d<65536; d++){ uint64_t x = aCnt[d]; aCnt[d] = sum; sum += x; }
    for(k=0; k<n; k++) dst[aCnt[(src[k].iRow>>shift) & 0xffff]++] = src[k];
    t = src; src = dst; dst = t;
  }
  if( src!=a ) memcpy(a, src, (size_t)n*sizeof(MbChange));
  sqlite3_free(b);
  sqlite3_free(aCnt);
  return SQLITE_OK;
}

/* What a commit changes: the write set's records whose image differs
** from the file, in record order; and the new .npy header. */
typedef struct MbCommit {
  MbChange *aChg;
  uint64_t nChg;
  uint64_t nOld;           /* end of the records in the file: appends go here */
  uint64_t nFile;          /* the file's length before the commit */
  uint64_t nNew;           /* and after */
  unsigned char *aHdr;     /* .npy: the new header (nHeader bytes), or 0 */
  uint64_t lo, hi;         /* the byte range the apply writes */
} MbCommit;

static void mbCommitFree(MbCommit *c){
  sqlite3_free(c->aChg);
  sqlite3_free(c->aHdr);
}

static void mbTouch(MbCommit *c, uint64_t lo, uint64_t hi){
  if( lo<c->lo ) c->lo = lo;
  if( hi>c->hi ) c->hi = hi;
}

static int mbCommitPlan(MbRecTab *p, MbCommit *c){
  uint64_t k;
  int rc, mrc;
  memset(c, 0, sizeof(*c));
  c->lo = UINT64_MAX;
  mrc = mbMapRefresh(p->pMap);
  if( mrc ){
    return mb_vtab_error(&p->base, SQLITE_IOERR, "membase: %s: cannot refresh "
                         "the mapping: %s", p->zFile, mb_strerror(mrc));
  }
  c->nFile = mb_map_size(p->pMap);
  c->nOld = p->nHeader + p->nRows*p->nStride;
  if( c->nFile!=p->nTxFile || c->nFile<c->nOld ) return mbChangedError(p, c->nFile);
  {
    /* the path must still name the file this transaction read */
    uint64_t d1 = 0, i1 = 0, d2 = 0, i2 = 0;
    if( mb_map_file_identity(p->pMap, &d1, &i1)!=MB_OK
     || mb_file_identity(p->zFile, &d2, &i2)!=MB_OK || d1!=d2 || i1!=i2 ){
      return mb_vtab_error(&p->base, SQLITE_IOERR_WRITE, "membase: %s: the file "
          "was replaced or removed while this transaction was open: COMMIT "
          "would write to a file no one sees; ROLLBACK", p->zFile);
    }
  }
  /* Appends go at nOld; bytes past them (a dead writer's records past a
  ** .npy shape, ignored by readers) stay: a commit never shrinks the file */
  c->nNew = c->nOld + p->nPend*p->nStride;
  if( c->nNew<c->nFile ) c->nNew = c->nFile;
  if( p->nWs ){
    c->aChg = sqlite3_malloc64(p->nWs*sizeof(MbChange));
    if( c->aChg==0 ) return SQLITE_NOMEM;
  }
  for(k=0; k<p->nWs; k++){
    uint64_t iRow = p->aWsRow[k];
    rc = mbRead(p, p->nHeader + iRow*p->nStride, p->aRec2, (size_t)p->nRecord);
    if( rc ) return rc;
    if( memcmp(p->aRec2, p->aWsImg + k*p->nRecord, (size_t)p->nRecord)==0 ){
      continue;   /* set back to what it was (ROLLBACK TO, or SET x=x) */
    }
    c->aChg[c->nChg].iRow = iRow;
    c->aChg[c->nChg].iImg = k;
    c->nChg++;
  }
  if( c->nChg>1 ){
    rc = mbSortChanges(c->aChg, c->nChg);
    if( rc ) return rc;
  }
  if( p->bNpy && p->nPend ){
    c->aHdr = sqlite3_malloc64(p->nHeader);
    if( c->aHdr==0 ) return SQLITE_NOMEM;
    rc = mbRead(p, 0, c->aHdr, (size_t)p->nHeader);
    if( rc ) return rc;
    rc = mb_npy_rewrite(&p->npy, p->nRows + p->nPend, c->aHdr);
    if( rc==SQLITE_FULL ){
      return mb_vtab_error(&p->base, SQLITE_FULL, "membase: %s: no room in the "
                           ".npy header for the new shape", p->zFile);
    }
    if( rc ) return mb_vtab_error(&p->base, rc, "membase: %s: cannot update the "
                                  ".npy header", p->zFile);
  }
  return SQLITE_OK;
}

/* Journal the bytes the commit will overwrite: runs of consecutive records
** become one entry (up to 1 MiB). */
static int mbCommitJournal(MbRecTab *p, MbCommit *c){
  MbjWriter w;
  MbjHeader h;
  unsigned char *aRun = 0;
  uint64_t k, nRunMax = 1024*1024;
  int rc, mrc;
  memset(&h, 0, sizeof(h));
  mrc = mb_map_file_identity(p->pMap, &h.dev, &h.ino);
  if( mrc ){
    return mb_vtab_error(&p->base, SQLITE_IOERR_FSTAT, "membase: %s: cannot stat "
                         "the file: %s", p->zFile, mb_strerror(mrc));
  }
  h.nOrig = c->nFile;
  h.nNew = c->nNew;
  if( nRunMax<p->nStride ) nRunMax = p->nStride;
  rc = mbJournalAllowed(p);
  if( rc ) return rc;
  rc = mbjBegin(&w, p->zFile);
  if( rc==SQLITE_OK && (c->nChg || c->aHdr || c->nFile>c->nOld) ){
    aRun = sqlite3_malloc64(nRunMax>p->nHeader ? nRunMax : p->nHeader);
    if( aRun==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK && c->aHdr ){
    rc = mbRead(p, 0, aRun, (size_t)p->nHeader);
    if( rc==SQLITE_OK ) rc = mbjAdd(&w, 0, aRun, (uint32_t)p->nHeader);
  }
  for(k=0; rc==SQLITE_OK && k<c->nChg; ){
    uint64_t iFirst = c->aChg[k].iRow, n = 1, nByte;
    if( p->nRecord==p->nStride ){
      while( k+n<c->nChg && c->aChg[k+n].iRow==iFirst+n
          && (n+1)*p->nStride<=nRunMax ) n++;
    }
    nByte = (n-1)*p->nStride + p->nRecord;
    rc = mbRead(p, p->nHeader + iFirst*p->nStride, aRun, (size_t)nByte);
    if( rc==SQLITE_OK ){
      rc = mbjAdd(&w, p->nHeader + iFirst*p->nStride, aRun, (uint32_t)nByte);
    }
    k += n;
  }
  if( rc==SQLITE_OK && p->nPend && c->nFile>c->nOld ){
    /* bytes past the last record (a partial record, or a dead writer's
    ** records past a .npy shape) that the appends overwrite */
    uint64_t nAppEnd = c->nOld + p->nPend*p->nStride;
    uint64_t off = c->nOld, end = c->nFile<nAppEnd ? c->nFile : nAppEnd;
    while( rc==SQLITE_OK && off<end ){
      uint64_t n = end-off>nRunMax ? nRunMax : end-off;
      rc = mbRead(p, off, aRun, (size_t)n);
      if( rc==SQLITE_OK ) rc = mbjAdd(&w, off, aRun, (uint32_t)n);
      off += n;
    }
  }
  if( rc==SQLITE_OK ) rc = mbjArm(&w, &h);
  sqlite3_free(aRun);
  if( rc ){
    int rcErr = rc;
    sqlite3_vfs *pVfs = w.pVfs ? w.pVfs : sqlite3_vfs_find(0);
    char *zName = mbjName(p->zFile);
    int eSys = pVfs->xGetLastError ? pVfs->xGetLastError(pVfs, 0, 0) : 0;
    mbjEnd(&w);
    if( zName ){ (void)mbjDelete(pVfs, zName); sqlite3_free(zName); }
    if( p->base.zErrMsg==0 || (rcErr&0xff)==SQLITE_IOERR || rcErr==SQLITE_FULL ){
      return mb_vtab_error(&p->base, rcErr, "membase: %s: cannot write the "
                           "journal %s-mbjournal (%s, errno %d)", p->zFile,
                           p->zFile, sqlite3_errstr(rcErr), eSys);
    }
    return rcErr;
  }
  mbjEnd(&w);
  return SQLITE_OK;
}

/* Flush what the apply wrote and sync the file (one sync on Linux): one
** range [lo, hi) when the changed records are many or close together,
** else their runs of pages (where msync is used, it costs by the range it
** is given: 10 records scattered over 64 MB, 5 ms as one range). */
#define MB_FLUSH_RUNS 256          /* more runs than this: one range */
#define MB_PWRITE_MAX 4096         /* more records than this: the mapping */
#define MB_FLUSH_GAP  (64*1024)    /* runs closer than this: merged */
static int mbCommitFlush(MbRecTab *p, MbCommit *c){
  uint64_t aOff[MB_FLUSH_RUNS+2], aLen[MB_FLUSH_RUNS+2], k;
  uint64_t runLo = 0, runHi = 0;
  size_t n = 0;
  if( c->nChg>MB_FLUSH_RUNS || c->hi-c->lo<=16*MB_FLUSH_GAP ){
    aOff[0] = c->lo;
    aLen[0] = c->hi - c->lo;
    return mb_map_flush_ranges(p->pMap, aOff, aLen, 1);
  }
  if( c->aHdr ){ aOff[n] = 0; aLen[n] = p->nHeader; n++; }
  if( p->nPend ){ aOff[n] = c->nOld; aLen[n] = c->nNew-c->nOld; n++; }
  for(k=0; k<c->nChg; k++){
    uint64_t off = p->nHeader + c->aChg[k].iRow*p->nStride;
    if( runHi>runLo && off<=runHi+MB_FLUSH_GAP ){
      runHi = off + p->nRecord;
      continue;
    }
    if( runHi>runLo ){ aOff[n] = runLo; aLen[n] = runHi-runLo; n++; }
    runLo = off;
    runHi = off + p->nRecord;
  }
  if( runHi>runLo ){ aOff[n] = runLo; aLen[n] = runHi-runLo; n++; }
  return mb_map_flush_ranges(p->pMap, aOff, aLen, n);
}

/* Apply the commit to the file (the view lock exclusive held), then flush
** and sync what it wrote. */
static int mbCommitApply(MbRecTab *p, MbCommit *c){
  uint64_t k;
  int mrc;
  const char *zWhat = "";
  if( c->nNew!=c->nFile ){
    zWhat = "grow the file";
    mrc = mbMapResize(p->pMap, c->nNew);
    if( mrc ) goto io_error;
  }
  if( p->nPend ){
    uint64_t nApp = p->nPend*p->nStride;
    zWhat = "write the appended records";
    mrc = mb_map_pwrite(p->pMap, c->nOld, p->aPend, (size_t)nApp);
    if( mrc ) goto io_error;
    mbTouch(c, c->nOld, c->nOld+nApp);
  }
  zWhat = "write the updated records";
  for(k=0; k<c->nChg; k++){
    uint64_t off = p->nHeader + c->aChg[k].iRow*p->nStride;
    const unsigned char *pImg = p->aWsImg + c->aChg[k].iImg*p->nRecord;
    /* a few records: through the descriptor (a page first written through
    ** the mapping costs ext4 a journal commit at the sync, 2.5 ms); many:
    ** through the mapping, a copy each instead of a system call */
    mrc = c->nChg<=MB_PWRITE_MAX
        ? mb_map_pwrite(p->pMap, off, pImg, (size_t)p->nRecord)
        : mb_map_write(p->pMap, off, pImg, (size_t)p->nRecord);
    if( mrc ) goto io_error;
    mbTouch(c, off, off+p->nRecord);
  }
  if( c->aHdr ){
    zWhat = "write the .npy header";
    mrc = mb_map_pwrite(p->pMap, 0, c->aHdr, (size_t)p->nHeader);
    if( mrc ) goto io_error;
    mbTouch(c, 0, p->nHeader);
  }
  if( c->lo<c->hi ){
    zWhat = "flush the file";
    mrc = mbCommitFlush(p, c);
    if( mrc ) goto io_error;
  }
  return SQLITE_OK;
io_error:
  return mb_vtab_error(&p->base, mb_sqlite_rc(mrc, SQLITE_IOERR_WRITE),
                       "membase: %s: COMMIT cannot %s: %s", p->zFile, zWhat,
                       mb_strerror(mrc));
}

/* COMMIT (docs/TRANSACTIONS.md, "The protocol"): plan, journal, view lock,
** apply, delete the journal. On an error the file is as it was before. */
int mbCommit(MbRecTab *p){
  MbCommit c;
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  char *zName;
  int rc;
  if( p->nWs==0 && p->nPend==0 ) return SQLITE_OK;
  rc = mbCommitPlan(p, &c);
  if( rc==SQLITE_OK && c.nChg==0 && p->nPend==0 ){
    mbCommitFree(&c);
    return SQLITE_OK;   /* every update set a record to what it was */
  }
  if( rc==SQLITE_OK ) rc = mbCommitJournal(p, &c);
  if( rc ){ mbCommitFree(&c); return rc; }
  zName = mbjName(p->zFile);
  if( zName==0 ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ) rc = mbViewLock(p, MB_VIEW_EXCLUSIVE);
  if( rc==SQLITE_OK && mb_map_touch(p->pMap)!=MB_OK ){
    (void)mbViewUnlock(p);
    rc = mb_vtab_error(&p->base, SQLITE_IOERR, "membase: %s: COMMIT cannot "
                       "set the file's time", p->zFile);
  }
  if( rc ){
    /* armed, but nothing applied: the journal is not needed */
    if( zName ) (void)mbjClear(pVfs, zName);
    sqlite3_free(zName);
    mbCommitFree(&c);
    return rc;
  }
  rc = mbCommitApply(p, &c);
  if( rc==SQLITE_OK ){
    rc = mbjClear(pVfs, zName);   /* the commit point */
    if( rc ){
      rc = mb_vtab_error(&p->base, rc, "membase: %s: COMMIT cannot empty the "
                         "journal %s-mbjournal", p->zFile, p->zFile);
    }
    p->bJrnKept = 1;
  }
  if( rc ){
    /* Put the file back from the journal; if even that fails the journal
    ** stays, hot, for the next reader or writer. The first error is the
    ** one reported. */
    char *zKeep = p->base.zErrMsg;
    int rc2;
    p->base.zErrMsg = 0;
    rc2 = mbRecoverLocked(p, 1);
    sqlite3_free(p->base.zErrMsg);
    p->base.zErrMsg = zKeep;
    (void)rc2;
    p->nMapSize = (uint64_t)-1;
  }
  (void)mbViewUnlock(p);
  sqlite3_free(zName);
  if( rc==SQLITE_OK ){
    p->nRows += p->nPend;
    if( p->bNpy ) p->npy.nRows = p->nRows;
    p->nPend = 0;
    p->nMapSize = mb_map_size(p->pMap);
    p->nTxFile = p->nMapSize;
  }
  mbCommitFree(&c);
  return rc;
}
