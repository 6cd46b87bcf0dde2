/*
** mb_sqlsafe.c -- what SQL may make MemBase open or change (mb_sqlsafe.h,
** docs/SECURITY.md).
**
** Why the own-SQL rule exists: SQLite refuses DIRECTONLY functions in
** views, triggers and DEFAULT values, and refuses every non-deterministic
** function in generated columns, index expressions and partial-index
** WHERE clauses. But SQLite 3.40 runs DIRECTONLY functions in CHECK
** constraints, whatever trusted_schema says, so a database file could
** switch the process's default VFS, or probe files with membase_map, on
** any INSERT. There is no API that tells a function who called it; what a
** function can see is the connection's running statements and their SQL.
** A schema object's call comes from inside a statement that does not name
** the function (the application's INSERT), so naming is the test.
*/
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_sqlite.h"
#include "mb_sqlsafe.h"

/* ------------------------------------------------------------- paths */

int mb_sql_path(sqlite3_value *v, const char *zWho, const char *zArg,
                const char **pz, char **pzErr){
  int eType = sqlite3_value_type(v);
  const char *z;
  int n;
  *pz = 0;
  if( eType==SQLITE_NULL ) return SQLITE_OK;
  if( eType!=SQLITE_TEXT ){
    static const char *const azType[] = { "", "INTEGER", "REAL", "TEXT", "BLOB" };
    *pzErr = sqlite3_mprintf("%s: %s must be TEXT (a file path), not %s", zWho,
                             zArg, azType[eType>=1 && eType<=4 ? eType : 0]);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  z = (const char*)sqlite3_value_text(v);
  if( z==0 ) return SQLITE_NOMEM;
  n = sqlite3_value_bytes(v);
  if( (int)strlen(z)!=n ){
    *pzErr = sqlite3_mprintf("%s: %s contains a NUL byte at offset %d: \"%s\"",
                             zWho, zArg, (int)strlen(z), z);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  *pz = z;
  return SQLITE_OK;
}

const char *mb_sql_path_arg(sqlite3_context *ctx, sqlite3_value *v,
                            const char *zWho, const char *zArg, int *pbNull){
  const char *z = 0;
  char *zErr = 0;
  int rc = mb_sql_path(v, zWho, zArg, &z, &zErr);
  *pbNull = 0;
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
    return 0;
  }
  if( rc ){
    sqlite3_result_error(ctx, zErr, -1);
    sqlite3_free(zErr);
    return 0;
  }
  if( z==0 ) *pbNull = 1;
  return z;
}

/* ---------------------------------------------------- the own-SQL rule */

/* Skip space and comments from z. */
static const char *mbSkipSpace(const char *z){
  for(;;){
    while( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' || *z=='\f' || *z=='\v' ) z++;
    if( z[0]=='-' && z[1]=='-' ){
      while( *z && *z!='\n' ) z++;
    }else if( z[0]=='/' && z[1]=='*' ){
      const char *e = strstr(z+2, "*/");
      z = e ? e+2 : z+strlen(z);
    }else{
      return z;
    }
  }
}

static int mbIdChar(char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')
      || c=='_' || c=='$' || (unsigned char)c>=0x80;
}

/* z just past "AS": does "[NOT] MATERIALIZED" or nothing, then "(" follow,
** as after a CTE's name? (A call's alias, "f() AS v", has a name there.) */
static int mbIsCteBody(const char *z){
  z = mbSkipSpace(z);
  if( sqlite3_strnicmp(z, "not", 3)==0 && !mbIdChar(z[3]) ) z = mbSkipSpace(z+3);
  if( sqlite3_strnicmp(z, "materialized", 12)==0 && !mbIdChar(z[12]) ){
    z = mbSkipSpace(z+12);
  }
  return *z=='(';
}

/* z at "(": is it "(columns) AS (" of a common table expression (the name
** before it is a CTE's, as in WITH a(x) AS (...), b(y) AS (...))? */
static int mbIsCteName(const char *z){
  int depth = 0;
  for(; *z; z++){
    char c = *z;
    if( c=='\'' || c=='"' || c=='`' ){
      for(z++; *z && *z!=c; z++){}
      if( *z==0 ) return 0;
    }else if( c=='(' ){
      depth++;
    }else if( c==')' ){
      if( --depth==0 ){
        z = mbSkipSpace(z+1);
        return sqlite3_strnicmp(z, "as", 2)==0 && !mbIdChar(z[2]) && mbIsCteBody(z+2);
      }
    }
  }
  return 0;
}

/* Does the SQL text z call function zName: the bare name as a token (not
** inside a string literal, a quoted identifier or a comment) followed by
** "(", and not after "." (schema.table) or a keyword that names a table,
** index or view there (INTO, TABLE, UPDATE, ON, FROM, JOIN, ...)? */
static int mbCallsFunction(const char *z, const char *zName){
  int n = (int)strlen(zName);
  char zPrev[16] = "";      /* the token before, lower case, "" if other */
  while( *(z = mbSkipSpace(z)) ){
    char c = *z;
    if( c=='\'' || c=='"' || c=='`' || c=='[' ){
      char q = c=='[' ? ']' : c;
      for(z++; *z; z++){
        if( *z==q ){
          if( q!=']' && z[1]==q ){ z++; continue; }   /* doubled quote */
          z++;
          break;
        }
      }
      zPrev[0] = 0;
      continue;
    }
    if( (c=='@' || c==':' || c=='$' || c=='#' || c=='?') && mbIdChar(z[1]) ){
      /* a parameter (@name, :name, $name, #name, ?NNN): one token */
      for(z++; mbIdChar(*z); z++){}
      zPrev[0] = 0;
      continue;
    }
    if( mbIdChar(c) ){
      const char *s0 = z;
      int k;
      while( mbIdChar(*z) ) z++;
      k = (int)(z - s0);
      if( k==n && sqlite3_strnicmp(s0, zName, n)==0 && *mbSkipSpace(z)=='(' ){
        static const char *const azNot[] = { ".", "into", "table", "update",
            "on", "from", "join", "exists", "view", "index", "trigger",
            "references", "as", "using", "with", "recursive" };
        size_t i;
        int bNot = 0;
        for(i=0; i<sizeof(azNot)/sizeof(azNot[0]); i++){
          if( strcmp(zPrev, azNot[i])==0 ) bNot = 1;
        }
        if( !bNot && !mbIsCteName(mbSkipSpace(z)) ) return 1;
      }
      if( k<(int)sizeof(zPrev) ){
        int j;
        for(j=0; j<k; j++){
          char ch = s0[j];
          zPrev[j] = (ch>='A' && ch<='Z') ? (char)(ch-'A'+'a') : ch;
        }
        zPrev[k] = 0;
      }else{
        zPrev[0] = 0;
      }
      continue;
    }
    zPrev[0] = c=='.' ? '.' : 0;
    zPrev[1] = 0;
    z++;
  }
  return 0;
}

int mb_sql_called_directly(sqlite3_context *ctx, const char *zName){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  sqlite3_stmt *p = 0;
  char *zErr;
  /* The caller holds the connection's mutex (it runs inside a step), as
  ** sqlite3_next_stmt() requires. */
  while( (p = sqlite3_next_stmt(db, p))!=0 ){
    const char *zSql;
    if( !sqlite3_stmt_busy(p) ) continue;
    zSql = sqlite3_sql(p);
    if( zSql && mbCallsFunction(zSql, zName) ) return 1;
  }
  zErr = sqlite3_mprintf("unsafe use of %s(): called by a schema object (such "
                         "as a CHECK constraint), not by the statement's own "
                         "SQL", zName);
  if( zErr ){
    sqlite3_result_error(ctx, zErr, -1);
    sqlite3_free(zErr);
  }else{
    sqlite3_result_error_nomem(ctx);
  }
  return 0;
}

/* ------------------------------------------------- schema-borne tables */

/* Who a table is: the database file that declares it, its name, and its
** declaration (module and arguments: argv[0], argv[3..]), joined by a byte
** no SQL text holds. A table of the same name in another file (an ATTACH of
** another file under the same schema name) is another table; so is one of
** the same name declared otherwise (what it opens is its declaration).
** sqlite3_malloc'd. */
static char *mbDeclaration(sqlite3 *db, int argc, const char *const *argv){
  sqlite3_str *p = sqlite3_str_new(0);
  const char *zDbFile = argc>1 ? sqlite3_db_filename(db, argv[1]) : 0;
  int i;
  sqlite3_str_appendall(p, zDbFile ? zDbFile : "");
  sqlite3_str_appendchar(p, 1, '\x01');
  if( argc>2 ) sqlite3_str_appendall(p, argv[2]);
  sqlite3_str_appendchar(p, 1, '\x01');
  sqlite3_str_appendall(p, argc>0 ? argv[0] : "");
  for(i=3; i<argc; i++){
    sqlite3_str_appendchar(p, 1, '\x01');
    sqlite3_str_appendall(p, argv[i]);
  }
  return sqlite3_str_finish(p);
}

/* Is a VACUUM (or VACUUM INTO) running on db? */
static int mbVacuumRunning(sqlite3 *db){
  sqlite3_stmt *p = 0;
  while( (p = sqlite3_next_stmt(db, p))!=0 ){
    const char *z;
    if( !sqlite3_stmt_busy(p) || (z = sqlite3_sql(p))==0 ) continue;
    z = mbSkipSpace(z);
    if( sqlite3_strnicmp(z, "vacuum", 6)==0 && !mbIdChar(z[6]) ) return 1;
  }
  return 0;
}

int mb_sql_creating(sqlite3 *db, int argc, const char *const *argv){
  sqlite3_stmt *p = 0;
  while( (p = sqlite3_next_stmt(db, p))!=0 ){
    const char *z, *zUsing;
    int i, bAll = 1;
    if( !sqlite3_stmt_busy(p) || (z = sqlite3_sql(p))==0 ) continue;
    z = mbSkipSpace(z);
    if( sqlite3_strnicmp(z, "create", 6)!=0 ) continue;
    /* CREATE VIRTUAL TABLE ... name ... USING module(args): the statement
    ** that creates this very table (an xConnect during any other CREATE,
    ** such as CREATE TABLE AS SELECT from the table, does not count) */
    z = mbSkipSpace(z+6);
    if( sqlite3_strnicmp(z, "virtual", 7)!=0 ) continue;
    zUsing = 0;
    for(i=0; z[i]; i++){
      if( sqlite3_strnicmp(z+i, "using", 5)==0 ){ zUsing = z+i; break; }
    }
    if( zUsing==0 || argc<3 ) continue;
    if( !mbCallsFunction(zUsing+5, argv[0]) ) continue;   /* module( */
    for(i=3; i<argc && bAll; i++){
      if( strstr(zUsing, argv[i])==0 ) bAll = 0;
    }
    if( bAll ) return 1;
  }
  return 0;
}

typedef struct MbOwn MbOwn;
struct MbOwn {
  MbOwn *pNext;
  char *zDecl;      /* mbDeclaration() of a table this connection created */
};
struct MbTrust {
  MbOwn *pOwn;
};

MbTrust *mb_trust_new(void){
  MbTrust *p = (MbTrust*)sqlite3_malloc(sizeof(*p));
  if( p ) p->pOwn = 0;
  return p;
}

void mb_trust_free(void *pArg){
  MbTrust *p = (MbTrust*)pArg;
  if( p==0 ) return;
  while( p->pOwn ){
    MbOwn *o = p->pOwn;
    p->pOwn = o->pNext;
    sqlite3_free(o->zDecl);
    sqlite3_free(o);
  }
  sqlite3_free(p);
}

static int mbTrustHas(MbTrust *p, const char *zDecl){
  MbOwn *o;
  for(o=p->pOwn; o; o=o->pNext){
    if( strcmp(o->zDecl, zDecl)==0 ) return 1;
  }
  return 0;
}

int mb_sql_table_allowed(MbTrust *pTrust, sqlite3 *db, int bCreate,
                         const char *zWho, int argc, const char *const *argv,
                         const char *zFile, char **pzErr){
  const char *zSchema = argc>1 ? argv[1] : "main";
  const char *zTable = argc>2 ? argv[2] : "?";
  int bTrusted = 1, bOwn;
  char why[1600];
  char *zDecl;
  /* The eponymous table (the module's own name, no arguments) is the
  ** table-valued function: the statement's own SQL, not a schema's. */
  if( argc==3 && strcmp(argv[0], argv[2])==0 ) return SQLITE_OK;
  if( bCreate && mbVacuumRunning(db) ){
    /* VACUUM runs the CREATE statements of sqlite_schema rows that have a
    ** root page; a real virtual table has none, so this is a crafted row
    ** of the database file, and the xCreate is not the application's. */
    *pzErr = sqlite3_mprintf("%s: table \"%s\": VACUUM would create it from a "
        "row of the database file's schema (a virtual table has no root page; "
        "the row was crafted): refused", zWho, zTable);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  zDecl = mbDeclaration(db, argc, argv);
  if( zDecl==0 ) return SQLITE_NOMEM;
  if( bCreate ){
    int rc = SQLITE_OK;
    if( pTrust && !mbTrustHas(pTrust, zDecl) ){
      MbOwn *o = (MbOwn*)sqlite3_malloc(sizeof(*o));
      if( o==0 ){
        rc = SQLITE_NOMEM;
      }else{
        o->zDecl = zDecl;
        zDecl = 0;
        o->pNext = pTrust->pOwn;
        pTrust->pOwn = o;
      }
    }
    sqlite3_free(zDecl);
    return rc;
  }
  bOwn = pTrust && mbTrustHas(pTrust, zDecl);
  sqlite3_free(zDecl);
  if( bOwn || sqlite3_stricmp(zSchema, "temp")==0 ) return SQLITE_OK;

  /* Declared by a database file's schema. */
  if( sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, -1, &bTrusted)
      !=SQLITE_OK ){
    bTrusted = 0;   /* cannot tell: do not trust */
  }
  if( !bTrusted ){
    *pzErr = sqlite3_mprintf("%s: table \"%s\" in schema \"%s\" comes from the "
        "database file, and this connection does not trust its schema (PRAGMA "
        "trusted_schema is OFF): it could name any file. If the database is "
        "yours, run PRAGMA trusted_schema=ON; otherwise create the table "
        "yourself in TEMP", zWho, zTable, zSchema);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  if( zFile && mb_policy_check_path(zFile, why, sizeof why)==MB_EPOLICY ){
    *pzErr = sqlite3_mprintf("%s: table \"%s\" in schema \"%s\" comes from the "
        "database file and names a file the file policy refuses: %s. To allow "
        "it, start the process with its directory in MEMBASE_ALLOWED_DIRS (the "
        "policy cannot widen once set)", zWho, zTable, zSchema, why);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  return SQLITE_OK;
}
