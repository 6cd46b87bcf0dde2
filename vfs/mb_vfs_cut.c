/*
** mb_vfs_cut.c -- xTruncate of the files the membase VFS maps (a database,
** a WAL file).
**
** The platform VFS truncates its own handle; the core's mapping of the
** same file is another user of it. POSIX shrinks a mapped file, but
** Windows refuses while a view is mapped (ERROR_USER_MAPPED_FILE), and
** SQLite's win32 VFS ignores exactly that error in xTruncate (its own
** mapping cannot always be dropped either). So without help, VACUUM and
** PRAGMA wal_checkpoint(TRUNCATE) "succeeded" on Windows and the files
** never shrank. The truncation therefore runs inside mb_registry_cut(): the
** core moves its views out of the way (on Windows: unmaps them), the
** platform VFS cuts, the core maps the file as it now is. No platform test
** here: the core knows what its system needs.
**
** A database's view is not taken away while xFetch pointers into it are
** out (mb_vfs_shared.c's handshake): the truncation then goes to the
** platform VFS as it is, and where the system refuses, the file keeps its
** size, as with SQLite's own VFS and its own mapping (the pager copes: the
** pages past its size are free). tests/vfs/test_vfs_truncate.c.
*/
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_int.h"

typedef struct MbCut {
  sqlite3_file *pReal;        /* the platform file that truncates */
  int rc;                     /* its xTruncate's answer */
  int bCalled;                /* mb_registry_cut called mbCutReal */
} MbCut;

static void mbCutReal(void *ctx, uint64_t size){
  MbCut *c = ctx;
  c->bCalled = 1;
  c->rc = c->pReal->pMethods->xTruncate(c->pReal, (sqlite3_int64)size);
}

/* pReal truncated to size with pMap (may be NULL) out of its way. */
static int mbCutMapped(mb_map *pMap, sqlite3_file *pReal, sqlite3_int64 size){
  MbCut c = { pReal, SQLITE_OK, 0 };
  if( pMap && size>=0 ) (void)mb_registry_cut(pMap, (uint64_t)size, mbCutReal, &c);
  /* not mapped, or a map the registry no longer holds: the plain way */
  if( !c.bCalled ) c.rc = pReal->pMethods->xTruncate(pReal, size);
  return c.rc;
}

int mb_vfs_cut_wal(mb_map *pMap, sqlite3_file *pReal, sqlite3_int64 size){
  return mbCutMapped(pMap, pReal, size);
}

int mb_vfs_cut_db(MbShared *s, sqlite3_file *pReal, sqlite3_int64 size){
  int rc;
  if( s==0 || s->pMap==0 ) return pReal->pMethods->xTruncate(pReal, size);
  mb_mutex_enter(&s->mu);
  /* The shrinker's half of the fetch handshake (mb_vfs_int.h): announce,
  ** then look for pointers out. */
  atomic_store_explicit(&s->bShrinking, 1, memory_order_seq_cst);
  if( atomic_load_explicit(&s->nFetchOut, memory_order_seq_cst)>0 ){
    atomic_store_explicit(&s->bShrinking, 0, memory_order_seq_cst);
    mb_mutex_leave(&s->mu);
    rc = pReal->pMethods->xTruncate(pReal, size);
    if( rc==SQLITE_OK ) mb_vfs_shared_remap(s);   /* the shrink waits for them */
    return rc;
  }
  uint64_t soft = mb_map_soft_faults(s->pMap);
  rc = mbCutMapped(s->pMap, pReal, size);
  /* the view was mapped from the file again: faults seen so far are done */
  atomic_store_explicit(&s->softSeen, soft, memory_order_relaxed);
  atomic_store_explicit(&s->bShrinkPending, 0, memory_order_seq_cst);
  atomic_store_explicit(&s->bShrinking, 0, memory_order_seq_cst);
  mb_mutex_leave(&s->mu);
  return rc;
}
