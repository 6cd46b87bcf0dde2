/*
** mb_vfs_pattern.c -- how a connection reads the database file: the
** access-pattern advice of membase_advice=auto, and the detection of
** sequential scans for membase_dropbehind.
*/
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_int.h"

/* ---------------------------------------------------------- auto advice */

#define MB_ADVICE_WINDOW 128

int mbAdviceOf(int vfsAdvice){
  switch( vfsAdvice ){
    case MB_VFS_ADVICE_RANDOM:     return MB_ADV_RANDOM;
    case MB_VFS_ADVICE_SEQUENTIAL: return MB_ADV_SEQUENTIAL;
    default:                       return MB_ADV_NORMAL;
  }
}

/* The advice in force on the mapping, which every user of the file's
** mapping in the process shares (the core keeps it). */
int mbMapAdvice(mb_map *m){
  mb_map_info info;
  mb_map_get_info(m, &info);
  return (int)info.advice;
}

/* Observe one page-sized access at off, for membase_advice=auto. */
void mbObserve(MbFile *f, sqlite3_int64 off, int amt){
  MbShared *s = f->pShared;
  int want;
  if( f->opts.advice!=MB_VFS_ADVICE_AUTO || amt<512 ) return;
  f->nSeq += (off>f->lastOff && off-f->lastOff<=65536);
  f->lastOff = off;
  if( ++f->nObs<MB_ADVICE_WINDOW ) return;
  want = f->nSeq>=MB_ADVICE_WINDOW*7/8 ? MB_ADV_SEQUENTIAL
       : f->nSeq<=MB_ADVICE_WINDOW/8 ? MB_ADV_RANDOM : MB_ADV_NORMAL;
  f->nObs = f->nSeq = 0;
  if( want==f->lastWant ) return;
  f->lastWant = want;
  mb_mutex_enter(&s->mu);
  if( want!=mbMapAdvice(s->pMap) ) (void)mb_map_advise(s->pMap, (mb_advice)want, 0, 0);
  mb_mutex_leave(&s->mu);
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

const char *mbDropName(const MbFile *f){
  return mb_dropbehind_name(mbDropPolicy(f));
}

void mbDropObserve(MbFile *f, sqlite3_int64 off, int amt){
  mb_map *m = f->pShared ? f->pShared->pMap : 0;
  int bNew = 0, bRejoin = 0;
  if( m==0 ) return;
  if( off>=f->runEnd && off-f->runEnd<=MB_DROP_GAP ){
    f->runLen += (off + amt) - f->runEnd;
    f->runEnd = off + amt;
    f->tEnd = 0;              /* a tentative run must not be interleaved */
  }else if( off>f->runEnd ){
    bNew = 1;                 /* a jump forward: a lookup, or a new scan */
  }else{
    /* A step back (an interior page of the b-tree, anywhere before) does
    ** not end a scan; it does not advance it either. But reads that go on
    ** forward from there, one after the other with none of the run's in
    ** between, for MB_DROP_REJOIN bytes are a new scan (the next query's). */
    if( f->tEnd>0 && off>=f->tEnd && off-f->tEnd<=MB_DROP_GAP ){
      f->tEnd = off + amt;
      if( f->tEnd - f->tStart < MB_DROP_REJOIN ) return;
      bNew = bRejoin = 1;
    }else{
      f->tStart = off;
      f->tEnd = off + amt;
      return;
    }
  }
  if( bNew ){
    if( f->bScan ){
      f->nDropped += f->scan.dropped;
      f->bScan = 0;
    }
    if( bRejoin ){
      f->runStart = f->tStart;
      f->runEnd = f->tEnd;
    }else{
      f->runStart = off;
      f->runEnd = off + amt;
    }
    f->runLen = f->runEnd - f->runStart;
    f->tEnd = 0;
    return;
  }
  if( f->runLen<MB_DROP_RUN ) return;
  if( !f->bScan ){
    mb_dropbehind p = mbDropPolicy(f);
    sqlite3_int64 at;
    if( p==MB_DROP_OFF ) return;
    mb_scan_init(&f->scan, m, 0, MB_POP_NONE);
    mb_scan_set_dropbehind(&f->scan, p);
    f->bScan = 1;
    /* The scan began where the run did: walk it there in steps (a step of
    ** more than a chunk would read as a seek past unread bytes). */
    for(at=f->runStart; at<off; at+=MB_DROP_CHUNK/2){
      (void)mb_scan_advance(&f->scan, (uint64_t)at);
    }
  }
  (void)mb_scan_advance(&f->scan, (uint64_t)off);
}
