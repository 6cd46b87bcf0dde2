/*
** fuzz_options.c -- libFuzzer target for the membase VFS settings
** (vfs/mb_vfs_options.c): URI parameters and PRAGMA values.
**
** Input: line 1 is a URI query string ("membase_advice=random&x=1"); the
** following lines are PRAGMAs, "name=value" or "name" alone.
**
** Three ways in, from the most direct to the whole path:
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
** The database is a per-process scratch file, emptied on every input.
*/
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
    if( *zLine ){
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
  return 0;
}
