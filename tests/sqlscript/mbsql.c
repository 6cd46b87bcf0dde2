/*
** mbsql.c -- the SQL-level test driver that runs the same scripts on every
** platform: natively on Linux, under Wine with sqlite3.dll, under
** qemu-aarch64 (tests/scripts/windows.sh, tests/scripts/arm64.sh). One
** source of truth: a difference between platforms is a line in a script
** (onlyif / skipif), never a second copy of a test.
**
**   mbsql --module PATH --dir SCRATCH [--expect-failures N] SCRIPT...
**
** It opens an in-memory connection "main", loads the module into every
** connection it opens (sqlite3_load_extension, as an application would) and
** runs the script's records in order. Exit status: 0 when every record
** passed (or, with --expect-failures N, when exactly N failed: the
** self-test shows that a wrong expectation is caught), 1 otherwise, 2 on a
** usage or setup error.
**
** Script format (the .test files of tests/sqlscript). A record is one of:
**
**   statement ok                 SQL lines up to a blank line: must succeed
**   statement error TEXT         must fail with an error message containing
**                                TEXT (the message is the check)
**   query [sorted]               SQL, a line "----", then the expected rows
**                                up to a blank line: one line per row,
**                                columns joined by "|", NULL as NULL, ""
**                                as (empty), a BLOB as x'hex', a REAL as
**                                SQLite prints it (%!.15g); "sorted"
**                                compares the rows as sorted lists
**   connection NAME [URI]        switch to connection NAME, opening it
**                                first (default URI ":memory:"; opened with
**                                SQLITE_OPEN_URI) and loading the module
**   close NAME                   close that connection
**   process                      lines up to "end": a script run by a child
**                                mbsql process (its own connections), which
**                                must pass; the parent's connections stay
**                                open meanwhile (locks held are held)
**
** "onlyif P" or "skipif P" before a record runs it only on, or skips it on,
** platform P: windows, posix, linux, macos, x86_64, aarch64. Lines starting
** with "#" are comments. "@DIR@" anywhere is replaced by the scratch folder.
**
** Functions the driver adds to each connection, independent of MemBase, to
** make inputs and check outputs byte for byte (an oracle beside the SQL):
**   mbsql_pack(FMT, V...)       bytes like Python's struct.pack: "<" or ">"
**                               then b B h H i I q Q f d ?, "Ns" (text or
**                               blob, NUL-padded to N), "Nx" (N zero bytes)
**   mbsql_packrows(FMT, V...)   aggregate: the rows packed and concatenated
**   mbsql_cat(X, ...)           the raw bytes of each argument, concatenated
**   mbsql_writefile(PATH, X)    replaces PATH with the bytes of X
**   mbsql_readfile(PATH)        the file's bytes (NULL if it does not exist)
**   mbsql_filesize(PATH)        its size (NULL if it does not exist)
**   mbsql_truncate(PATH, N)     sets its size to N; the system's refusal is
**                               an SQL error (Windows refuses to shrink a
**                               file another handle has mapped)
**   mbsql_remove(PATH)          deletes it; 1 if it existed
**   mbsql_platform()            the platform name, as onlyif uses it
** The child of a "process" block is started as MBSQL_EMULATOR (a command
** prefix such as "qemu-aarch64-static -L /sysroot", split on spaces) then
** this program, when MBSQL_EMULATOR is set.
*/
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include <sqlite3.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#include <io.h>
#include <sys/stat.h>   /* _stat64 (mbsql_filesize) */
#include <process.h>
#include <direct.h>
#else
#include <dirent.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
#endif

#if defined(_WIN32)
#define MBSQL_OS "windows"
#elif defined(__APPLE__)
#define MBSQL_OS "macos"
#elif defined(__linux__)
#define MBSQL_OS "linux"
#else
#define MBSQL_OS "posix"
#endif
#if defined(__x86_64__) || defined(_M_X64)
#define MBSQL_ARCH "x86_64"
#elif defined(__aarch64__) || defined(_M_ARM64)
#define MBSQL_ARCH "aarch64"
#else
#define MBSQL_ARCH "other"
#endif

/* ------------------------------------------------------------ text buffer */

typedef struct Buf { char *z; size_t n, cap; } Buf;

static void bufAdd(Buf *b, const char *z, size_t n){
  if( b->n + n + 1 > b->cap ){
    size_t cap = (b->cap ? b->cap*2 : 256);
    while( cap < b->n + n + 1 ) cap *= 2;
    b->z = realloc(b->z, cap);
    if( b->z==0 ){ fprintf(stderr, "mbsql: out of memory\n"); exit(2); }
    b->cap = cap;
  }
  memcpy(b->z + b->n, z, n);
  b->n += n;
  b->z[b->n] = 0;
}
static void bufStr(Buf *b, const char *z){ bufAdd(b, z, strlen(z)); }

/* ---------------------------------------------------- driver SQL functions */

static void fnPlatform(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc; (void)argv;
  sqlite3_result_text(ctx, MBSQL_OS, -1, SQLITE_STATIC);
}

/* Pack one row by FMT into b; 0, or an error message (static). */
static const char *packRow(Buf *b, const char *fmt, int argc, sqlite3_value **argv){
  int big = 0, iArg = 0;
  for(const char *p = fmt; *p; p++){
    unsigned long cnt = 0;
    int haveCnt = 0;
    unsigned char raw[8];
    int width = 0;
    if( *p=='<' ){ big = 0; continue; }
    if( *p=='>' ){ big = 1; continue; }
    if( *p==' ' ) continue;
    while( *p>='0' && *p<='9' ){ cnt = cnt*10 + (unsigned long)(*p - '0'); p++; haveCnt = 1; }
    if( *p=='x' ){
      for(unsigned long i = 0; i < (haveCnt ? cnt : 1); i++) bufAdd(b, "", 1);
      continue;
    }
    if( iArg >= argc ) return "mbsql_pack: fewer values than the format needs";
    sqlite3_value *v = argv[iArg++];
    if( *p=='s' ){
      const unsigned char *z = sqlite3_value_blob(v);
      size_t n = (size_t)sqlite3_value_bytes(v);
      size_t want = haveCnt ? cnt : 1;
      if( n > want ) n = want;
      bufAdd(b, (const char*)(z ? z : (const unsigned char*)""), n);
      for(size_t i = n; i < want; i++) bufAdd(b, "", 1);
      continue;
    }
    if( haveCnt ) return "mbsql_pack: a count only before s or x";
    uint64_t u = 0;
    switch( *p ){
      case 'b': case 'B': case '?': width = 1; break;
      case 'h': case 'H': width = 2; break;
      case 'i': case 'I': case 'f': width = 4; break;
      case 'q': case 'Q': case 'd': width = 8; break;
      default: return "mbsql_pack: unknown format character";
    }
    if( *p=='f' ){
      float f = (float)sqlite3_value_double(v);
      uint32_t w; memcpy(&w, &f, 4); u = w;
    }else if( *p=='d' ){
      double d = sqlite3_value_double(v);
      memcpy(&u, &d, 8);
    }else{
      u = (uint64_t)sqlite3_value_int64(v);
    }
    for(int i = 0; i < width; i++){
      int shift = big ? (width - 1 - i)*8 : i*8;
      raw[i] = (unsigned char)(u >> shift);
    }
    bufAdd(b, (const char*)raw, (size_t)width);
  }
  if( iArg != argc ) return "mbsql_pack: more values than the format uses";
  return 0;
}

static void fnPack(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Buf b = {0, 0, 0};
  const char *zErr = packRow(&b, (const char*)sqlite3_value_text(argv[0]), argc-1, argv+1);
  if( zErr ) sqlite3_result_error(ctx, zErr, -1);
  else sqlite3_result_blob64(ctx, b.z ? b.z : "", b.n, SQLITE_TRANSIENT);
  free(b.z);
}

static void fnPackStep(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Buf *b = sqlite3_aggregate_context(ctx, sizeof(Buf));
  if( b==0 ){ sqlite3_result_error_nomem(ctx); return; }
  const char *zErr = packRow(b, (const char*)sqlite3_value_text(argv[0]), argc-1, argv+1);
  if( zErr ) sqlite3_result_error(ctx, zErr, -1);
}
static void fnPackFinal(sqlite3_context *ctx){
  Buf *b = sqlite3_aggregate_context(ctx, 0);
  if( b==0 ){ sqlite3_result_zeroblob(ctx, 0); return; }
  sqlite3_result_blob64(ctx, b->z ? b->z : "", b->n, SQLITE_TRANSIENT);
  free(b->z);
}

static void fnCat(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Buf b = {0, 0, 0};
  for(int i = 0; i < argc; i++){
    const void *z = sqlite3_value_blob(argv[i]);
    if( z ) bufAdd(&b, z, (size_t)sqlite3_value_bytes(argv[i]));
  }
  sqlite3_result_blob64(ctx, b.z ? b.z : "", b.n, SQLITE_TRANSIENT);
  free(b.z);
}

static void resultOsError(sqlite3_context *ctx, const char *zFn, const char *zPath){
  char *z;
#if defined(_WIN32)
  z = sqlite3_mprintf("%s: %s: system error %lu", zFn, zPath, (unsigned long)GetLastError());
#else
  z = sqlite3_mprintf("%s: %s: %s", zFn, zPath, strerror(errno));
#endif
  sqlite3_result_error(ctx, z ? z : zFn, -1);
  sqlite3_free(z);
}

static void fnWriteFile(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  const char *zPath = (const char*)sqlite3_value_text(argv[0]);
  const void *z = sqlite3_value_blob(argv[1]);
  size_t n = (size_t)sqlite3_value_bytes(argv[1]);
  FILE *f = zPath ? fopen(zPath, "wb") : 0;
  if( f==0 ){ resultOsError(ctx, "mbsql_writefile", zPath ? zPath : "NULL"); return; }
  size_t w = n ? fwrite(z, 1, n, f) : 0;
  if( fclose(f)!=0 || w!=n ){ resultOsError(ctx, "mbsql_writefile", zPath); return; }
  sqlite3_result_int64(ctx, (sqlite3_int64)n);
}

/* The bytes of zPath into *b (appended); 0 if it cannot be opened. */
static int readFileBuf(const char *zPath, Buf *b){
  FILE *f = zPath ? fopen(zPath, "rb") : 0;
  char chunk[65536];
  size_t got;
  if( f==0 ) return 0;
  while( (got = fread(chunk, 1, sizeof chunk, f)) > 0 ) bufAdd(b, chunk, got);
  fclose(f);
  return 1;
}

static void fnReadFile(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  Buf b = {0, 0, 0};
  if( !readFileBuf((const char*)sqlite3_value_text(argv[0]), &b) ) return;   /* NULL */
  sqlite3_result_blob64(ctx, b.z ? b.z : "", b.n, SQLITE_TRANSIENT);
  free(b.z);
}

static void fnFileSize(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  const char *zPath = (const char*)sqlite3_value_text(argv[0]);
  if( zPath==0 ) return;
#if defined(_WIN32)
  struct _stat64 st;
  if( _stat64(zPath, &st)==0 ) sqlite3_result_int64(ctx, (sqlite3_int64)st.st_size);
#else
  struct stat st;
  if( stat(zPath, &st)==0 ) sqlite3_result_int64(ctx, (sqlite3_int64)st.st_size);
#endif
}

static void fnTruncate(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  const char *zPath = (const char*)sqlite3_value_text(argv[0]);
  sqlite3_int64 n = sqlite3_value_int64(argv[1]);
  if( zPath==0 || n < 0 ){ sqlite3_result_error(ctx, "mbsql_truncate: bad arguments", -1); return; }
#if defined(_WIN32)
  /* As another program would: its own handle, sharing everything. */
  HANDLE h = CreateFileA(zPath, GENERIC_READ|GENERIC_WRITE,
                         FILE_SHARE_READ|FILE_SHARE_WRITE|FILE_SHARE_DELETE, 0,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, 0);
  LARGE_INTEGER li;
  li.QuadPart = n;
  int ok = h!=INVALID_HANDLE_VALUE && SetFilePointerEx(h, li, 0, FILE_BEGIN) && SetEndOfFile(h);
  DWORD e = GetLastError();
  if( h!=INVALID_HANDLE_VALUE ) CloseHandle(h);
  if( !ok ){ SetLastError(e); resultOsError(ctx, "mbsql_truncate", zPath); return; }
#else
  if( truncate(zPath, (off_t)n)!=0 ){ resultOsError(ctx, "mbsql_truncate", zPath); return; }
#endif
  sqlite3_result_int64(ctx, n);
}

static void fnRemove(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  const char *zPath = (const char*)sqlite3_value_text(argv[0]);
  sqlite3_result_int(ctx, zPath && remove(zPath)==0);
}

static void addFunctions(sqlite3 *db){
  const int f = SQLITE_UTF8;
  sqlite3_create_function(db, "mbsql_platform", 0, f, 0, fnPlatform, 0, 0);
  sqlite3_create_function(db, "mbsql_pack", -1, f, 0, fnPack, 0, 0);
  sqlite3_create_function(db, "mbsql_packrows", -1, f, 0, 0, fnPackStep, fnPackFinal);
  sqlite3_create_function(db, "mbsql_cat", -1, f, 0, fnCat, 0, 0);
  sqlite3_create_function(db, "mbsql_writefile", 2, f, 0, fnWriteFile, 0, 0);
  sqlite3_create_function(db, "mbsql_readfile", 1, f, 0, fnReadFile, 0, 0);
  sqlite3_create_function(db, "mbsql_filesize", 1, f, 0, fnFileSize, 0, 0);
  sqlite3_create_function(db, "mbsql_truncate", 2, f, 0, fnTruncate, 0, 0);
  sqlite3_create_function(db, "mbsql_remove", 1, f, 0, fnRemove, 0, 0);
}

/* ------------------------------------------------------------- the runner */

#define MAX_CONN 8

typedef struct Runner {
  const char *zModule, *zDir, *zSelf, *zScript;
  struct { char *zName; sqlite3 *db; } aConn[MAX_CONN];
  int iCur;                 /* index into aConn of the current connection */
  int nPass, nFail, nSkip;
  int isChild;              /* run by a "process" block: keep the folder */
} Runner;

/* zIn with every @DIR@ replaced; sqlite3_free it. */
static char *subst(const Runner *r, const char *zIn){
  Buf b = {0, 0, 0};
  const char *p = zIn, *q;
  while( (q = strstr(p, "@DIR@"))!=0 ){
    bufAdd(&b, p, (size_t)(q - p));
    bufStr(&b, r->zDir);
    p = q + 5;
  }
  bufStr(&b, p);
  char *z = sqlite3_mprintf("%s", b.z);
  free(b.z);
  if( z==0 ){ fprintf(stderr, "mbsql: out of memory\n"); exit(2); }
  return z;
}

static int failf(Runner *r, int iLine, const char *zWhat, const char *zSql,
                 const char *zExpect, const char *zGot){
  r->nFail++;
  printf("FAIL %s:%d: %s\n", r->zScript, iLine, zWhat);
  if( zSql ) printf("  sql:\n    %s\n", zSql);
  if( zExpect ) printf("  expected:\n%s\n", zExpect);
  if( zGot ) printf("  got:\n%s\n", zGot);
  fflush(stdout);
  return 1;
}

static sqlite3 *openConn(Runner *r, const char *zName, const char *zUri, int iLine){
  sqlite3 *db = 0;
  char *zErr = 0;
  int rc = sqlite3_open_v2(zUri, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE|SQLITE_OPEN_URI, 0);
  if( rc==SQLITE_OK ){
    sqlite3_enable_load_extension(db, 1);
    rc = sqlite3_load_extension(db, r->zModule, 0, &zErr);
  }
  if( rc!=SQLITE_OK ){
    char *z = sqlite3_mprintf("cannot open connection %s (%s): %s", zName, zUri,
                              zErr ? zErr : sqlite3_errmsg(db));
    failf(r, iLine, z, 0, 0, 0);
    sqlite3_free(z);
    sqlite3_free(zErr);
    sqlite3_close(db);
    return 0;
  }
  sqlite3_extended_result_codes(db, 0);
  addFunctions(db);
  return db;
}

/* Text of one column, as the expected rows spell it. */
static void colText(Buf *b, sqlite3_stmt *st, int i){
  switch( sqlite3_column_type(st, i) ){
    case SQLITE_NULL: bufStr(b, "NULL"); break;
    case SQLITE_BLOB: {
      const unsigned char *z = sqlite3_column_blob(st, i);
      int n = sqlite3_column_bytes(st, i);
      char hex[3];
      bufStr(b, "x'");
      for(int k = 0; k < n; k++){ snprintf(hex, sizeof hex, "%02x", z[k]); bufAdd(b, hex, 2); }
      bufStr(b, "'");
      break;
    }
    default: {
      const char *z = (const char*)sqlite3_column_text(st, i);
      int n = sqlite3_column_bytes(st, i);
      if( n==0 ) bufStr(b, "(empty)");
      else bufAdd(b, z, (size_t)n);
    }
  }
}

/* Run every statement of zSql; rows (one line each) into pOut if not 0.
** Returns SQLITE_OK or the error code, with the message in *pzErr. */
static int runSql(sqlite3 *db, const char *zSql, Buf *pOut, char **pzErr){
  const char *zTail = zSql;
  int rc = SQLITE_OK;
  *pzErr = 0;
  while( rc==SQLITE_OK && zTail && *zTail ){
    sqlite3_stmt *st = 0;
    rc = sqlite3_prepare_v2(db, zTail, -1, &st, &zTail);
    if( rc!=SQLITE_OK ) break;
    if( st==0 ) continue;                       /* whitespace, comment */
    while( (rc = sqlite3_step(st))==SQLITE_ROW ){
      if( pOut ){
        for(int i = 0; i < sqlite3_column_count(st); i++){
          if( i ) bufStr(pOut, "|");
          colText(pOut, st, i);
        }
        bufStr(pOut, "\n");
      }
    }
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
    if( rc!=SQLITE_OK ){
      *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
      sqlite3_finalize(st);
      return rc;
    }
    rc = sqlite3_finalize(st);
  }
  if( rc!=SQLITE_OK ) *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  return rc;
}

static int cmpLine(const void *a, const void *b){
  return strcmp(*(char *const*)a, *(char *const*)b);
}

/* The lines of z, sorted, rejoined (z is modified). Result: malloc'd. */
static char *sortLines(char *z){
  size_t n = 0, cap = 16;
  char **az = malloc(cap * sizeof *az);
  Buf b = {0, 0, 0};
  for(char *p = strtok(z, "\n"); p; p = strtok(0, "\n")){
    if( n==cap ){ cap *= 2; az = realloc(az, cap * sizeof *az); }
    az[n++] = p;
  }
  qsort(az, n, sizeof *az, cmpLine);
  for(size_t i = 0; i < n; i++){ bufStr(&b, az[i]); bufStr(&b, "\n"); }
  free(az);
  if( b.z==0 ) bufStr(&b, "");
  return b.z;
}

static int platformIs(const char *z){
  if( strcmp(z, MBSQL_OS)==0 || strcmp(z, MBSQL_ARCH)==0 ) return 1;
#if !defined(_WIN32)
  if( strcmp(z, "posix")==0 ) return 1;
#endif
  return 0;
}

/* Spawn a child mbsql on zChild; its exit status, or -1. */
static int runChild(const Runner *r, const char *zChild){
  const char *azFixed[] = { r->zSelf, "--child", "1", "--module", r->zModule,
                            "--dir", r->zDir, zChild };
  char *azArg[64];
  int n = 0;
  char *zEmu = 0;
  const char *zEnv = getenv("MBSQL_EMULATOR");
  if( zEnv && *zEnv ){
    zEmu = sqlite3_mprintf("%s", zEnv);
    for(char *p = strtok(zEmu, " "); p && n < 48; p = strtok(0, " ")) azArg[n++] = p;
  }
  for(size_t i = 0; i < sizeof azFixed / sizeof azFixed[0]; i++) azArg[n++] = (char*)azFixed[i];
  azArg[n] = 0;
  fflush(stdout);
  int status = -1;
#if defined(_WIN32)
  /* _spawnv joins the arguments with spaces: quote those that need it */
  char *azQ[64];
  for(int i = 0; i < n; i++){
    azQ[i] = strchr(azArg[i], ' ') ? sqlite3_mprintf("\"%s\"", azArg[i]) : sqlite3_mprintf("%s", azArg[i]);
  }
  azQ[n] = 0;
  intptr_t rc = _spawnv(_P_WAIT, azArg[0], (const char *const*)azQ);
  for(int i = 0; i < n; i++) sqlite3_free(azQ[i]);
  status = rc < 0 ? -1 : (int)rc;
#else
  pid_t pid;
  if( posix_spawnp(&pid, azArg[0], 0, 0, azArg, environ)==0 ){
    int ws;
    if( waitpid(pid, &ws, 0)==pid ) status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  }
#endif
  sqlite3_free(zEmu);
  return status;
}

/* The next line of the script; 0 at the end. Lines are NUL-terminated in
** place, a trailing \r removed. */
static char *nextLine(char **pp, int *piLine){
  char *p = *pp;
  if( p==0 || *p==0 ) return 0;
  char *e = strchr(p, '\n');
  if( e ){ *e = 0; *pp = e + 1; }else{ *pp = p + strlen(p); }
  size_t n = strlen(p);
  if( n && p[n-1]=='\r' ) p[n-1] = 0;
  (*piLine)++;
  return p;
}

static int isBlank(const char *z){
  while( *z==' ' || *z=='\t' ) z++;
  return *z==0;
}

static int runScript(Runner *r, char *zText){
  char *p = zText;
  int iLine = 0;
  int cond = 1;                           /* the next record runs */
  char *z;
  while( (z = nextLine(&p, &iLine))!=0 ){
    if( isBlank(z) || z[0]=='#' ) continue;
    int iStart = iLine;
    if( strncmp(z, "onlyif ", 7)==0 ){ cond = cond && platformIs(z + 7); continue; }
    if( strncmp(z, "skipif ", 7)==0 ){ cond = cond && !platformIs(z + 7); continue; }
    int run = cond;
    cond = 1;

    if( strncmp(z, "statement ", 10)==0 || strncmp(z, "query", 5)==0 ){
      int isQuery = z[0]=='q';
      int sorted = isQuery && strstr(z, "sorted")!=0;
      int wantErr = !isQuery && strncmp(z + 10, "error", 5)==0;
      const char *zWantMsg = wantErr ? z + 15 : 0;
      if( !isQuery && !wantErr && strcmp(z + 10, "ok")!=0 ){
        fprintf(stderr, "%s:%d: unknown record \"%s\"\n", r->zScript, iLine, z);
        return 2;
      }
      while( zWantMsg && *zWantMsg==' ' ) zWantMsg++;
      Buf sql = {0, 0, 0}, expect = {0, 0, 0};
      int inExpect = 0;
      while( (z = nextLine(&p, &iLine))!=0 && !isBlank(z) ){
        if( isQuery && strcmp(z, "----")==0 ){ inExpect = 1; continue; }
        Buf *t = inExpect ? &expect : &sql;
        bufStr(t, z);
        bufStr(t, "\n");
      }
      if( sql.z==0 || (isQuery && !inExpect) ){
        fprintf(stderr, "%s:%d: a record without SQL, or a query without ----\n", r->zScript, iStart);
        return 2;
      }
      if( !run ){ r->nSkip++; free(sql.z); free(expect.z); continue; }
      char *zWant = zWantMsg ? subst(r, zWantMsg) : 0;
      char *zSql = subst(r, sql.z);
      char *zExp = subst(r, expect.z ? expect.z : "");
      Buf got = {0, 0, 0};
      char *zErr = 0;
      int rc = runSql(r->aConn[r->iCur].db, zSql, isQuery ? &got : 0, &zErr);
      if( !got.z ) bufStr(&got, "");
      int bad = 0;
      if( wantErr ){
        if( rc==SQLITE_OK ) bad = failf(r, iStart, "expected an error, it succeeded", zSql, zWant, 0);
        else if( strstr(zErr, zWant)==0 ) bad = failf(r, iStart, "wrong error message", zSql, zWant, zErr);
      }else if( rc!=SQLITE_OK ){
        bad = failf(r, iStart, "unexpected error", zSql, 0, zErr);
      }else if( isQuery ){
        char *a = sorted ? sortLines(zExp) : 0, *b = sorted ? sortLines(got.z) : 0;
        const char *ze = sorted ? a : zExp, *zg = sorted ? b : got.z;
        if( strcmp(ze, zg)!=0 ) bad = failf(r, iStart, "wrong rows", zSql, ze, zg);
        free(a); free(b);
      }
      if( !bad ) r->nPass++;
      sqlite3_free(zErr);
      sqlite3_free(zWant);
      sqlite3_free(zSql);
      sqlite3_free(zExp);
      free(got.z); free(sql.z); free(expect.z);
      continue;
    }

    if( strncmp(z, "connection ", 11)==0 ){
      char *zName = z + 11, *zUri = strchr(zName, ' ');
      if( zUri ){ *zUri++ = 0; while( *zUri==' ' ) zUri++; }
      if( !run ) continue;
      int i, iFree = -1;
      for(i = 0; i < MAX_CONN; i++){
        if( r->aConn[i].zName && strcmp(r->aConn[i].zName, zName)==0 ) break;
        if( !r->aConn[i].zName && iFree<0 ) iFree = i;
      }
      if( i==MAX_CONN ){
        if( iFree<0 ){ fprintf(stderr, "%s:%d: too many connections\n", r->zScript, iLine); return 2; }
        char *zU = subst(r, zUri && *zUri ? zUri : ":memory:");
        sqlite3 *db = openConn(r, zName, zU, iLine);
        sqlite3_free(zU);
        if( db==0 ) return 1;                 /* the rest cannot run */
        r->aConn[iFree].zName = sqlite3_mprintf("%s", zName);
        r->aConn[iFree].db = db;
        i = iFree;
      }
      r->iCur = i;
      continue;
    }

    if( strncmp(z, "close ", 6)==0 ){
      if( !run ) continue;
      for(int i = 0; i < MAX_CONN; i++){
        if( r->aConn[i].zName && strcmp(r->aConn[i].zName, z + 6)==0 ){
          if( sqlite3_close(r->aConn[i].db)!=SQLITE_OK ){
            failf(r, iLine, "close: the connection is busy", 0, 0, sqlite3_errmsg(r->aConn[i].db));
            sqlite3_close_v2(r->aConn[i].db);
          }
          sqlite3_free(r->aConn[i].zName);
          r->aConn[i].zName = 0;
          r->aConn[i].db = 0;
          if( r->iCur==i ) r->iCur = 0;
        }
      }
      continue;
    }

    if( strcmp(z, "process")==0 ){
      Buf child = {0, 0, 0};
      while( (z = nextLine(&p, &iLine))!=0 && strcmp(z, "end")!=0 ){
        bufStr(&child, z);
        bufStr(&child, "\n");
      }
      if( z==0 ){ fprintf(stderr, "%s:%d: process without end\n", r->zScript, iStart); return 2; }
      if( !run ){ r->nSkip++; free(child.z); continue; }
      char *zPath = sqlite3_mprintf("%s/child-%d.test", r->zDir, iStart);
      FILE *f = fopen(zPath, "wb");
      if( f==0 || fwrite(child.z, 1, child.n, f)!=child.n || fclose(f)!=0 ){
        fprintf(stderr, "mbsql: cannot write %s\n", zPath);
        return 2;
      }
      int st = runChild(r, zPath);
      if( st!=0 ){
        char *zWhat = sqlite3_mprintf("the child process exited with %d", st);
        failf(r, iStart, zWhat, 0, 0, 0);
        sqlite3_free(zWhat);
      }else{
        r->nPass++;
      }
      sqlite3_free(zPath);
      free(child.z);
      continue;
    }

    fprintf(stderr, "%s:%d: unknown line \"%s\"\n", r->zScript, iLine, z);
    return 2;
  }
  return 0;
}

/* mkdir -p */
static void makeDirs(const char *zDir){
  char *z = sqlite3_mprintf("%s", zDir);
  for(char *p = z + 1; ; p++){
    if( *p=='/' || *p=='\\' || *p==0 ){
      char c = *p;
      *p = 0;
#if defined(_WIN32)
      _mkdir(z);
#else
      mkdir(z, 0777);
#endif
      if( c==0 ) break;
      *p = c;
    }
  }
  sqlite3_free(z);
}

/* Empty the scratch folder (its files; scripts make no subfolders), so
** each run starts from nothing: no journal or file of an earlier run. */
static void emptyDir(const char *zDir){
#if defined(_WIN32)
  WIN32_FIND_DATAA fd;
  char *zPat = sqlite3_mprintf("%s/*", zDir);
  HANDLE h = FindFirstFileA(zPat, &fd);
  sqlite3_free(zPat);
  if( h==INVALID_HANDLE_VALUE ) return;
  do{
    if( !(fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ){
      char *z = sqlite3_mprintf("%s/%s", zDir, fd.cFileName);
      DeleteFileA(z);
      sqlite3_free(z);
    }
  }while( FindNextFileA(h, &fd) );
  FindClose(h);
#else
  DIR *d = opendir(zDir);
  struct dirent *e;
  if( d==0 ) return;
  while( (e = readdir(d))!=0 ){
    if( strcmp(e->d_name, ".")==0 || strcmp(e->d_name, "..")==0 ) continue;
    char *z = sqlite3_mprintf("%s/%s", zDir, e->d_name);
    unlink(z);
    sqlite3_free(z);
  }
  closedir(d);
#endif
}

static char *readAll(const char *zPath){
  Buf b = {0, 0, 0};
  if( !readFileBuf(zPath, &b) ) return 0;
  if( b.z==0 ) bufStr(&b, "");
  return b.z;
}

int main(int argc, char **argv){
  Runner r;
  memset(&r, 0, sizeof r);
  long nExpectFail = -1;
  int i;
  for(i = 1; i < argc && argv[i][0]=='-'; i += 2){
    if( i + 1 >= argc ) break;
    if( strcmp(argv[i], "--module")==0 ) r.zModule = argv[i+1];
    else if( strcmp(argv[i], "--dir")==0 ) r.zDir = argv[i+1];
    else if( strcmp(argv[i], "--expect-failures")==0 ) nExpectFail = atol(argv[i+1]);
    else if( strcmp(argv[i], "--child")==0 ) r.isChild = 1;
    else break;
  }
  if( r.zModule==0 || r.zDir==0 || i >= argc ){
    fprintf(stderr, "usage: mbsql --module PATH --dir SCRATCH [--expect-failures N] SCRIPT...\n");
    return 2;
  }
#if defined(_WIN32)
  static char zSelf[MAX_PATH];
  GetModuleFileNameA(0, zSelf, sizeof zSelf);
  r.zSelf = zSelf;
#else
  r.zSelf = argv[0];
#endif
  makeDirs(r.zDir);
  int status = 0;
  for(; i < argc; i++){
    char *zText = readAll(argv[i]);
    if( !r.isChild ) emptyDir(r.zDir);
    if( zText==0 ){ fprintf(stderr, "mbsql: cannot read %s\n", argv[i]); return 2; }
    r.zScript = argv[i];
    r.iCur = 0;
    r.aConn[0].db = openConn(&r, "main", ":memory:", 0);
    if( r.aConn[0].db==0 ){ free(zText); return 2; }
    r.aConn[0].zName = sqlite3_mprintf("main");
    int nFail0 = r.nFail, nPass0 = r.nPass, nSkip0 = r.nSkip;
    int rc = runScript(&r, zText);
    for(int k = 0; k < MAX_CONN; k++){
      if( r.aConn[k].zName ){
        sqlite3_close_v2(r.aConn[k].db);
        sqlite3_free(r.aConn[k].zName);
        r.aConn[k].zName = 0;
        r.aConn[k].db = 0;
      }
    }
    free(zText);
    printf("%s: %d passed, %d failed, %d skipped on %s-%s (SQLite %s)\n", argv[i],
           r.nPass - nPass0, r.nFail - nFail0, r.nSkip - nSkip0, MBSQL_OS, MBSQL_ARCH,
           sqlite3_libversion());
    if( rc ) status = rc;
  }
  if( status==2 ) return 2;
  if( nExpectFail >= 0 ){
    if( r.nFail==nExpectFail ){
      printf("selftest: the %ld wrong expectations were all caught\n", nExpectFail);
      return 0;
    }
    printf("selftest: FAILED: %d failures, expected exactly %ld\n", r.nFail, nExpectFail);
    return 1;
  }
  return (status || r.nFail) ? 1 : 0;
}
