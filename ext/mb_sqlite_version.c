/*
** mb_sqlite_version.c -- the check of the running SQLite's version
** (mb_sqlite_version.h has the contract).
*/
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_sqlite_version.h"

static int mbRunningNumber(const char **pzText){
  *pzText = sqlite3_libversion();
  return sqlite3_libversion_number();
}

int mb_sqlite_version_check(char **pzErrMsg){
  const char *zRunning;
  if( mbRunningNumber(&zRunning) >= MB_SQLITE_MIN_NUMBER ) return SQLITE_OK;
  sqlite3_log(SQLITE_ERROR, "membase needs SQLite %s or newer; this is %s",
              MB_SQLITE_MIN_TEXT, zRunning);
  if( pzErrMsg ){
    *pzErrMsg = sqlite3_mprintf("membase needs SQLite %s or newer; this is %s",
                                MB_SQLITE_MIN_TEXT, zRunning);
  }
  return SQLITE_ERROR;
}
