/*
** fuzz_util.h -- helpers shared by the libFuzzer targets of tests/fuzz/:
** the per-process scratch files, running a statement to the end, and the
** one-time registration of MemBase (compiled in with SQLITE_CORE).
**
** Scratch files. Every target that needs a file uses one fixed path per
** process and per role ("<dir>/mbfuzz-<pid>-<role>"), rewritten in place
** (truncate + write) on every input, so a run leaves at most one file per
** role however long it lasts, and the same inode is reused: what the
** product caches per file (core mb_cache, the registry's mapping) sees the
** file change under it, as it would in real use. The files are removed at
** exit; tests/scripts/fuzz.sh also removes the scratch directory it hands in with
** MB_FUZZ_TMPDIR, for runs that end in a crash (libFuzzer _exit()s then).
*/
#ifndef MB_FUZZ_UTIL_H
#define MB_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "membase.h"

#define MBF_MAX_FILES 8
static char mbf_azFile[MBF_MAX_FILES][512];
static int mbf_nFile;

static void mbf_cleanup(void){
  for(int i=0; i<mbf_nFile; i++){
    char zJ[600];
    unlink(mbf_azFile[i]);
    snprintf(zJ, sizeof(zJ), "%s-mbjournal", mbf_azFile[i]);
    unlink(zJ);
    snprintf(zJ, sizeof(zJ), "%s-journal", mbf_azFile[i]);
    unlink(zJ);
  }
}

/* The scratch directory: $MB_FUZZ_TMPDIR, else /dev/shm (no disk I/O),
** else $TMPDIR or /tmp. */
static const char *mbf_tmpdir(void){
  const char *z = getenv("MB_FUZZ_TMPDIR");
  if( z && z[0] ) return z;
  if( access("/dev/shm", W_OK)==0 ) return "/dev/shm";
  z = getenv("TMPDIR");
  return (z && z[0]) ? z : "/tmp";
}

/* This process's path for `role` (e.g. "rec.bin"); remembered for
** removal at exit. Returns a static buffer that lives as long as the
** process. */
static const char *mbf_path(const char *role){
  for(int i=0; i<mbf_nFile; i++){
    const char *zBase = strrchr(mbf_azFile[i], '-');
    if( zBase && strcmp(zBase+1, role)==0 ) return mbf_azFile[i];
  }
  if( mbf_nFile>=MBF_MAX_FILES ) abort();
  if( mbf_nFile==0 ) atexit(mbf_cleanup);
  snprintf(mbf_azFile[mbf_nFile], sizeof(mbf_azFile[0]), "%s/mbfuzz-%ld-%s",
           mbf_tmpdir(), (long)getpid(), role);
  return mbf_azFile[mbf_nFile++];
}

/* Replace the file's contents with a[0..n): same path, same inode. */
static void mbf_write(const char *zPath, const void *a, size_t n){
  int fd = open(zPath, O_WRONLY|O_CREAT|O_TRUNC, 0600);
  const unsigned char *p = (const unsigned char*)a;
  if( fd<0 ){ perror(zPath); abort(); }
  while( n>0 ){
    ssize_t k = write(fd, p, n);
    if( k<=0 ){ perror(zPath); abort(); }
    p += k;
    n -= (size_t)k;
  }
  close(fd);
}

/* Register MemBase (functions, tables, VFSes) for every connection opened
** from now on. Once per process. */
static void mbf_register(void){
  static int done;
  if( done ) return;
  if( membase_register()!=SQLITE_OK ){
    fprintf(stderr, "fuzz: membase_register failed\n");
    abort();
  }
  done = 1;
}

/* Read every column of the current row, as SQLite would hand it out. */
static void mbf_touch_row(sqlite3_stmt *pStmt){
  int n = sqlite3_column_count(pStmt);
  for(int i=0; i<n; i++){
    switch( sqlite3_column_type(pStmt, i) ){
      case SQLITE_INTEGER: (void)sqlite3_column_int64(pStmt, i); break;
      case SQLITE_FLOAT:   (void)sqlite3_column_double(pStmt, i); break;
      case SQLITE_TEXT: {
        const unsigned char *z = sqlite3_column_text(pStmt, i);
        int nz = sqlite3_column_bytes(pStmt, i);
        volatile unsigned char sink = 0;
        if( z && nz>0 ) sink ^= z[0] ^ z[nz-1];
        (void)sink;
        break;
      }
      case SQLITE_BLOB: {
        const unsigned char *z = sqlite3_column_blob(pStmt, i);
        int nz = sqlite3_column_bytes(pStmt, i);
        volatile unsigned char sink = 0;
        if( z && nz>0 ) sink ^= z[0] ^ z[nz-1];
        (void)sink;
        break;
      }
      default: break;
    }
  }
}

/* Prepare zSql, bind the 64-bit integers aBind[0..nBind), step it to the
** end (at most mxRow rows), reading every column. Returns the last
** sqlite3_step() code (SQLITE_DONE on success) or the prepare error;
** errors are expected and fine. */
static int mbf_run(sqlite3 *db, const char *zSql, const sqlite3_int64 *aBind,
                   int nBind, int mxRow){
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  int nRow = 0;
  if( rc!=SQLITE_OK ) return rc;
  for(int i=0; i<nBind && i<sqlite3_bind_parameter_count(pStmt); i++){
    sqlite3_bind_int64(pStmt, i+1, aBind[i]);
  }
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    mbf_touch_row(pStmt);
    if( ++nRow>=mxRow ){ rc = SQLITE_DONE; break; }
  }
  sqlite3_finalize(pStmt);
  return rc;
}

#endif /* MB_FUZZ_UTIL_H */
