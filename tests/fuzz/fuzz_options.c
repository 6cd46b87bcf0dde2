/*
** fuzz_options.c -- libFuzzer target for the membase VFS settings
** (vfs/mb_vfs_options.c): URI parameters and PRAGMA values.
**
** Input: line 1 is a URI query string ("membase_advice=random&x=1"); the
** following lines are PRAGMAs, "name=value" or "name" alone, except lines
** that start with '@', which drive the file policy (way 4):
**   @allow LIST   mb_policy_allow_list of LIST, split on ':' and each
**                 non-empty entry joined to the scratch tree's root
**                 ("a/b" -> "<root>/a/b"), or kept raw if it starts with
**                 '/'; empty entries stay (the list "::" turns access off)
**   @path P       P joined the same way: mb_policy_check_path and
**                 mb_registry_acquire_checked (read-only)
**   @create P     P joined the same way: mb_registry_acquire_checked with
**                 MB_MAP_WRITE|MB_MAP_CREATE, only for a P that names no
**                 file now and lies (by the model) inside the scratch tree
**   @deny         mb_policy_deny_all
**   @sql BYTES    BYTES (joined; NUL bytes kept) to the SQL functions
** in input order, at most 24 of them; @allow and @path stop at a NUL byte,
** @sql keeps every byte up to the newline. (Ways 1-3 stop at the input's
** first NUL byte; the '@' lines are read from the whole input.)
**
** Four ways in, from the most direct to the whole path:
**  1. The parsers themselves (mb_vfs_parse_advice/_bool/_size/_locking/
**     _dropbehind)
**     on every value, each checked against a small independent model of
**     what it accepts (a difference is an abort(): the manual in
**     mb_vfs_options.c is the specification).
**  2. mb_vfs_options_from_uri() on a file name built the way SQLite hands
**     it to xOpen (sqlite3_create_filename(): database name, then the
**     key/value pairs), so the keys and values arrive exactly as fuzzed,
**     without URI decoding. This is what vfs/mb_vfs.c's xOpen calls.
**  3. The real thing, for the code around the parser: sqlite3_open_v2()
**     of "file:<scratch>?vfs=membase&<line 1>" (SQLite decodes the URI,
**     mbOpen parses it, ext/membase.c's automatic extension turns a bad
**     value into an open error), then each PRAGMA twice: straight to the
**     file through SQLITE_FCNTL_PRAGMA with the fuzzed name and value (what
**     SQLite's PRAGMA code does for names it does not know, reaching
**     vfs/mb_vfs_file.c's mbPragma), and as SQL text
**     "PRAGMA main.membase_x = 'value'" for the listed names.
**  4. The process's file policy (core/mb_policy.c, core/mb_path_posix.c,
**     ext/mb_sqlsafe.c, ext/mb_policy_functions.c), when the input has '@'
**     lines. Once per process a scratch tree is made under the scratch
**     directory (mbf_path("pol")):
**         a/  a/b/  c/  a/f  a/b/g  c/h  a/hl (a hard link of c/h)
**         a/l1 -> ../c/h   a/l2 -> f   a/d -> ../c   a/dn -> ../c/new
**     Each input starts unrestricted (mb__policy_reset) and runs its '@'
**     lines against an independent model (realpath(3), stat(2), lstat(2) and
**     readlink(2) only):
**     - @allow: the result is the model's (MB_OK for an empty list, which
**       means no file access; MB_EINVAL if an entry is not an existing
**       directory; MB_EPOLICY when access is off or an entry lies outside
**       the directories allowed now: the policy only narrows; else MB_OK),
**       a refused call leaves mb_policy_describe unchanged, and describe
**       (also truncated to a small buffer), state and phrase match the
**       model afterwards.
**     - @path: mb_policy_check_path gives exactly the model's answer: the
**       realpath, or for a missing path the realpath of its longest
**       existing ancestor (file or directory) plus the rest ("." dropped,
**       ".." unresolvable, hence refused), a dangling symlink met on the
**       way (lstat, readlink) being followed to its target first, at most
**       40 times (modelResolve), must lie inside an allowed directory's
**       realpath component by component (or under a directory with an
**       allowed one's identity: another mount). Then
**       mb_registry_acquire_checked (skipped for anything but a file or
**       directory, and for files outside the scratch tree the policy would
**       let it open): never MB_OK when the check refused or access is off;
**       an MB_OK map's file (mb_map_file_identity) is the file the path's
**       realpath names, and under allowed directories has one link and a
**       realpath inside one of them; a file of the tree the policy allows
**       opens; a hard-linked one never does under allowed directories.
**     - @create: a file that comes to exist lies inside the policy (none
**       when access is off), whether the call succeeded or not; it is
**       removed again.
**     - every MB_EPOLICY (and MB_EINVAL of @allow) leaves a non-empty,
**       NUL-terminated why.
**     - @sql: with the policy narrowed to the tree's root, the bytes go as
**       TEXT of their full length and as a BLOB to membase_map(?1),
**       membase_lines(?1), membase_lines_index(?1) and
**       membase_allowed_directories(?1) on a ":memory:" connection. A BLOB,
**       or TEXT holding a NUL byte, is always an error whose message says
**       "NUL byte" or "must be TEXT", never a row; a row for plain TEXT
**       means a one-link file (a directory, for the last) inside the root.
**       A pin taken by membase_map is dropped again. @sql leaves the
**       policy unrestricted (as the model then assumes).
**     Every input ends with mb__policy_reset(): ways 1-3 run unrestricted.
** The database is a per-process scratch file, emptied on every input.
*/
#define _XOPEN_SOURCE 700   /* realpath, symlink, link, lstat */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "membase.h"
#include "mb_map.h"
#include "mb_vfs_options.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do{ if(!(x)){ \
  fprintf(stderr, "fuzz_options: check failed at line %d: %s\n", __LINE__, #x); \
  abort(); } }while(0)

#define MAX_PARAM 16
#define MAX_PRAGMA 8

/* ---------------------------------------------------------------- models */

static int modelIn(const char *z, const char *const *az, int n){
  for(int i=0; i<n; i++) if( sqlite3_stricmp(z, az[i])==0 ) return i;
  return -1;
}

/* What mb_vfs_parse_size accepts: [+]digits[K|M|G|T[B|iB]], at most
** 2^63-1 bytes; -1 if refused. */
static sqlite3_int64 modelSize(const char *z){
  const char *p = z;
  uint64_t v = 0;
  int shift = 0;
  if( *p=='+' ) p++;
  if( *p<'0' || *p>'9' ) return -1;
  for(; *p>='0' && *p<='9'; p++){
    unsigned d = (unsigned)(*p-'0');
    if( v>((uint64_t)INT64_MAX - d)/10 ) return -1;   /* v*10+d > 2^63-1 */
    v = v*10 + d;
  }
  if( *p ){
    switch( *p ){
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      case 't': case 'T': shift = 40; break;
      default: return -1;
    }
    p++;
    if( (*p=='i' || *p=='I') && (p[1]=='b' || p[1]=='B') ) p += 2;
    else if( *p=='b' || *p=='B' ) p++;
    if( *p ) return -1;
  }
  if( v>((uint64_t)INT64_MAX>>shift) ) return -1;
  return (sqlite3_int64)(v<<shift);
}

static void checkValue(const char *z){
  static const char *const azAdvice[] = { "auto", "normal", "random", "sequential" };
  static const char *const azLocking[] = { "shared", "process" };
  static const char *const azBool[] = { "0", "off", "false", "no", "1", "on", "true", "yes" };
  char *zErr = 0;
  int v = -7, rc, m;
  sqlite3_int64 x = -7, mx;

  rc = mb_vfs_parse_advice("membase_advice", z, &v, &zErr);
  m = modelIn(z, azAdvice, 4);
  CHECK( (rc==SQLITE_OK)==(m>=0) );
  if( rc==SQLITE_OK ) CHECK( v==m && zErr==0 ); else CHECK( zErr!=0 );
  sqlite3_free(zErr); zErr = 0;

  rc = mb_vfs_parse_locking("membase_locking", z, &v, &zErr);
  m = modelIn(z, azLocking, 2);
  CHECK( (rc==SQLITE_OK)==(m>=0) );
  if( rc==SQLITE_OK ) CHECK( v==m && zErr==0 ); else CHECK( zErr!=0 );
  sqlite3_free(zErr); zErr = 0;

  rc = mb_vfs_parse_bool("membase_populate", z, &v, &zErr);
  m = modelIn(z, azBool, 8);
  CHECK( (rc==SQLITE_OK)==(m>=0) );
  if( rc==SQLITE_OK ) CHECK( v==(m>=4) && zErr==0 ); else CHECK( zErr!=0 );
  sqlite3_free(zErr); zErr = 0;

  {
    static const char *const azDrop[] = { "auto", "on", "1", "true", "yes",
                                          "off", "0", "false", "no" };
    static const int aDrop[] = { MB_DROP_AUTO, MB_DROP_ON, MB_DROP_ON, MB_DROP_ON,
      MB_DROP_ON, MB_DROP_OFF, MB_DROP_OFF, MB_DROP_OFF, MB_DROP_OFF };
    rc = mb_vfs_parse_dropbehind("membase_dropbehind", z, &v, &zErr);
    m = modelIn(z, azDrop, 9);
    CHECK( (rc==SQLITE_OK)==(m>=0) );
    if( rc==SQLITE_OK ) CHECK( v==aDrop[m] && zErr==0 ); else CHECK( zErr!=0 );
    sqlite3_free(zErr); zErr = 0;
  }

  rc = mb_vfs_parse_size("membase_reserve", z, &x, &zErr);
  mx = modelSize(z);
  if( (rc==SQLITE_OK)!=(mx>=0) || (rc==SQLITE_OK && x!=mx) ){
    fprintf(stderr, "fuzz_options: parse_size(\"%s\") rc=%d value=%lld, "
            "model %lld\n", z, rc, (long long)x, (long long)mx);
    abort();
  }
  if( rc!=SQLITE_OK ) CHECK( zErr!=0 );
  sqlite3_free(zErr);

  (void)mb_vfs_advice_name(v);
  (void)mb_vfs_locking_name(v);
}

/* ------------------------------------------------------------- the input */

typedef struct Input {
  char *zQuery;                 /* line 1 */
  int nParam;
  char *azParam[2*MAX_PARAM];   /* key, value, ... (into aBuf) */
  int nPragma;
  char *azPragma[2*MAX_PRAGMA]; /* name, value or 0 */
  char *aBuf;                   /* the split copy */
} Input;

static void inputFree(Input *p){
  free(p->zQuery);
  free(p->aBuf);
}

/* Split into line 1 (also kept whole for the URI) and the PRAGMA lines.
** NUL bytes end the input (C strings from here on). */
static int inputSplit(const uint8_t *data, size_t size, Input *p){
  char *z, *zLine;
  size_t n = 0;
  memset(p, 0, sizeof(*p));
  while( n<size && data[n] ) n++;
  p->aBuf = malloc(n+1);
  if( p->aBuf==0 ) return 0;
  memcpy(p->aBuf, data, n);
  p->aBuf[n] = 0;
  z = strchr(p->aBuf, '\n');
  if( z ) *z++ = 0;
  p->zQuery = malloc(strlen(p->aBuf)+1);
  if( p->zQuery==0 ) return 0;
  strcpy(p->zQuery, p->aBuf);

  /* key=value pairs of line 1, split on '&', raw (no %-decoding) */
  for(char *k = p->aBuf; k && p->nParam<MAX_PARAM; ){
    char *amp = strchr(k, '&');
    char *eq;
    if( amp ) *amp = 0;
    if( *k ){
      eq = strchr(k, '=');
      if( eq ) *eq = 0;
      p->azParam[2*p->nParam] = k;
      p->azParam[2*p->nParam+1] = eq ? eq+1 : k+strlen(k);
      p->nParam++;
    }
    k = amp ? amp+1 : 0;
  }
  /* PRAGMA lines */
  for(zLine = z; zLine && p->nPragma<MAX_PRAGMA; ){
    char *nl = strchr(zLine, '\n');
    char *eq;
    if( nl ) *nl = 0;
    if( *zLine && *zLine!='@' ){     /* '@' lines: the file policy (4.) */
      eq = strchr(zLine, '=');
      if( eq ) *eq = 0;
      p->azPragma[2*p->nPragma] = zLine;
      p->azPragma[2*p->nPragma+1] = eq ? eq+1 : 0;
      p->nPragma++;
    }
    zLine = nl ? nl+1 : 0;
  }
  return 1;
}

/* ------------------------------------------------------------- the paths */

static void viaCreateFilename(const Input *in, const char *zDb){
  const char *az[2*MAX_PARAM];
  sqlite3_filename zName;
  mb_vfs_options o;
  char *zErr = 0;
  int rc;
  for(int i=0; i<2*in->nParam; i++) az[i] = in->azParam[i];
  zName = sqlite3_create_filename(zDb, "x.db-journal", "x.db-wal", in->nParam, az);
  if( zName==0 ) return;
  memset(&o, 0, sizeof(o));
  o.advice = MB_VFS_ADVICE_AUTO;
  o.locking = MB_VFS_LOCK_SHARED;
  o.dropbehind = -1;
  rc = mb_vfs_options_from_uri(zName, &o, &zErr);
  if( rc==SQLITE_OK ){
    CHECK( zErr==0 );
    CHECK( o.advice>=0 && o.advice<=3 );
    CHECK( o.populate==0 || o.populate==1 );
    CHECK( o.hugepages==0 || o.hugepages==1 );
    CHECK( o.reserve>=0 );
    CHECK( o.locking==0 || o.locking==1 );
    CHECK( o.dropbehind>=-1 && o.dropbehind<=MB_DROP_OFF );
  }else{
    CHECK( zErr!=0 && strncmp(zErr, "membase", 7)==0 );
  }
  sqlite3_free(zErr);
  sqlite3_free_filename(zName);
}

static int hexValue(char c){
  if( c>='0' && c<='9' ) return c-'0';
  if( c>='a' && c<='f' ) return c-'a'+10;
  if( c>='A' && c<='F' ) return c-'A'+10;
  return -1;
}

/* Does the URI query name SQLite's modeof= parameter (after %-decoding,
** as SQLite reads it)? SQLite 3.40 leaks 24 bytes when modeof= names a
** file it cannot stat (with the unix VFS alone: no MemBase involved), so
** such inputs stop before the open; regressions/options/sqlite-modeof-leak
** is one. */
static int namesModeof(const char *zQuery){
  size_t n = strlen(zQuery), k = 0;
  char *z = malloc(n+1);
  int bHit = 0;
  if( z==0 ) return 1;
  for(size_t i=0; i<n; i++){
    int h = i+2<n ? hexValue(zQuery[i+1]) : -1;
    int l = i+2<n ? hexValue(zQuery[i+2]) : -1;
    if( zQuery[i]=='%' && h>=0 && l>=0 ){
      z[k++] = (char)(h*16+l);
      i += 2;
    }else{
      z[k++] = zQuery[i];
    }
  }
  for(size_t i=0; i+6<=k && !bHit; i++) bHit = memcmp(z+i, "modeof", 6)==0;
  free(z);
  return bHit;
}

static void viaOpen(const Input *in, const char *zDb){
  static const char *const azName[] = { "membase_advice", "membase_populate",
    "membase_hugepages", "membase_reserve", "membase_locking", "membase_stats",
    "membase_dropbehind" };
  sqlite3 *db = 0;
  char *zUri;
  int rc;
  /* Line 1 goes after our own vfs= and path: SQLite takes the first vfs=,
  ** and no fuzzed text can name another file. */
  if( namesModeof(in->zQuery) ) return;
  zUri = sqlite3_mprintf("file:%s?vfs=membase&%s", zDb, in->zQuery);
  if( zUri==0 ) return;
  mbf_write(zDb, "", 0);
  rc = sqlite3_open_v2(zUri, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                       |SQLITE_OPEN_URI, 0);
  sqlite3_free(zUri);
  if( rc==SQLITE_OK ){
    for(int i=0; i<in->nPragma; i++){
      const char *zName = in->azPragma[2*i], *zVal = in->azPragma[2*i+1];
      char *azArg[3];
      char *zSql;
      azArg[0] = 0;
      azArg[1] = (char*)zName;
      azArg[2] = (char*)zVal;
      (void)sqlite3_file_control(db, "main", SQLITE_FCNTL_PRAGMA, azArg);
      sqlite3_free(azArg[0]);
      /* the same value through SQLite's PRAGMA statement, for a known name */
      zSql = zVal
        ? sqlite3_mprintf("PRAGMA main.%s=%Q", azName[(unsigned char)zName[0]%7], zVal)
        : sqlite3_mprintf("PRAGMA main.%s", azName[(unsigned char)zName[0]%7]);
      if( zSql ){
        (void)mbf_run(db, zSql, 0, 0, 10);
        sqlite3_free(zSql);
      }
    }
    (void)mbf_run(db, "SELECT count(*) FROM sqlite_schema", 0, 0, 10);
  }
  sqlite3_close_v2(db);
}

/* ------------------------------------------------------ 4. the file policy */

void mb__policy_reset(void);   /* core/mb_policy.c: unrestricted again (tests) */

#define MAX_POL_OP 24          /* '@' lines looked at per input */
#define MAX_ALLOW 64           /* entries of one @allow list */
#define POL_NWHY 1600          /* the callers' size (ext/, vtab/) */

enum { POL_ALLOW = 1, POL_PATH, POL_DENY, POL_SQL, POL_CREATE };

typedef struct PolOp {
  int eOp;
  const uint8_t *a;            /* the rest of the line, raw (NUL bytes kept) */
  size_t n;
} PolOp;

/* The model's policy: what the fuzz file believes, from realpath/stat. */
typedef struct PolModel {
  int state;                   /* MB_POLICY_* */
  int n;
  char *az[MAX_ALLOW];         /* allowed directories, realpath(3) */
  dev_t aDev[MAX_ALLOW];       /* and their identities, stat(2) */
  ino_t aIno[MAX_ALLOW];
} PolModel;

static char polRoot[512];      /* the scratch tree, as mbf_path names it */
static char *polRootReal;      /* realpath(3) of it */
static sqlite3 *polDb;         /* the connection of the SQL checks */
static char polWhy[POL_NWHY];

static void polModelClear(PolModel *m){
  for(int i=0; i<m->n; i++) free(m->az[i]);
  m->n = 0;
  m->state = MB_POLICY_OPEN;
}

static const char *const polAzFile[] = { "a/hl", "a/l1", "a/l2", "a/d",
  "a/dn", "c/new", "a/b/g", "a/f", "c/h" };
static const char *const polAzDir[] = { "a/b", "a", "c", "" };

static void polRel(char *zOut, size_t nOut, const char *zRel){
  snprintf(zOut, nOut, "%s%s%s", polRoot, zRel[0] ? "/" : "", zRel);
}

static void polCleanup(void){
  char z[600];
  for(size_t i=0; i<sizeof(polAzFile)/sizeof(polAzFile[0]); i++){
    polRel(z, sizeof(z), polAzFile[i]);
    unlink(z);
  }
  for(size_t i=0; i<sizeof(polAzDir)/sizeof(polAzDir[0]); i++){
    polRel(z, sizeof(z), polAzDir[i]);
    rmdir(z);
  }
}

/* Once per process: the scratch tree
**   a/  a/b/  c/  a/f  a/b/g  c/h
**   a/l1 -> ../c/h  (a file outside a)   a/l2 -> f  (inside)
**   a/d  -> ../c    (a directory outside a)
**   a/hl            (a hard link of c/h: two names)
**   a/dn -> ../c/new  (dangling: where a create through it would land)
** and a connection (":memory:") for the SQL checks. */
static void polSetup(void){
  static int done;
  char z[600], z2[600];
  if( done ) return;
  done = 1;
  snprintf(polRoot, sizeof(polRoot), "%s", mbf_path("pol"));
  polCleanup();                /* left by an earlier process of this pid */
  for(int i=3; i>=0; i--){
    polRel(z, sizeof(z), polAzDir[i]);
    if( mkdir(z, 0700)!=0 ){ perror(z); abort(); }
  }
  polRel(z, sizeof(z), "a/f");   mbf_write(z, "f1\nf2\n", 6);
  polRel(z, sizeof(z), "a/b/g"); mbf_write(z, "g1\ng2\ng3\n", 9);
  polRel(z, sizeof(z), "c/h");   mbf_write(z, "h1\n", 3);
  polRel(z, sizeof(z), "a/l1");  CHECK( symlink("../c/h", z)==0 );
  polRel(z, sizeof(z), "a/l2");  CHECK( symlink("f", z)==0 );
  polRel(z, sizeof(z), "a/d");   CHECK( symlink("../c", z)==0 );
  polRel(z, sizeof(z), "a/dn");  CHECK( symlink("../c/new", z)==0 );
  polRel(z, sizeof(z), "c/h");
  polRel(z2, sizeof(z2), "a/hl"); CHECK( link(z, z2)==0 );
  atexit(polCleanup);
  polRootReal = realpath(polRoot, 0);
  CHECK( polRootReal!=0 );
  CHECK( sqlite3_open_v2(":memory:", &polDb, SQLITE_OPEN_READWRITE
                         |SQLITE_OPEN_CREATE, 0)==SQLITE_OK );
}

/* The '@' lines of the input (line 1 is the URI query: never one). */
static int polParse(const uint8_t *data, size_t size, PolOp *a){
  static const struct { const char *z; int e; } aKind[] = {
    { "@allow ", POL_ALLOW }, { "@path ", POL_PATH }, { "@sql ", POL_SQL },
    { "@deny", POL_DENY }, { "@create ", POL_CREATE } };
  int nOp = 0;
  size_t i = 0;
  while( i<size && data[i]!='\n' ) i++;          /* line 1 */
  while( i<size && nOp<MAX_POL_OP ){
    size_t s = ++i, e;
    while( i<size && data[i]!='\n' ) i++;
    e = i;
    for(int k=0; k<5; k++){
      size_t l = strlen(aKind[k].z);
      if( e-s>=l && memcmp(data+s, aKind[k].z, l)==0 ){
        a[nOp].eOp = aKind[k].e;
        a[nOp].a = data+s+l;
        a[nOp].n = e-s-l;
        nOp++;
        break;
      }
    }
  }
  return nOp;
}

/* What a fuzzed name stands for: itself if it starts with '/' (a raw
** absolute string), else the scratch root + "/" + it. n bytes (NUL bytes
** kept); malloc'd, NUL-terminated, length in *pn. */
static char *polJoin(const uint8_t *a, size_t n, size_t *pn){
  size_t nRoot = (n>0 && a[0]=='/') ? 0 : strlen(polRoot)+1;
  char *z = malloc(nRoot+n+1);
  if( z==0 ) abort();
  if( nRoot ){
    memcpy(z, polRoot, nRoot-1);
    z[nRoot-1] = '/';
  }
  if( n ) memcpy(z+nRoot, a, n);
  z[nRoot+n] = 0;
  if( pn ) *pn = nRoot+n;
  return z;
}

/* The line as a C string (cut at its first NUL byte), joined. */
static char *polJoinC(const PolOp *op){
  const uint8_t *nul = memchr(op->a, 0, op->n);
  return polJoin(op->a, nul ? (size_t)(nul-op->a) : op->n, 0);
}

/* Is the canonical name r inside directory d, comparing whole components? */
static int modelUnder(const char *r, const char *d){
  size_t n = strlen(d);
  if( strncmp(r, d, n)!=0 ) return 0;
  return r[n]==0 || r[n]=='/' || (n>0 && d[n-1]=='/');
}

/* By name: r lies in an allowed directory's realpath. */
static int modelInsideText(const PolModel *m, const char *r){
  for(int i=0; i<m->n; i++) if( modelUnder(r, m->az[i]) ) return 1;
  return 0;
}

/* Inside the model's policy: by name, or (another mount of an allowed
** directory) r or one of its ancestors is a directory with the identity
** of an allowed one. */
static int modelInside(const PolModel *m, const char *r){
  char *b;
  size_t end;
  int found = 0;
  if( modelInsideText(m, r) ) return 1;
  b = malloc(strlen(r)+2);
  if( b==0 ) abort();
  strcpy(b, r);
  end = strlen(b);
  while( !found && end>0 ){
    struct stat st;
    b[end] = 0;
    if( stat(b, &st)==0 && S_ISDIR(st.st_mode) ){
      for(int i=0; i<m->n && !found; i++){
        found = st.st_dev==m->aDev[i] && st.st_ino==m->aIno[i];
      }
    }
    if( end==1 ) break;                          /* "/" done */
    while( end>0 && b[end-1]!='/' ) end--;       /* just past the '/' */
    if( end>1 ) end--;                           /* keep the root's '/' */
  }
  free(b);
  return found;
}

/* A path as its components (empty ones dropped: "a//b/" is a, b), each
** malloc'd; the model's names are always absolute. */
typedef struct ModelComps {
  int n;
  char *az[1024];
} ModelComps;

static void modelCompsClear(ModelComps *c){
  for(int i=0; i<c->n; i++) free(c->az[i]);
  c->n = 0;
}

/* Appends the components of z to c; 0 if there are too many. */
static int modelCompsAdd(ModelComps *c, const char *z){
  while( *z ){
    size_t l = strcspn(z, "/");
    if( l>0 ){
      if( c->n>=(int)(sizeof(c->az)/sizeof(c->az[0])) ) return 0;
      c->az[c->n] = malloc(l+1);
      if( c->az[c->n]==0 ) abort();
      memcpy(c->az[c->n], z, l);
      c->az[c->n][l] = 0;
      c->n++;
    }
    z += l;
    while( *z=='/' ) z++;
  }
  return 1;
}

/* "/c0/c1/.../c(n-1)" ("/" for none), malloc'd. */
static char *modelCompsName(const ModelComps *c, int n){
  size_t len = 2;
  char *z;
  for(int i=0; i<n; i++) len += strlen(c->az[i])+1;
  z = malloc(len);
  if( z==0 ) abort();
  strcpy(z, "/");
  for(int i=0; i<n; i++){
    if( i ) strcat(z, "/");
    strcat(z, c->az[i]);
  }
  return z;
}

/* readlink(2) of z, malloc'd and terminated; 0 on failure. */
static char *modelReadlink(const char *z, size_t nHint){
  for(size_t cap = nHint+2; cap<=((size_t)1<<20); cap *= 2){
    char *t = malloc(cap);
    ssize_t n;
    if( t==0 ) abort();
    n = readlink(z, t, cap);
    if( n<0 ){ free(t); return 0; }
    if( (size_t)n<cap ){ t[n] = 0; return t; }
    free(t);
  }
  return 0;
}

#define MODEL_MAX_FOLLOW 40   /* dangling symlinks followed, in all */

/*
** The canonical name of the absolute path z, existing or not, as the
** policy's contract says (docs/SECURITY.md; core/mb_policy.c since
** 9bbe2b8): realpath(3) if z resolves. If it does not (ENOENT, ENOTDIR;
** any other error: unresolvable), z is taken as its components and the
** name they spell is tried, over and over:
**   - it resolves (a directory or not): that realpath, then every
**     component set aside, in order, "." dropped and ".." making the whole
**     unresolvable (the system cannot say where it would lead);
**   - it does not, and lstat(2) says it is a symlink (a dangling one): its
**     target, readlink(2), replaces it; a relative target is taken from
**     the link's directory. At most MODEL_MAX_FOLLOW such replacements in
**     all; after that a dangling link is a missing component like another;
**   - else its last component is set aside and its parent is tried.
** So a dangling link inside that points to a missing file outside
** resolves outside (where an O_CREAT through it would create the file),
** whatever separators surround it: "a/dn", "a/dn/", "a/dn//x" all go
** through the link. NULL when it cannot be resolved. malloc'd.
*/
static char *modelResolve(const char *z){
  static ModelComps t, aside;      /* the name tried; the set-aside (reversed) */
  char *r = realpath(z, 0), *out = 0;
  int nFollow = 0;
  size_t ln;
  if( r ) return r;
  if( errno!=ENOENT && errno!=ENOTDIR ) return 0;
  if( z[0]!='/' ) return 0;                      /* never: names are absolute */
  modelCompsClear(&t);
  modelCompsClear(&aside);
  if( !modelCompsAdd(&t, z) ) goto done;
  for(;;){
    struct stat st;
    char *zName = modelCompsName(&t, t.n), *zTarget;
    r = realpath(zName, 0);
    if( r || (errno!=ENOENT && errno!=ENOTDIR) || t.n==0 ){
      free(zName);
      break;
    }
    if( nFollow<MODEL_MAX_FOLLOW && lstat(zName, &st)==0 && S_ISLNK(st.st_mode)
     && (zTarget = modelReadlink(zName, (size_t)st.st_size))!=0 ){
      nFollow++;
      if( zTarget[0]=='/' ) modelCompsClear(&t);
      else{ t.n--; free(t.az[t.n]); }          /* from the link's directory */
      if( !modelCompsAdd(&t, zTarget) ){ free(zTarget); free(zName); goto done; }
      free(zTarget);
    }else{
      if( aside.n>=(int)(sizeof(aside.az)/sizeof(aside.az[0])) ){ free(zName); goto done; }
      aside.az[aside.n++] = t.az[--t.n];
    }
    free(zName);
  }
  if( r==0 ) goto done;
  ln = strlen(r);
  for(int i=0; i<aside.n; i++) ln += strlen(aside.az[i])+1;
  out = malloc(ln+1);
  if( out==0 ) abort();
  strcpy(out, r);
  free(r);
  ln = strlen(out);
  for(int i=aside.n-1; i>=0; i--){
    const char *c = aside.az[i];
    if( strcmp(c, ".")==0 ) continue;
    if( strcmp(c, "..")==0 ){ free(out); out = 0; break; }
    if( ln==0 || out[ln-1]!='/' ) out[ln++] = '/';
    strcpy(out+ln, c);
    ln += strlen(c);
  }
done:
  modelCompsClear(&t);
  modelCompsClear(&aside);
  return out;
}

/* why[] after a refusal: NUL-terminated inside the buffer, and says something. */
static void polWhyOk(const char *zWhat){
  if( memchr(polWhy, 0, sizeof(polWhy))==0 || polWhy[0]==0 ){
    fprintf(stderr, "fuzz_options: %s: why is %s\n", zWhat,
            polWhy[0] ? "not terminated" : "empty");
    abort();
  }
}

static void polWhyReset(void){
  memset(polWhy, 'x', sizeof(polWhy));
}

/* mb_policy_describe/_state/_phrase against the model; k picks a small
** buffer for the truncated form. */
static void polCheckDescribe(const PolModel *m, size_t k){
  char *zExp, *z, *zT;
  size_t nExp = 0, n, t;
  char aPhrase[48];
  CHECK( mb_policy_state()==m->state );
  if( m->state==MB_POLICY_OPEN ) zExp = strdup("unrestricted");
  else if( m->state==MB_POLICY_NONE ) zExp = strdup("no file access");
  else{
    for(int i=0; i<m->n; i++) nExp += strlen(m->az[i])+1;
    zExp = malloc(nExp+1);
    if( zExp==0 ) abort();
    zExp[0] = 0;
    for(int i=0; i<m->n; i++){
      if( i ) strcat(zExp, ":");
      strcat(zExp, m->az[i]);
    }
  }
  if( zExp==0 ) abort();
  n = mb_policy_describe(0, 0);
  z = malloc(n+1);
  if( z==0 ) abort();
  CHECK( mb_policy_describe(z, n+1)==n );
  if( strcmp(z, zExp)!=0 ){
    fprintf(stderr, "fuzz_options: mb_policy_describe gives \"%s\", model \"%s\"\n",
            z, zExp);
    abort();
  }
  /* truncated: a prefix, terminated, nothing written past the buffer */
  t = k % (n+2);
  zT = malloc(t+1);
  if( zT==0 ) abort();
  memset(zT, 'x', t+1);
  CHECK( mb_policy_describe(zT, t)==n );
  CHECK( zT[t]=='x' );
  if( t>0 ){
    size_t l;
    CHECK( memchr(zT, 0, t)!=0 );
    l = strlen(zT);
    CHECK( l==(n<t-1 ? n : t-1) );
    CHECK( memcmp(zT, zExp, l)==0 );
  }
  memset(aPhrase, 'x', sizeof(aPhrase));
  n = mb_policy_phrase(aPhrase, sizeof(aPhrase));
  CHECK( memchr(aPhrase, 0, sizeof(aPhrase))!=0 );
  CHECK( strlen(aPhrase)==(n<sizeof(aPhrase)-1 ? n : sizeof(aPhrase)-1) );
  free(zT);
  free(z);
  free(zExp);
}

/* @allow LIST: mb_policy_allow_list against the model, then describe. */
static void polAllow(PolModel *m, const PolOp *op, size_t k){
  const uint8_t *nul = memchr(op->a, 0, op->n);
  size_t nLine = nul ? (size_t)(nul-op->a) : op->n, nList = 0;
  char *azEntry[MAX_ALLOW], *azReal[MAX_ALLOW], *zList, *zBefore;
  dev_t aDev[MAX_ALLOW];
  ino_t aIno[MAX_ALLOW];
  int nEntry = 0, nReal = 0, eExp = 1, rc;   /* 1: not decided yet */
  size_t nBefore;

  /* the entries: split on ':', each joined (empty ones stay empty) */
  zList = malloc(nLine*(strlen(polRoot)+2) + 2);
  if( zList==0 ) abort();
  zList[0] = 0;
  for(size_t s=0; ; ){
    size_t e = s;
    while( e<nLine && op->a[e]!=':' ) e++;
    if( e>s ){
      char *zE;
      if( nEntry>=MAX_ALLOW ){
        for(int i=0; i<nEntry; i++) free(azEntry[i]);
        free(zList);
        return;
      }
      zE = azEntry[nEntry++] = polJoin(op->a+s, e-s, 0);
      memcpy(zList+nList, zE, strlen(zE));
      nList += strlen(zE);
    }
    if( e>=nLine ) break;
    zList[nList++] = ':';
    s = e+1;
  }
  zList[nList] = 0;

  /* the model */
  if( nEntry==0 ){
    eExp = MB_OK;
  }else{
    for(int i=0; i<nEntry && eExp==1; i++){
      struct stat st;
      char *r = realpath(azEntry[i], 0);
      if( r==0 || stat(r, &st)!=0 || !S_ISDIR(st.st_mode) ){
        free(r);
        eExp = MB_EINVAL;
      }else{
        azReal[nReal] = r;
        aDev[nReal] = st.st_dev;
        aIno[nReal] = st.st_ino;
        nReal++;
      }
    }
    if( eExp==1 ){
      if( m->state==MB_POLICY_NONE ) eExp = MB_EPOLICY;
      else if( m->state==MB_POLICY_DIRS ){
        for(int i=0; i<nReal && eExp==1; i++){
          if( !modelInside(m, azReal[i]) ) eExp = MB_EPOLICY;
        }
      }
      if( eExp==1 ) eExp = MB_OK;
    }
  }

  nBefore = mb_policy_describe(0, 0);
  zBefore = malloc(nBefore+1);
  if( zBefore==0 ) abort();
  mb_policy_describe(zBefore, nBefore+1);
  polWhyReset();
  rc = mb_policy_allow_list(zList, "fuzz", polWhy, sizeof(polWhy));
  if( rc!=eExp ){
    fprintf(stderr, "fuzz_options: mb_policy_allow_list(\"%s\") = %d, model %d "
            "(policy was \"%s\"; why: %.200s)\n", zList, rc, eExp, zBefore,
            rc!=MB_OK && memchr(polWhy, 0, sizeof(polWhy)) ? polWhy : "");
    abort();
  }
  if( rc!=MB_OK ){
    char *zAfter;
    polWhyOk("mb_policy_allow_list");
    /* nothing changed */
    CHECK( mb_policy_describe(0, 0)==nBefore );
    zAfter = malloc(nBefore+1);
    if( zAfter==0 ) abort();
    mb_policy_describe(zAfter, nBefore+1);
    CHECK( strcmp(zAfter, zBefore)==0 );
    free(zAfter);
    for(int i=0; i<nReal; i++) free(azReal[i]);
  }else if( nEntry==0 ){
    polModelClear(m);
    m->state = MB_POLICY_NONE;
  }else{
    polModelClear(m);
    m->state = MB_POLICY_DIRS;
    m->n = nReal;
    for(int i=0; i<nReal; i++){
      m->az[i] = azReal[i];
      m->aDev[i] = aDev[i];
      m->aIno[i] = aIno[i];
    }
  }
  polCheckDescribe(m, k);
  for(int i=0; i<nEntry; i++) free(azEntry[i]);
  free(zBefore);
  free(zList);
}

/* @path P: mb_policy_check_path and mb_registry_acquire_checked. */
static void polPath(const PolModel *m, const PolOp *op){
  char *z = polJoinC(op);
  char *r = modelResolve(z), *rr;
  struct stat st;
  int bStat = stat(z, &st)==0;
  int eExp, rc, rc2, bOpen;
  mb_map *pMap = 0;
  uint64_t dev = 0, ino = 0;

  if( m->state==MB_POLICY_OPEN ) eExp = MB_OK;
  else if( m->state==MB_POLICY_NONE ) eExp = MB_EPOLICY;
  else eExp = (r && modelInside(m, r)) ? MB_OK : MB_EPOLICY;
  polWhyReset();
  rc = mb_policy_check_path(z, polWhy, sizeof(polWhy));
  if( rc!=eExp ){
    fprintf(stderr, "fuzz_options: mb_policy_check_path(\"%s\") = %d, model %d "
            "(model resolves it to %s)\n", z, rc, eExp, r ? r : "(unresolvable)");
    abort();
  }
  if( rc!=MB_OK ) polWhyOk("mb_policy_check_path");

  /* The open. Never a file outside the scratch tree (the policy would let
  ** it be opened: a system file), nor anything but a file or directory. */
  bOpen = !(bStat && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
       && !(eExp==MB_OK && (r==0 || !modelUnder(r, polRootReal)));
  if( bOpen ){
    polWhyReset();
    rc2 = mb_registry_acquire_checked(z, 0, &pMap, polWhy, sizeof(polWhy));
    if( rc2==MB_EPOLICY ) polWhyOk("mb_registry_acquire_checked");
    if( rc==MB_EPOLICY ) CHECK( rc2==MB_EPOLICY );
    if( m->state==MB_POLICY_NONE ) CHECK( rc2==MB_EPOLICY );
    if( rc2==MB_OK ){
      struct stat st2;
      CHECK( pMap!=0 );
      CHECK( mb_map_file_identity(pMap, &dev, &ino)==MB_OK );
      rr = realpath(z, 0);
      CHECK( rr!=0 );
      CHECK( stat(rr, &st2)==0 && S_ISREG(st2.st_mode) );
      CHECK( (uint64_t)st2.st_dev==dev && (uint64_t)st2.st_ino==ino );
      if( m->state==MB_POLICY_DIRS ){
        if( st2.st_nlink!=1 || !modelInsideText(m, rr) ){
          fprintf(stderr, "fuzz_options: mb_registry_acquire_checked(\"%s\") "
                  "opened \"%s\" (%lu links) under the allowed directories\n",
                  z, rr, (unsigned long)st2.st_nlink);
          abort();
        }
      }
      free(rr);
      mb_registry_release(pMap);
    }else{
      CHECK( pMap==0 );
      /* a file the policy allows, in the scratch tree, opens */
      if( bStat && S_ISREG(st.st_mode) && eExp==MB_OK
       && (m->state==MB_POLICY_OPEN || st.st_nlink==1) ){
        fprintf(stderr, "fuzz_options: mb_registry_acquire_checked(\"%s\") = %d "
                "(%s), model MB_OK\n", z, rc2, rc2==MB_EPOLICY ? polWhy : "");
        abort();
      }
    }
    if( m->state==MB_POLICY_DIRS && bStat && S_ISREG(st.st_mode) && st.st_nlink>1 ){
      CHECK( rc2==MB_EPOLICY );
    }
    if( bStat && S_ISDIR(st.st_mode) ) CHECK( rc2!=MB_OK );
  }
  free(r);
  free(z);
}

/* @create P: mb_registry_acquire_checked with MB_MAP_WRITE|MB_MAP_CREATE,
** for a P that names no file now and that the model places inside the
** scratch tree (every symlink of the tree points inside it, so nothing is
** created elsewhere). A file that comes to exist must lie inside the
** policy: a path refused before the open must not leave one behind
** (docs/SECURITY.md: "nothing is opened"). The file is removed again. */
static void polCreate(const PolModel *m, const PolOp *op){
  char *z = polJoinC(op);
  char *r = modelResolve(z), *rr = 0;
  struct stat st;
  mb_map *pMap = 0;
  int rc;
  if( r==0 || !modelUnder(r, polRootReal) || stat(z, &st)==0 || errno!=ENOENT ){
    free(r);
    free(z);
    return;
  }
  polWhyReset();
  rc = mb_registry_acquire_checked(z, MB_MAP_WRITE|MB_MAP_CREATE, &pMap,
                                   polWhy, sizeof(polWhy));
  if( rc==MB_EPOLICY ) polWhyOk("mb_registry_acquire_checked(create)");
  if( rc==MB_OK ) mb_registry_release(pMap);
  else CHECK( pMap==0 );
  if( stat(z, &st)==0 ){
    rr = realpath(z, 0);
    CHECK( rr!=0 );
    if( m->state==MB_POLICY_NONE
     || (m->state==MB_POLICY_DIRS && !modelInsideText(m, rr)) ){
      fprintf(stderr, "fuzz_options: mb_registry_acquire_checked(\"%s\", "
              "CREATE) = %d created \"%s\", outside the policy (model resolves "
              "the path to \"%s\")\n", z, rc, rr, r);
      unlink(rr);
      abort();
    }
    unlink(rr);
  }
  free(rr);
  free(r);
  free(z);
}

/* The error of a path argument that is not TEXT without NUL. */
static int polPathError(const char *zMsg){
  return zMsg && (strstr(zMsg, "NUL byte") || strstr(zMsg, "must be TEXT"));
}

/* @sql BYTES: the bytes (joined, NUL bytes kept) as TEXT, and as a BLOB,
** to each path argument, under the policy "the scratch tree". */
static void polSql(const PolOp *op){
  static const char *const azSql[] = {
    "SELECT membase_map(?1)",
    "SELECT count(*) FROM membase_lines(?1)",
    "SELECT membase_lines_index(?1)",
    "SELECT membase_allowed_directories(?1)",
  };
  size_t nText;
  char *zText = polJoin(op->a, op->n, &nText);
  int bNul = memchr(zText, 0, nText)!=0;
  for(int iSql=0; iSql<4; iSql++){
    for(int bBlob=0; bBlob<2; bBlob++){
      sqlite3_stmt *pStmt = 0;
      int rc;
      mb__policy_reset();
      polWhyReset();
      CHECK( mb_policy_allow_list(polRoot, "fuzz", polWhy, sizeof(polWhy))==MB_OK );
      CHECK( sqlite3_prepare_v2(polDb, azSql[iSql], -1, &pStmt, 0)==SQLITE_OK );
      if( bBlob ){
        rc = sqlite3_bind_blob(pStmt, 1, op->n ? (const void*)op->a : (const void*)"",
                               (int)op->n, SQLITE_TRANSIENT);
      }else{
        rc = sqlite3_bind_text(pStmt, 1, zText, (int)nText, SQLITE_TRANSIENT);
      }
      CHECK( rc==SQLITE_OK );
      CHECK( sqlite3_column_count(pStmt)==1 );
      rc = sqlite3_step(pStmt);
      if( bBlob || bNul ){
        const char *zMsg = sqlite3_errmsg(polDb);
        if( rc==SQLITE_ROW || rc==SQLITE_DONE || !polPathError(zMsg) ){
          fprintf(stderr, "fuzz_options: %s with a %s of %d bytes%s: rc=%d \"%s\"\n",
                  azSql[iSql], bBlob ? "BLOB" : "TEXT", bBlob ? (int)op->n : (int)nText,
                  bNul ? " holding a NUL" : "", rc, zMsg ? zMsg : "");
          abort();
        }
      }else if( rc==SQLITE_ROW ){
        /* it opened (or allowed) what the policy allows: inside the tree */
        struct stat st;
        char *r = realpath(zText, 0);
        int bOk = r!=0 && modelUnder(r, polRootReal) && stat(r, &st)==0;
        if( bOk && iSql==3 ) bOk = S_ISDIR(st.st_mode);
        else if( bOk ) bOk = S_ISREG(st.st_mode) && st.st_nlink==1;
        if( !bOk ){
          fprintf(stderr, "fuzz_options: %s with \"%s\" gave a row under the "
                  "policy %s (resolves to %s)\n", azSql[iSql], zText, polRoot,
                  r ? r : "(nothing)");
          abort();
        }
        mbf_touch_row(pStmt);
        free(r);
      }
      sqlite3_finalize(pStmt);
      if( iSql==0 && !bBlob && !bNul && rc==SQLITE_ROW ){
        /* drop the connection's pin */
        CHECK( sqlite3_prepare_v2(polDb, "SELECT membase_unmap(?1)", -1, &pStmt, 0)==SQLITE_OK );
        sqlite3_bind_text(pStmt, 1, zText, (int)nText, SQLITE_TRANSIENT);
        CHECK( sqlite3_step(pStmt)==SQLITE_ROW && sqlite3_column_int(pStmt, 0)==1 );
        sqlite3_finalize(pStmt);
      }
    }
  }
  mb__policy_reset();
  free(zText);
}

static void viaPolicy(const uint8_t *data, size_t size){
  PolOp aOp[MAX_POL_OP];
  PolModel m;
  int nOp = polParse(data, size, aOp);
  if( nOp==0 ) return;
  polSetup();
  memset(&m, 0, sizeof(m));
  m.state = MB_POLICY_OPEN;
  mb__policy_reset();
  for(int i=0; i<nOp; i++){
    switch( aOp[i].eOp ){
      case POL_ALLOW: polAllow(&m, &aOp[i], aOp[i].n*7 + (size_t)i); break;
      case POL_PATH:  polPath(&m, &aOp[i]); break;
      case POL_CREATE: polCreate(&m, &aOp[i]); break;
      case POL_DENY:
        mb_policy_deny_all("fuzz");
        polModelClear(&m);
        m.state = MB_POLICY_NONE;
        polCheckDescribe(&m, (size_t)i);
        break;
      case POL_SQL:
        polSql(&aOp[i]);
        polModelClear(&m);      /* it leaves the policy unrestricted */
        polCheckDescribe(&m, (size_t)i);
        break;
    }
  }
  polModelClear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  Input in;
  const char *zDb;
  mbf_register();
  zDb = mbf_path("opt.db");
  if( !inputSplit(data, size, &in) ){
    inputFree(&in);
    return 0;
  }
  for(int i=0; i<in.nParam; i++) checkValue(in.azParam[2*i+1]);
  for(int i=0; i<in.nPragma; i++){
    if( in.azPragma[2*i+1] ) checkValue(in.azPragma[2*i+1]);
  }
  viaCreateFilename(&in, zDb);
  viaOpen(&in, zDb);
  inputFree(&in);
  viaPolicy(data, size);
  mb__policy_reset();           /* the rest of the target runs unrestricted */
  return 0;
}
