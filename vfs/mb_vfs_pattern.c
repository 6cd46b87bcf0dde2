/*
** mb_vfs_pattern.c -- what a connection's reads of the database file say:
** the counts PRAGMA membase_stats shows, the access-pattern advice of
** membase_advice=auto, and the detection of sequential scans for
** membase_dropbehind.
**
** Every read and fetch is counted (mb_vfs_pattern_count), and every page
** the io methods serve from the mapping (xRead, xFetch) is shown to
** mb_vfs_pattern_observe(). The state is the file's MbPattern
** (mb_vfs_int.h), touched only by the connection that owns the file, so it
** takes no lock; the mapping's advice is shared by the process and is
** changed under the MbShared's mutex.
*/
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_int.h"

void mb_vfs_pattern_init(MbPattern *p){
  p->prevOff = -1;
  p->asked = -1;
}

/* ---------------------------------------------------------- auto advice */

/* Page accesses are judged in windows of this many. */
#define MB_ADVICE_WINDOW 128

mb_advice mb_vfs_advice_of(int vfsAdvice){
  switch( vfsAdvice ){
    case MB_VFS_ADVICE_RANDOM:     return MB_ADV_RANDOM;
    case MB_VFS_ADVICE_SEQUENTIAL: return MB_ADV_SEQUENTIAL;
    default:                       return MB_ADV_NORMAL;
  }
}

/* The advice in force on the mapping, which every user of the file's
** mapping in the process shares (the core keeps it). */
mb_advice mb_vfs_map_advice(mb_map *m){
  mb_map_info info;
  mb_map_get_info(m, &info);
  return info.advice;
}

/* One page-sized access at off, for membase_advice=auto: a window mostly
** of short steps forward asks for sequential, one mostly of jumps for
** random, else normal. The mapping is advised only when the answer
** changes. */
static void mbAdviceObserve(MbFile *f, sqlite3_int64 off, int amt){
  MbPattern *p = &f->pattern;
  MbShared *s = f->pShared;
  int want;
  if( f->opts.advice!=MB_VFS_ADVICE_AUTO || amt<512 ) return;
  p->nForward += (off>p->prevOff && off-p->prevOff<=65536);
  p->prevOff = off;
  if( ++p->nSeen<MB_ADVICE_WINDOW ) return;
  want = p->nForward>=MB_ADVICE_WINDOW*7/8 ? MB_ADV_SEQUENTIAL
       : p->nForward<=MB_ADVICE_WINDOW/8 ? MB_ADV_RANDOM : MB_ADV_NORMAL;
  p->nSeen = p->nForward = 0;
  if( want==p->asked ) return;
  p->asked = want;
  mb_mutex_enter(&s->mu);
  if( want!=(int)mb_vfs_map_advice(s->pMap) ) (void)mb_map_advise(s->pMap, (mb_advice)want, 0, 0);
  mb_mutex_leave(&s->mu);
}

void mb_vfs_pattern_set_advice(MbFile *f, int advice){
  MbShared *s = f->pShared;
  f->opts.advice = advice;
  f->pattern.nSeen = f->pattern.nForward = 0;
  f->pattern.asked = -1;
  if( advice!=MB_VFS_ADVICE_AUTO && s && s->pMap ){
    mb_mutex_enter(&s->mu);
    (void)mb_map_advise(s->pMap, mb_vfs_advice_of(advice), 0, 0);
    mb_mutex_leave(&s->mu);
  }
}

/* ---------------------------------------------------------- drop-behind */

/* A run of reads moving forward, each within MB_DROP_GAP of the end of the
** last, is a scan (a table scan reads its leaf pages in file order, save
** for gaps); once it has covered MB_DROP_RUN bytes its positions feed an
** mb_scan, which releases what the run has passed when the policy
** (membase_dropbehind, else the process default) says so. Point lookups
** never make such a run: a jump forward past the gap starts anew, and a
** step back (interior pages, wherever they are) is not progress. */
#define MB_DROP_GAP ((sqlite3_int64)1 << 20)
#define MB_DROP_RUN ((sqlite3_int64)MB_DROP_CHUNK)
#define MB_DROP_REJOIN ((sqlite3_int64)1 << 20)

static mb_dropbehind mbDropPolicy(const MbFile *f){
  return f->opts.dropbehind>=0 ? (mb_dropbehind)f->opts.dropbehind : mb_dropbehind_default();
}

const char *mb_vfs_pattern_drop_name(const MbFile *f){
  return mb_dropbehind_name(mbDropPolicy(f));
}

uint64_t mb_vfs_pattern_dropped(const MbPattern *p){
  return p->droppedPast + (p->bScanLive ? p->scan.dropped : 0);
}

/* The live scan, if any, is over: keep what it released. */
static void mbScanEnd(MbPattern *p){
  if( p->bScanLive ){
    p->droppedPast += p->scan.dropped;
    p->bScanLive = 0;
  }
}

void mb_vfs_pattern_set_dropbehind(MbFile *f, int dropbehind){
  MbPattern *p = &f->pattern;
  f->opts.dropbehind = dropbehind;
  mbScanEnd(p);
  p->runBytes = 0;
  p->runStart = p->runEnd;
}

/* Where the access at off falls against the run: returns 1 when the run
** goes on (off extends it), 0 when the access is handled (a new run was
** started, or a step back was noted). */
static int mbRunStep(MbPattern *p, sqlite3_int64 off, int amt){
  int bRejoin = 0;
  if( off>=p->runEnd && off-p->runEnd<=MB_DROP_GAP ){
    p->runBytes += (off + amt) - p->runEnd;
    p->runEnd = off + amt;
    p->tentEnd = 0;           /* a tentative run must not be interleaved */
    return 1;
  }
  if( off<=p->runEnd ){
    /* A step back (an interior page of the b-tree, anywhere before) does
    ** not end a scan; it does not advance it either. But reads that go on
    ** forward from there, one after the other with none of the run's in
    ** between, for MB_DROP_REJOIN bytes are a new scan (the next query's). */
    if( p->tentEnd>0 && off>=p->tentEnd && off-p->tentEnd<=MB_DROP_GAP ){
      p->tentEnd = off + amt;
      if( p->tentEnd - p->tentStart < MB_DROP_REJOIN ) return 0;
      bRejoin = 1;
    }else{
      p->tentStart = off;
      p->tentEnd = off + amt;
      return 0;
    }
  }
  /* A jump forward (a lookup, or a new scan), or a rejoined run. */
  mbScanEnd(p);
  if( bRejoin ){
    p->runStart = p->tentStart;
    p->runEnd = p->tentEnd;
  }else{
    p->runStart = off;
    p->runEnd = off + amt;
  }
  p->runBytes = p->runEnd - p->runStart;
  p->tentEnd = 0;
  return 0;
}

static void mbDropObserve(MbFile *f, sqlite3_int64 off, int amt){
  MbPattern *p = &f->pattern;
  mb_map *m = f->pShared ? f->pShared->pMap : 0;
  if( m==0 ) return;
  if( !mbRunStep(p, off, amt) ) return;
  if( p->runBytes<MB_DROP_RUN ) return;
  if( !p->bScanLive ){
    mb_dropbehind d = mbDropPolicy(f);
    sqlite3_int64 at;
    if( d==MB_DROP_OFF ) return;
    mb_scan_init(&p->scan, m, 0, MB_POP_NONE);
    mb_scan_set_dropbehind(&p->scan, d);
    p->bScanLive = 1;
    /* The scan began where the run did: walk it there in steps (a step of
    ** more than a chunk would read as a seek past unread bytes). */
    for(at=p->runStart; at<off; at+=MB_DROP_CHUNK/2){
      (void)mb_scan_advance(&p->scan, (uint64_t)at);
    }
  }
  (void)mb_scan_advance(&p->scan, (uint64_t)off);
}

/* ------------------------------------------------------------- counters */

/* Count one read or fetch of this file; the core's per-mapping counters
** (membase_stats) get them in batches of 256. */
void mb_vfs_pattern_count(MbFile *f, mb_io_kind k, int iAmt){
  MbPattern *p = &f->pattern;
  p->aCount[k]++;
  p->aPend[k]++;
  p->aPendBytes[k] += (uint64_t)iAmt;
  if( ++p->nPend>=256 ) mb_vfs_pattern_flush_counts(f);
}

void mb_vfs_pattern_flush_counts(MbFile *f){
  MbPattern *p = &f->pattern;
  mb_map *m = f->pShared ? f->pShared->pMap : 0;
  if( p->nPend==0 ) return;
  for(int k=0; k<MB_IO_NKINDS; k++){
    if( p->aPend[k] && m ) mb_map_count_io_n(m, (mb_io_kind)k, p->aPend[k], p->aPendBytes[k]);
    p->aPend[k] = p->aPendBytes[k] = 0;
  }
  p->nPend = 0;
}

/* ------------------------------------------------------------ the entry */

void mb_vfs_pattern_observe(MbFile *f, sqlite3_int64 off, int amt){
  mbAdviceObserve(f, off, amt);
  mbDropObserve(f, off, amt);
}
