/*
** mb_vfs_options.c -- parsing of the membase VFS settings.
**
** URI parameters (file:app.db?vfs=membase&membase_advice=random):
**   membase_advice     auto | normal | random | sequential   (default auto)
**   membase_populate   0 | 1 (also off/on, false/true, no/yes) (default 0)
**   membase_hugepages  0 | 1                                 (default 0)
**   membase_reserve    bytes of address space to reserve for growth, a
**                      whole number with an optional K, M, G or T suffix
**                      (powers of 1024); 0 = the core's default
**   membase_locking    shared | process  (default: shared for VFS
**                      "membase", process for "membase-process")
**   membase_dropbehind auto | on | off: release the pages a sequential
**                      scan of the database has passed (default: the
**                      process default, itself auto)
**
** A value outside these sets is an error that names the parameter and the
** value; parameters of other names are left to SQLite.
*/
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_options.h"
#include "mb_map.h"
#include "../ext/mb_sqlite.h"

static const char *const azAdvice[] = { "auto", "normal", "random", "sequential" };
static const char *const azLocking[] = { "shared", "process" };

const char *mb_vfs_advice_name(int advice){
  return (advice>=0 && advice<4) ? azAdvice[advice] : "?";
}

const char *mb_vfs_locking_name(int locking){
  return (locking>=0 && locking<2) ? azLocking[locking] : "?";
}

/* The values, read with the option toolkit of ext/mb_sqlite.h: one message
** form, "membase: KEY="VALUE": expected ...", for URI parameters, PRAGMAs
** and the other readers of options. */
int mb_vfs_parse_advice(const char *zWhat, const char *z, int *pOut, char **pzErr){
  return mb_opt_enum("membase", zWhat, z, azAdvice, 4, pOut, pzErr);
}

int mb_vfs_parse_locking(const char *zWhat, const char *z, int *pOut, char **pzErr){
  return mb_opt_enum("membase", zWhat, z, azLocking, 2, pOut, pzErr);
}

int mb_vfs_parse_dropbehind(const char *zWhat, const char *z, int *pOut, char **pzErr){
  return mb_opt_dropbehind("membase", zWhat, z, pOut, pzErr);
}

int mb_vfs_parse_bool(const char *zWhat, const char *z, int *pOut, char **pzErr){
  return mb_opt_bool("membase", zWhat, z, pOut, pzErr);
}

int mb_vfs_parse_size(const char *zWhat, const char *z, sqlite3_int64 *pOut, char **pzErr){
  int64_t v = 0;
  int rc = mb_opt_size("membase", zWhat, z, &v, pzErr);
  if( rc==SQLITE_OK ) *pOut = (sqlite3_int64)v;
  return rc;
}

int mb_vfs_options_from_uri(const char *zName, mb_vfs_options *o, char **pzErr){
  const char *z;
  int rc = SQLITE_OK;
  *pzErr = 0;
  if( zName==0 ) return SQLITE_OK;
  if( (z = sqlite3_uri_parameter(zName, "membase_advice"))!=0 ){
    rc = mb_vfs_parse_advice("membase_advice", z, &o->advice, pzErr);
  }
  if( rc==SQLITE_OK && (z = sqlite3_uri_parameter(zName, "membase_populate"))!=0 ){
    rc = mb_vfs_parse_bool("membase_populate", z, &o->populate, pzErr);
  }
  if( rc==SQLITE_OK && (z = sqlite3_uri_parameter(zName, "membase_hugepages"))!=0 ){
    rc = mb_vfs_parse_bool("membase_hugepages", z, &o->hugepages, pzErr);
  }
  if( rc==SQLITE_OK && (z = sqlite3_uri_parameter(zName, "membase_reserve"))!=0 ){
    rc = mb_vfs_parse_size("membase_reserve", z, &o->reserve, pzErr);
  }
  if( rc==SQLITE_OK && (z = sqlite3_uri_parameter(zName, "membase_locking"))!=0 ){
    rc = mb_vfs_parse_locking("membase_locking", z, &o->locking, pzErr);
  }
  if( rc==SQLITE_OK && (z = sqlite3_uri_parameter(zName, "membase_dropbehind"))!=0 ){
    rc = mb_vfs_parse_dropbehind("membase_dropbehind", z, &o->dropbehind, pzErr);
  }
  if( rc==SQLITE_OK ){
    /* Catch a misspelt membase_ parameter: it would otherwise be ignored
    ** and the user would believe it took effect. */
    unsigned seen = 0;
    static const char *const azKnown[] = { "membase_advice", "membase_populate",
      "membase_hugepages", "membase_reserve", "membase_locking", "membase_dropbehind" };
    for(int i=0; ; i++){
      const char *zKey = sqlite3_uri_key(zName, i);
      if( zKey==0 ) break;
      if( sqlite3_strnicmp(zKey, "membase_", 8)==0 ){
        int k;
        for(k=0; k<6 && strcmp(zKey, azKnown[k])!=0; k++){}
        if( k==6 ){
          *pzErr = sqlite3_mprintf("membase: unknown URI parameter \"%s\"", zKey);
          rc = SQLITE_ERROR;
          break;
        }
        /* the one duplicate-key rule: SQLite would take the first */
        rc = mb_opt_once("membase", zKey, &seen, k, pzErr);
        if( rc ) break;
      }
    }
  }
  return rc;
}
