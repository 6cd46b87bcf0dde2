/*
** mb_vfs_functions.c -- choosing the membase VFS from SQL and from the
** environment, for applications that cannot change their open calls.
**
** membase_vfs_default([NAME])
**   With NAME, makes the VFS of that name the process's default, for every
**   connection opened afterwards (in any thread): 'membase',
**   'membase-process', or any registered VFS such as 'unix' to switch back.
**   Returns the name of the default VFS (after the change). DIRECTONLY: it
**   changes how the whole process opens files, so SQLite refuses it in
**   views, triggers and DEFAULT values, and it acts only when the running
**   statement's own SQL names it (mb_sqlsafe.h: SQLite 3.40 would run it
**   in a CHECK constraint of a database file). Errors:
**     membase_vfs_default: no VFS named "xyz"
**     membase_vfs_default: NAME must be text
**     unsafe use of membase_vfs_default(): called by a schema object (such
**       as a CHECK constraint), not by the statement's own SQL
**
** MEMBASE_DEFAULT_VFS (environment, read when the module is loaded)
**   unset, empty or 0     leave the default VFS alone
**   1, membase, shared    make "membase" the default
**   process, membase-process
**                         make "membase-process" the default
**   Anything else fails the load with
**     membase: MEMBASE_DEFAULT_VFS="xyz": expected 0, 1,
**     membase, shared, process or membase-process
**
** MEMBASE_WAL_MAP (environment, read when the VFSes are registered)
**   0 reads WAL files through the platform VFS instead of a mapping; 1 or
**   unset maps them. Anything else fails the load with
**     membase: MEMBASE_WAL_MAP="xyz": expected 0 or 1
**
** A bad membase URI value (file:a.db?vfs=membase&membase_advice=fast) makes
** sqlite3_open() fail with "automatic extension loading failed: membase:
** membase_advice="fast": expected ...": the VFS keeps the
** error (it cannot report one from xOpen) and mb_vfs_check_open(), run by
** MemBase's automatic extension on every new connection, reports it.
*/
#include <stdlib.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_functions.h"
#include "mb_sqlsafe.h"
#include "../vfs/mb_vfs.h"

static void mbVfsDefaultFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  if( !mb_sql_called_directly(ctx, "membase_vfs_default") ) return;
  sqlite3_vfs *p;
  if( argc==1 ){
    const char *zName;
    int rc;
    if( sqlite3_value_type(argv[0])!=SQLITE_TEXT ){
      sqlite3_result_error(ctx, "membase_vfs_default: NAME must be text", -1);
      return;
    }
    zName = (const char*)sqlite3_value_text(argv[0]);
    if( zName==0 ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
    rc = mb_vfs_register(0);
    p = sqlite3_vfs_find(zName);
    if( rc!=SQLITE_OK || p==0 ){
      char *z = sqlite3_mprintf("membase_vfs_default: no VFS named \"%s\"", zName);
      sqlite3_result_error(ctx, z ? z : "membase_vfs_default: no such VFS", -1);
      sqlite3_free(z);
      return;
    }
    rc = sqlite3_vfs_register(p, 1);
    if( rc!=SQLITE_OK ){
      sqlite3_result_error_code(ctx, rc);
      return;
    }
  }
  p = sqlite3_vfs_find(0);
  sqlite3_result_text(ctx, p ? p->zName : "", -1, SQLITE_TRANSIENT);
}

int mb_vfs_functions_register(sqlite3 *db){
  int rc = sqlite3_create_function(db, "membase_vfs_default", 0,
      SQLITE_UTF8|SQLITE_DIRECTONLY, 0, mbVfsDefaultFunc, 0, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function(db, "membase_vfs_default", 1,
        SQLITE_UTF8|SQLITE_DIRECTONLY, 0, mbVfsDefaultFunc, 0, 0);
  }
  return rc;
}

int mb_vfs_register_from_env(char **pzErr){
  const char *z = getenv("MEMBASE_DEFAULT_VFS");
  int mode = 0;
  if( mb_vfs_check_env(pzErr)!=SQLITE_OK ) return SQLITE_ERROR;
  if( z==0 || z[0]==0 || strcmp(z, "0")==0 ){
    mode = 0;
  }else if( strcmp(z, "1")==0 || sqlite3_stricmp(z, "membase")==0
         || sqlite3_stricmp(z, "shared")==0 ){
    mode = 1;
  }else if( sqlite3_stricmp(z, "process")==0
         || sqlite3_stricmp(z, "membase-process")==0 ){
    mode = 2;
  }else{
    *pzErr = sqlite3_mprintf("membase: MEMBASE_DEFAULT_VFS=\"%s\": expected 0, "
                             "1, membase, shared, process or membase-process", z);
    return SQLITE_ERROR;
  }
  return mb_vfs_register(mode);
}

int mb_vfs_check_open(sqlite3 *db, char **pzErr){
  const char *z = 0;
  if( mb_vfs_open_error(db, "main", &z)!=SQLITE_OK && z ){
    *pzErr = sqlite3_mprintf("%s", z);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}
