/*
** mb_policy_functions.c -- the process's file policy from SQL (contract:
** docs/SECURITY.md). One policy per process; it only narrows.
**
**   SELECT membase_allowed_directories();
**       the policy: 'unrestricted', 'no file access', or the allowed
**       directories, resolved, joined by ':' (';' on Windows).
**   SELECT membase_allowed_directories('/data', '/var/log/app');
**       narrow the policy to these directories (and what lies below
**       them); returns the new policy. Each must exist and lie inside a
**       directory already allowed; otherwise nothing changes.
**   SELECT membase_external_access();
**       1 while MemBase may open files by name, 0 once it may not.
**   SELECT membase_external_access(0);
**       no file access from now until the process ends; returns 0.
**       membase_external_access(1) is accepted while access is on and
**       changes nothing.
**
** MEMBASE_ALLOWED_DIRS=/data:/var/log/app in the environment sets the
** policy when MemBase is first loaded or registered in the process.
**
** Both functions are DIRECTONLY and follow the own-SQL rule (mb_sqlsafe.h):
** a database file's schema cannot call them. Errors:
**   membase_allowed_directories: "/logs" (resolves to "/logs") is outside the allowed directories /data (set by MEMBASE_ALLOWED_DIRS): the policy can only narrow
**   membase_allowed_directories: "/nope": cannot resolve: no such file
**   membase_allowed_directories: DIR must be TEXT (a file path), not BLOB
**   membase_external_access: file access was turned off by membase_external_access(0) and cannot be turned on again in this process
**   membase_external_access: expected 0 or 1, got "yes"
*/
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_policy_functions.h"
#include "mb_sqlite.h"
#include "mb_sqlsafe.h"

#define MB_ALLOWED "membase_allowed_directories"
#define MB_ACCESS  "membase_external_access"

static void mbResultPolicy(sqlite3_context *ctx){
  size_t n = mb_policy_describe(0, 0);
  char *z = sqlite3_malloc64(n + 1);
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  mb_policy_describe(z, n + 1);
  sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

static void mbAllowedDirsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char **az;
  char why[1600];
  int i, mrc;
  if( !mb_sql_called_directly(ctx, MB_ALLOWED) ) return;
  if( argc==0 ){
    mbResultPolicy(ctx);
    return;
  }
  az = sqlite3_malloc64(sizeof(*az) * (size_t)argc);
  if( az==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  for(i=0; i<argc; i++){
    int bNull;
    az[i] = mb_sql_path_arg(ctx, argv[i], MB_ALLOWED, "DIR", &bNull);
    if( az[i]==0 ){
      if( bNull ) mb_result_errorf(ctx, "%s: DIR is NULL", MB_ALLOWED);
      sqlite3_free(az);
      return;
    }
  }
  mrc = mb_policy_allow(az, (size_t)argc, MB_ALLOWED, why, sizeof why);
  sqlite3_free(az);
  if( mrc==MB_ENOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( mrc!=MB_OK ){
    mb_result_errorf(ctx, "%s: %s", MB_ALLOWED, why);
  }else{
    mbResultPolicy(ctx);
  }
}

static void mbExternalAccessFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  if( !mb_sql_called_directly(ctx, MB_ACCESS) ) return;
  if( argc==1 ){
    sqlite3_int64 v = sqlite3_value_int64(argv[0]);
    int eType = sqlite3_value_numeric_type(argv[0]);
    if( eType!=SQLITE_INTEGER || (v!=0 && v!=1) ){
      const char *z = (const char*)sqlite3_value_text(argv[0]);
      mb_result_errorf(ctx, "%s: expected 0 or 1, got \"%s\"", MB_ACCESS,
                       z ? z : "NULL");
      return;
    }
    if( v==0 ){
      mb_policy_deny_all(MB_ACCESS "(0)");
    }else if( mb_policy_state()==MB_POLICY_NONE ){
      char buf[256];
      mb_policy_source(buf, sizeof buf);
      mb_result_errorf(ctx, "%s: file access was turned off by %s and cannot "
                       "be turned on again in this process", MB_ACCESS, buf);
      return;
    }
  }
  sqlite3_result_int(ctx, mb_policy_state()!=MB_POLICY_NONE);
}

int mb_policy_functions_register(sqlite3 *db){
  const int f = SQLITE_UTF8 | SQLITE_DIRECTONLY;
  int rc = sqlite3_create_function(db, MB_ALLOWED, -1, f, 0, mbAllowedDirsFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, MB_ACCESS, 0, f, 0, mbExternalAccessFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, MB_ACCESS, 1, f, 0, mbExternalAccessFunc, 0, 0);
  return rc;
}

int mb_policy_from_environment(char **pzErr){
  char why[1600];
  int mrc = mb_policy_from_env("MEMBASE_ALLOWED_DIRS", why, sizeof why);
  if( mrc==MB_OK ) return SQLITE_OK;
  if( pzErr ){
    *pzErr = sqlite3_mprintf("membase: %s; MemBase opens no file by name in "
                             "this process", why);
  }
  return SQLITE_ERROR;
}
