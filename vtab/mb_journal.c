/*
** mb_journal.c -- the record table's rollback journal (mb_journal.h,
** docs/TRANSACTIONS.md): the checksum, the writer, and the reader that
** checks a journal before anything of it is applied.
*/
#include <stdlib.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_journal.h"

/* Bytes buffered per write or read: SQLite's unix VFS moves at most
** 128 KiB - 1 per call (seekAndWrite and seekAndRead mask the length
** with 0x1ffff: a 1 MiB write writes nothing and reports SQLITE_FULL, a
** longer read comes back short). A multiple of 8 (the checksum's unit). */
#define MBJ_CHUNK (64*1024)

char *mbjName(const char *zFile){
  return sqlite3_mprintf("%s-mbjournal", zFile);
}

static uint32_t mbjGet32(const unsigned char *a){
  return (uint32_t)a[0] | (uint32_t)a[1]<<8 | (uint32_t)a[2]<<16
       | (uint32_t)a[3]<<24;
}
static uint64_t mbjGet64(const unsigned char *a){
  return (uint64_t)mbjGet32(a) | (uint64_t)mbjGet32(a+4)<<32;
}
static void mbjPut32(unsigned char *a, uint32_t v){
  a[0] = (unsigned char)v; a[1] = (unsigned char)(v>>8);
  a[2] = (unsigned char)(v>>16); a[3] = (unsigned char)(v>>24);
}
static void mbjPut64(unsigned char *a, uint64_t v){
  mbjPut32(a, (uint32_t)v);
  mbjPut32(a+4, (uint32_t)(v>>32));
}

void mbjCksum(const unsigned char *a, size_t n, uint32_t *s0, uint32_t *s1){
  uint32_t x = *s0, y = *s1;
  size_t i;
  for(i=0; i+8<=n; i+=8){
    x += mbjGet32(a+i) + y;
    y += mbjGet32(a+i+4) + x;
  }
  if( i<n ){
    unsigned char t[8];
    memset(t, 0, 8);
    memcpy(t, a+i, n-i);
    x += mbjGet32(t) + y;
    y += mbjGet32(t+4) + x;
  }
  *s0 = x; *s1 = y;
}

static uint64_t mbjArmWord(const unsigned char *aHdr){
  uint32_t s0 = 0, s1 = 0;
  mbjCksum(aHdr, 56, &s0, &s1);
  return ((uint64_t)s1<<32 | s0) | 1;
}

/* ------------------------------------------------------------ writing */

int mbjBegin(MbjWriter *w, const char *zFile){
  int flags = 0, rc;
  memset(w, 0, sizeof(*w));
  w->pVfs = sqlite3_vfs_find(0);
  w->zName = mbjName(zFile);
  w->aBuf = sqlite3_malloc64(MBJ_CHUNK);
  w->pF = sqlite3_malloc64((sqlite3_uint64)w->pVfs->szOsFile);
  if( w->zName==0 || w->aBuf==0 || w->pF==0 ){ mbjEnd(w); return SQLITE_NOMEM; }
  memset(w->pF, 0, (size_t)w->pVfs->szOsFile);
  w->iOff = MBJ_HEADER;
  /* An empty journal kept from the last commit is reused: only a journal
  ** that is created costs a sync of its directory (the unix VFS syncs it
  ** for a journal opened with SQLITE_OPEN_CREATE). */
  if( mb_policy_state()!=MB_POLICY_OPEN ){
    /* Under a file policy the journal is never reused: whatever holds its
    ** name (a hard link to a file elsewhere, planted by someone who may
    ** write this directory) is removed, and the journal is created anew
    ** with O_EXCL|O_NOFOLLOW (SQLITE_OPEN_EXCLUSIVE). If something takes
    ** the name between the two, the open fails and so does COMMIT: no file
    ** but a new one is ever truncated or written. Costs the creation's
    ** directory sync on every commit. */
    rc = w->pVfs->xDelete(w->pVfs, w->zName, 0);
    if( rc==SQLITE_IOERR_DELETE_NOENT ) rc = SQLITE_OK;
    if( rc==SQLITE_OK ){
      rc = w->pVfs->xOpen(w->pVfs, w->zName, w->pF, SQLITE_OPEN_READWRITE
                          |SQLITE_OPEN_CREATE|SQLITE_OPEN_EXCLUSIVE
                          |SQLITE_OPEN_SUPER_JOURNAL, &flags);
    }
    return rc;
  }
  rc = w->pVfs->xOpen(w->pVfs, w->zName, w->pF, SQLITE_OPEN_READWRITE
                      |SQLITE_OPEN_SUPER_JOURNAL, &flags);
  if( rc!=SQLITE_OK ){
    memset(w->pF, 0, (size_t)w->pVfs->szOsFile);
    rc = w->pVfs->xOpen(w->pVfs, w->zName, w->pF, SQLITE_OPEN_READWRITE
                        |SQLITE_OPEN_CREATE|SQLITE_OPEN_SUPER_JOURNAL, &flags);
  }
  if( rc==SQLITE_OK ){
    /* the kept journal is empty as a rule: a truncation costs ~0.1 ms */
    sqlite3_int64 n = 1;
    rc = w->pF->pMethods->xFileSize(w->pF, &n);
    if( rc==SQLITE_OK && n>0 ) rc = w->pF->pMethods->xTruncate(w->pF, 0);
  }
  return rc;
}

/* Write the buffered bytes, all of them (bFinal) or the whole 8-byte units
** (the checksum runs in units; the rest stays for the next write). */
static int mbjFlush(MbjWriter *w, int bFinal){
  size_t n = bFinal ? w->nBuf : (w->nBuf & ~(size_t)7);
  int rc;
  if( n==0 ) return SQLITE_OK;
  mbjCksum(w->aBuf, n, &w->s0, &w->s1);
  rc = w->pF->pMethods->xWrite(w->pF, w->aBuf, (int)n, (sqlite3_int64)w->iOff);
  if( rc ) return rc;
  w->iOff += n;
  memmove(w->aBuf, w->aBuf+n, w->nBuf-n);
  w->nBuf -= n;
  return SQLITE_OK;
}

static int mbjPut(MbjWriter *w, const void *p, size_t n){
  const unsigned char *a = p;
  while( n>0 ){
    size_t k = MBJ_CHUNK - w->nBuf;
    int rc;
    if( k>n ) k = n;
    memcpy(w->aBuf+w->nBuf, a, k);
    w->nBuf += k; a += k; n -= k;
    if( w->nBuf==MBJ_CHUNK && (rc = mbjFlush(w, 0))!=SQLITE_OK ) return rc;
  }
  return SQLITE_OK;
}

int mbjAdd(MbjWriter *w, uint64_t off, const void *pOld, uint32_t n){
  unsigned char e[16];
  int rc;
  mbjPut64(e, off);
  mbjPut32(e+8, n);
  mbjPut32(e+12, 0);
  rc = mbjPut(w, e, 16);
  return rc ? rc : mbjPut(w, pOld, n);
}

int mbjArm(MbjWriter *w, MbjHeader *h){
  unsigned char a[MBJ_HEADER];
  sqlite3_file *f = w->pF;
  int rc = mbjFlush(w, 1);
  if( rc ) return rc;
  h->nBody = w->iOff - MBJ_HEADER;
  h->cksum = (uint64_t)w->s1<<32 | w->s0;
  memcpy(a, MBJ_MAGIC, 8);
  mbjPut64(a+8, h->dev);
  mbjPut64(a+16, h->ino);
  mbjPut64(a+24, h->nOrig);
  mbjPut64(a+32, h->nNew);
  mbjPut64(a+40, h->nBody);
  mbjPut64(a+48, h->cksum);
  mbjPut64(a+56, 0);
  rc = f->pMethods->xWrite(f, a, MBJ_HEADER, 0);
  if( rc==SQLITE_OK ) rc = f->pMethods->xSync(f, SQLITE_SYNC_FULL);
  if( rc ) return rc;
  /* the journal is whole on disk: now it may be trusted */
  mbjPut64(a+56, mbjArmWord(a));
  rc = f->pMethods->xWrite(f, a+56, 8, 56);
  if( rc==SQLITE_OK ) rc = f->pMethods->xSync(f, SQLITE_SYNC_FULL);
  return rc;
}

void mbjEnd(MbjWriter *w){
  if( w->pF && w->pF->pMethods ) w->pF->pMethods->xClose(w->pF);
  sqlite3_free(w->pF);
  sqlite3_free(w->aBuf);
  sqlite3_free(w->zName);
  memset(w, 0, sizeof(*w));
}

int mbjClear(sqlite3_vfs *pVfs, const char *zName){
  sqlite3_file *pF = sqlite3_malloc64((sqlite3_uint64)pVfs->szOsFile);
  static const unsigned char aZero[8] = {0,0,0,0,0,0,0,0};
  unsigned char aArm[8];
  int flags = 0, rc;
  if( pF==0 ) return SQLITE_NOMEM;
  if( mb_policy_state()!=MB_POLICY_OPEN ){
    /* Under a file policy nothing is opened by the journal's name after
    ** mbjBegin created it (the name could lead elsewhere by now): the
    ** commit point is the removal of the name, synced with its directory,
    ** as SQLite's DELETE journal mode does. A name removed harms no file. */
    sqlite3_free(pF);
    rc = pVfs->xDelete(pVfs, zName, 1);
    return rc==SQLITE_IOERR_DELETE_NOENT ? SQLITE_OK : rc;
  }
  memset(pF, 0, (size_t)pVfs->szOsFile);
  rc = pVfs->xOpen(pVfs, zName, pF, SQLITE_OPEN_READWRITE
                   |SQLITE_OPEN_SUPER_JOURNAL, &flags);
  if( rc==SQLITE_OK ) rc = pF->pMethods->xRead(pF, aArm, 8, 56);
  if( rc==SQLITE_OK ){
    /* disarm and sync: the commit point */
    rc = pF->pMethods->xWrite(pF, aZero, 8, 56);
    if( rc==SQLITE_OK ) rc = pF->pMethods->xSync(pF, SQLITE_SYNC_FULL);
    if( rc ){
      /* not known to be on disk: arm it again, so that the caller's
      ** rollback from the journal and the disk agree */
      (void)pF->pMethods->xWrite(pF, aArm, 8, 56);
    }else{
      /* an unarmed journal is inert: emptied without a sync, so that
      ** readers take it for none */
      (void)pF->pMethods->xTruncate(pF, 0);
    }
  }
  if( pF->pMethods ) pF->pMethods->xClose(pF);
  sqlite3_free(pF);
  return rc;
}

int mbjDelete(sqlite3_vfs *pVfs, const char *zName){
  int rc = pVfs->xDelete(pVfs, zName, 1);
  return rc==SQLITE_IOERR_DELETE_NOENT ? SQLITE_OK : rc;
}

/* ------------------------------------------------------------ reading */

/* A journal open for reading, read through a buffer. */
typedef struct MbjReader {
  sqlite3_vfs *pVfs;
  sqlite3_file *pF;
  uint64_t nSize;          /* the journal's length */
  unsigned char *aBuf;
  size_t iBuf, nBuf;       /* unread bytes aBuf[iBuf..nBuf) */
  uint64_t iNext;          /* journal offset of aBuf[nBuf] */
  uint64_t iEnd;           /* read no further than this */
  uint32_t s0, s1;         /* checksum of the bytes loaded */
} MbjReader;

static void mbjReaderClose(MbjReader *r){
  if( r->pF && r->pF->pMethods ) r->pF->pMethods->xClose(r->pF);
  sqlite3_free(r->pF);
  sqlite3_free(r->aBuf);
  memset(r, 0, sizeof(*r));
}

int mbjOpenRead(sqlite3_vfs *pVfs, const char *zName, sqlite3_file *pF){
  uint64_t dev, ino;
  int flags = 0;
  /* A FIFO under the journal's name (someone who may write the directory
  ** put it there) would block a read-only open forever, with the writer's
  ** locks held: only a regular file is opened. (The VFS's open cannot be
  ** asked for O_NONBLOCK; a FIFO swapped in between the two calls remains
  ** possible, a denial of service by someone racing the open.) */
  int mrc = mb_file_identity(zName, &dev, &ino);
  if( mrc==MB_ENOTFILE || mrc==MB_EISDIR ) return SQLITE_CANTOPEN;
  return pVfs->xOpen(pVfs, zName, pF, SQLITE_OPEN_READONLY
                     |SQLITE_OPEN_SUPER_JOURNAL, &flags);
}

/* Open zName: SQLITE_OK, or SQLITE_CANTOPEN when it is not there. */
static int mbjReaderOpen(MbjReader *r, sqlite3_vfs *pVfs, const char *zName){
  int rc;
  sqlite3_int64 n = 0;
  memset(r, 0, sizeof(*r));
  r->pVfs = pVfs;
  r->pF = sqlite3_malloc64((sqlite3_uint64)pVfs->szOsFile);
  r->aBuf = sqlite3_malloc64(MBJ_CHUNK);
  if( r->pF==0 || r->aBuf==0 ){ mbjReaderClose(r); return SQLITE_NOMEM; }
  memset(r->pF, 0, (size_t)pVfs->szOsFile);
  rc = mbjOpenRead(pVfs, zName, r->pF);
  if( rc==SQLITE_OK ) rc = r->pF->pMethods->xFileSize(r->pF, &n);
  if( rc ){ mbjReaderClose(r); return rc; }
  r->nSize = (uint64_t)n;
  return SQLITE_OK;
}

/* Position at journal offset iOff, reading no further than iEnd. */
static void mbjReaderSeek(MbjReader *r, uint64_t iOff, uint64_t iEnd){
  r->iBuf = r->nBuf = 0;
  r->iNext = iOff;
  r->iEnd = iEnd;
  r->s0 = r->s1 = 0;
}

/* Copy the next n bytes to dst (0: skip them). SQLITE_DONE past iEnd. */
static int mbjReaderGet(MbjReader *r, void *dst, uint64_t n){
  unsigned char *d = dst;
  while( n>0 ){
    size_t k;
    if( r->iBuf==r->nBuf ){
      uint64_t want = r->iEnd - r->iNext;
      int rc;
      if( want==0 ) return SQLITE_DONE;
      if( want>MBJ_CHUNK ) want = MBJ_CHUNK;
      rc = r->pF->pMethods->xRead(r->pF, r->aBuf, (int)want,
                                  (sqlite3_int64)r->iNext);
      if( rc ) return rc;
      mbjCksum(r->aBuf, (size_t)want, &r->s0, &r->s1);
      r->iBuf = 0;
      r->nBuf = (size_t)want;
      r->iNext += want;
    }
    k = r->nBuf - r->iBuf;
    if( k>n ) k = (size_t)n;
    if( d ){ memcpy(d, r->aBuf+r->iBuf, k); d += k; }
    r->iBuf += k;
    n -= k;
  }
  return SQLITE_OK;
}

static int mbjRefuse(char **pzErr, int rc, const char *zFile,
                     const char *zWhat){
  *pzErr = sqlite3_mprintf("membase: %s: the journal %s-mbjournal %s: the "
                           "last transaction cannot be rolled back; "
                           MBJ_ADVICE, zFile, zFile, zWhat);
  return rc;
}

/* Walk the entries of a hot journal: their structure and their checksum
** (xApply 0), or apply them. */
static int mbjWalk(MbjReader *r, const MbjHeader *h, const char *zFile,
                   int (*xApply)(void*, uint64_t, const void*, uint32_t),
                   void *pCtx, char **pzErr){
  unsigned char e[16], *a = 0;
  uint64_t nLeft = h->nBody;
  uint32_t nAlloc = 0;
  int rc = SQLITE_OK;
  mbjReaderSeek(r, MBJ_HEADER, MBJ_HEADER + h->nBody);
  while( nLeft>0 ){
    uint64_t off;
    uint32_t n;
    if( nLeft<16 ) goto bad;
    rc = mbjReaderGet(r, e, 16);
    if( rc ) break;
    off = mbjGet64(e);
    n = mbjGet32(e+8);
    nLeft -= 16;
    if( n>nLeft || off>h->nOrig || n>h->nOrig-off ) goto bad;
    if( xApply ){
      if( n>nAlloc ){
        unsigned char *aNew = sqlite3_realloc64(a, n);
        if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
        a = aNew; nAlloc = n;
      }
      rc = mbjReaderGet(r, a, n);
      if( rc==SQLITE_OK ) rc = xApply(pCtx, off, a, n);
    }else{
      rc = mbjReaderGet(r, 0, n);
    }
    if( rc ) break;
    nLeft -= n;
  }
  sqlite3_free(a);
  if( rc==SQLITE_DONE ) goto bad;
  if( rc==SQLITE_OK && xApply==0
   && ((uint64_t)r->s1<<32 | r->s0)!=h->cksum ) goto bad;
  return rc;
bad:
  sqlite3_free(a);
  return mbjRefuse(pzErr, SQLITE_CORRUPT, zFile, "fails its checksum");
}

int mbjRead(sqlite3_vfs *pVfs, const char *zFile, int *peState,
            MbjHeader *pHdr, uint64_t *pnV1, char **pzErr){
  char *zName = mbjName(zFile);
  MbjReader r;
  unsigned char a[MBJ_HEADER];
  int bExists = 0, rc;
  uint64_t arm;
  *peState = MBJ_NONE;
  if( zName==0 ) return SQLITE_NOMEM;
  /* READWRITE, not EXISTS: the platform VFS answers EXISTS with 0 for an
  ** empty file, and a writer killed between creating the journal and
  ** writing it leaves exactly that. */
  rc = pVfs->xAccess(pVfs, zName, SQLITE_ACCESS_READWRITE, &bExists);
  if( rc==SQLITE_OK && !bExists ){
    rc = pVfs->xAccess(pVfs, zName, SQLITE_ACCESS_EXISTS, &bExists);
  }
  if( rc || !bExists ){ sqlite3_free(zName); return rc; }
  rc = mbjReaderOpen(&r, pVfs, zName);
  sqlite3_free(zName);
  if( rc ) return rc;
  /* empty: the commit point of the last commit (kept for the next) */
  *peState = r.nSize==0 ? MBJ_NONE : MBJ_UNARMED;
  memset(a, 0, sizeof(a));
  if( r.nSize>=24 ){
    rc = r.pF->pMethods->xRead(r.pF, a, r.nSize<MBJ_HEADER ? 24 : MBJ_HEADER, 0);
  }
  if( rc ) goto done;
  if( r.nSize>=24 && memcmp(a, MBJ_MAGIC1, 8)==0 ){
    /* version 1: the length before an append, and its complement (one
    ** write before any growth: a torn one was never acted on) */
    uint64_t n = mbjGet64(a+8);
    if( (n ^ 0x5a5a5a5a5a5a5a5aULL)==mbjGet64(a+16) ){
      *peState = MBJ_V1;
      *pnV1 = n;
    }
    goto done;
  }
  if( r.nSize<MBJ_HEADER || memcmp(a, MBJ_MAGIC, 8)!=0 ) goto done;
  arm = mbjGet64(a+56);
  if( arm==0 ) goto done;
  if( arm!=mbjArmWord(a) ){
    rc = mbjRefuse(pzErr, SQLITE_CORRUPT, zFile, "has a damaged header");
    goto done;
  }
  pHdr->dev = mbjGet64(a+8);
  pHdr->ino = mbjGet64(a+16);
  pHdr->nOrig = mbjGet64(a+24);
  pHdr->nNew = mbjGet64(a+32);
  pHdr->nBody = mbjGet64(a+40);
  pHdr->cksum = mbjGet64(a+48);
  if( pHdr->nBody > r.nSize - MBJ_HEADER ){
    char *z = sqlite3_mprintf("is truncated (%llu of %llu bytes)",
                              (unsigned long long)r.nSize,
                              (unsigned long long)(MBJ_HEADER+pHdr->nBody));
    rc = z ? mbjRefuse(pzErr, SQLITE_CORRUPT, zFile, z) : SQLITE_NOMEM;
    sqlite3_free(z);
    goto done;
  }
  rc = mbjWalk(&r, pHdr, zFile, 0, 0, pzErr);
  if( rc==SQLITE_OK ) *peState = MBJ_HOT;
done:
  mbjReaderClose(&r);
  return rc;
}

int mbjForEach(sqlite3_vfs *pVfs, const char *zFile, const MbjHeader *pHdr,
               int (*xApply)(void*, uint64_t off, const void *pOld, uint32_t n),
               void *pCtx){
  char *zName = mbjName(zFile), *zErr = 0;
  MbjReader r;
  int rc;
  if( zName==0 ) return SQLITE_NOMEM;
  rc = mbjReaderOpen(&r, pVfs, zName);
  sqlite3_free(zName);
  if( rc ) return rc;
  rc = mbjWalk(&r, pHdr, zFile, xApply, pCtx, &zErr);
  sqlite3_free(zErr);   /* checked before: a change now is an I/O error */
  mbjReaderClose(&r);
  return rc;
}
