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

/* Does z contain zName, in any case of ASCII letters? */
static int mbContainsNoCase(const char *z, const char *zName){
  size_t n = strlen(zName);
  for(; *z; z++){
    if( sqlite3_strnicmp(z, zName, (int)n)==0 ) return 1;
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
    if( zSql && mbContainsNoCase(zSql, zName) ) return 1;
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

int mb_sql_creating(sqlite3 *db){
  sqlite3_stmt *p = 0;
  while( (p = sqlite3_next_stmt(db, p))!=0 ){
    const char *z;
    if( !sqlite3_stmt_busy(p) || (z = sqlite3_sql(p))==0 ) continue;
    for(;;){   /* space and comments before the first keyword */
      while( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' || *z=='\f' ) z++;
      if( z[0]=='-' && z[1]=='-' ){
        while( *z && *z!='\n' ) z++;
      }else if( z[0]=='/' && z[1]=='*' ){
        const char *e = strstr(z+2, "*/");
        z = e ? e+2 : z+strlen(z);
      }else{
        break;
      }
    }
    if( sqlite3_strnicmp(z, "create", 6)==0 ) return 1;
  }
  return 0;
}

typedef struct MbOwn MbOwn;
struct MbOwn {
  MbOwn *pNext;
  char *zSchema;
  char *zTable;
};
struct MbTrust {
  MbOwn *pOwn;     /* tables this connection created (xCreate) */
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
    sqlite3_free(o->zSchema);
    sqlite3_free(o->zTable);
    sqlite3_free(o);
  }
  sqlite3_free(p);
}

static MbOwn **mbTrustFind(MbTrust *p, const char *zSchema, const char *zTable){
  MbOwn **pp;
  for(pp=&p->pOwn; *pp; pp=&(*pp)->pNext){
    if( sqlite3_stricmp((*pp)->zSchema, zSchema)==0
     && sqlite3_stricmp((*pp)->zTable, zTable)==0 ) return pp;
  }
  return pp;
}

void mb_trust_forget(MbTrust *p, const char *zSchema, const char *zTable){
  MbOwn **pp, *o;
  if( p==0 || zSchema==0 || zTable==0 ) return;
  pp = mbTrustFind(p, zSchema, zTable);
  if( (o = *pp)!=0 ){
    *pp = o->pNext;
    sqlite3_free(o->zSchema);
    sqlite3_free(o->zTable);
    sqlite3_free(o);
  }
}

static int mbTrustRemember(MbTrust *p, const char *zSchema, const char *zTable){
  MbOwn *o;
  if( *mbTrustFind(p, zSchema, zTable) ) return SQLITE_OK;
  o = (MbOwn*)sqlite3_malloc(sizeof(*o));
  if( o==0 ) return SQLITE_NOMEM;
  o->zSchema = sqlite3_mprintf("%s", zSchema);
  o->zTable = sqlite3_mprintf("%s", zTable);
  if( o->zSchema==0 || o->zTable==0 ){
    sqlite3_free(o->zSchema);
    sqlite3_free(o->zTable);
    sqlite3_free(o);
    return SQLITE_NOMEM;
  }
  o->pNext = p->pOwn;
  p->pOwn = o;
  return SQLITE_OK;
}

int mb_sql_table_allowed(MbTrust *pTrust, sqlite3 *db, int bCreate,
                         const char *zWho, int argc, const char *const *argv,
                         const char *zFile, char **pzErr){
  const char *zSchema = argc>1 ? argv[1] : "main";
  const char *zTable = argc>2 ? argv[2] : "?";
  int bTrusted = 1;
  char why[1600];
  /* The eponymous table (the module's own name, no arguments) is the
  ** table-valued function: the statement's own SQL, not a schema's. */
  if( argc==3 && strcmp(argv[0], argv[2])==0 ) return SQLITE_OK;
  if( bCreate ){
    return pTrust ? mbTrustRemember(pTrust, zSchema, zTable) : SQLITE_OK;
  }
  if( sqlite3_stricmp(zSchema, "temp")==0 ) return SQLITE_OK;
  if( pTrust && *mbTrustFind(pTrust, zSchema, zTable) ) return SQLITE_OK;

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
