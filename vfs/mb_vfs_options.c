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

static const char *const azAdvice[] = { "auto", "normal", "random", "sequential" };
static const char *const azLocking[] = { "shared", "process" };

const char *mb_vfs_advice_name(int advice){
  return (advice>=0 && advice<4) ? azAdvice[advice] : "?";
}

const char *mb_vfs_locking_name(int locking){
  return (locking>=0 && locking<2) ? azLocking[locking] : "?";
}

static int mbBad(char **pzErr, const char *zWhat, const char *z, const char *zExpect){
  *pzErr = sqlite3_mprintf("membase: unknown %s value \"%s\" (expected %s)",
                           zWhat, z, zExpect);
  return SQLITE_ERROR;
}

int mb_vfs_parse_advice(const char *zWhat, const char *z, int *pOut, char **pzErr){
  for(int i=0; i<4; i++){
    if( sqlite3_stricmp(z, azAdvice[i])==0 ){ *pOut = i; return SQLITE_OK; }
  }
  return mbBad(pzErr, zWhat, z, "auto, normal, random or sequential");
}

int mb_vfs_parse_locking(const char *zWhat, const char *z, int *pOut, char **pzErr){
  for(int i=0; i<2; i++){
    if( sqlite3_stricmp(z, azLocking[i])==0 ){ *pOut = i; return SQLITE_OK; }
  }
  return mbBad(pzErr, zWhat, z, "shared or process");
}

int mb_vfs_parse_dropbehind(const char *zWhat, const char *z, int *pOut, char **pzErr){
  mb_dropbehind p;
  if( mb_dropbehind_parse(z, &p)!=MB_OK ) return mbBad(pzErr, zWhat, z, "auto, on or off");
  *pOut = (int)p;
  return SQLITE_OK;
}

int mb_vfs_parse_bool(const char *zWhat, const char *z, int *pOut, char **pzErr){
  static const char *const azOn[]  = { "1", "on", "true", "yes" };
  static const char *const azOff[] = { "0", "off", "false", "no" };
  for(int i=0; i<4; i++){
    if( sqlite3_stricmp(z, azOn[i])==0 ){ *pOut = 1; return SQLITE_OK; }
    if( sqlite3_stricmp(z, azOff[i])==0 ){ *pOut = 0; return SQLITE_OK; }
  }
  return mbBad(pzErr, zWhat, z, "0 or 1");
}

int mb_vfs_parse_size(const char *zWhat, const char *z, sqlite3_int64 *pOut, char **pzErr){
  const char *p = z;
  sqlite3_uint64 v = 0;
  const sqlite3_uint64 mx = (sqlite3_uint64)0x7fffffffffffffffLL;
  if( *p=='-' ){
    *pzErr = sqlite3_mprintf("membase: %s must not be negative: \"%s\"", zWhat, z);
    return SQLITE_ERROR;
  }
  if( *p=='+' ) p++;
  if( *p<'0' || *p>'9' ){
    return mbBad(pzErr, zWhat, z, "a number of bytes, optionally with K, M, G or T");
  }
  for(; *p>='0' && *p<='9'; p++){
    if( v > (mx - (sqlite3_uint64)(*p-'0'))/10 ) goto overflow;
    v = v*10 + (sqlite3_uint64)(*p-'0');
  }
  if( *p ){
    int shift;
    switch( *p ){
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      case 't': case 'T': shift = 40; break;
      default:
        return mbBad(pzErr, zWhat, z, "a number of bytes, optionally with K, M, G or T");
    }
    if( p[1] && !((p[1]=='B' || p[1]=='b') && p[2]==0) && !((p[1]=='i' || p[1]=='I')
         && (p[2]=='B' || p[2]=='b') && p[3]==0) ){
      return mbBad(pzErr, zWhat, z, "a number of bytes, optionally with K, M, G or T");
    }
    if( v > (mx >> shift) ) goto overflow;
    v <<= shift;
  }
  *pOut = (sqlite3_int64)v;
  return SQLITE_OK;
overflow:
  *pzErr = sqlite3_mprintf("membase: %s is too large: \"%s\"", zWhat, z);
  return SQLITE_ERROR;
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
    static const char *const azKnown[] = { "membase_advice", "membase_populate",
      "membase_hugepages", "membase_reserve", "membase_locking", "membase_dropbehind" };
    for(int i=0; ; i++){
      const char *zKey = sqlite3_uri_key(zName, i);
      if( zKey==0 ) break;
      if( sqlite3_strnicmp(zKey, "membase_", 8)==0 ){
        int known = 0;
        for(int k=0; k<6; k++) if( strcmp(zKey, azKnown[k])==0 ) known = 1;
        if( !known ){
          *pzErr = sqlite3_mprintf("membase: unknown URI parameter \"%s\"", zKey);
          rc = SQLITE_ERROR;
          break;
        }
      }
    }
  }
  return rc;
}
