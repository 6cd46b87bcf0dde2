/*
** mb_sqlite.c -- the boundary between the core and SQLite: codes,
** messages, virtual-table errors and the option toolkit (mb_sqlite.h has
** the contract).
*/
#include <stdarg.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_sqlite.h"

/* ---------------------------------------------------------------- codes */

int mb_sqlite_rc(int mrc, int rcIo){
  if( mrc==MB_OK ) return SQLITE_OK;
  if( mrc==MB_ENOMEM && mb_last_oserror()==0 ) return SQLITE_NOMEM;
  if( rcIo==SQLITE_CANTOPEN ) return SQLITE_CANTOPEN;
  switch( mrc ){
    case MB_EBUSY:     return SQLITE_BUSY;
    case MB_EREADONLY: return SQLITE_READONLY;
    case MB_EFAULT:
    case MB_ERANGE:
      return rcIo==SQLITE_IOERR_READ ? SQLITE_IOERR_SHORT_READ : rcIo;
    case MB_EOVERFLOW: return rcIo==SQLITE_IOERR_WRITE ? SQLITE_FULL : rcIo;
    default:           return rcIo;
  }
}

char *mb_sqlite_errmsg(const char *zWho, const char *zVerb,
                       const char *zPath, int mrc){
  int iOs = mb_last_oserror();
  if( mrc==MB_EIO && iOs!=0 ){
    return sqlite3_mprintf("%s: cannot %s \"%s\": %s (OS error %d)",
                           zWho, zVerb, zPath, mb_strerror(mrc), iOs);
  }
  return sqlite3_mprintf("%s: cannot %s \"%s\": %s",
                         zWho, zVerb, zPath, mb_strerror(mrc));
}

int mb_vtab_error(sqlite3_vtab *pVtab, int rc, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  sqlite3_free(pVtab->zErrMsg);
  pVtab->zErrMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  return rc;
}

int mb_vtab_error_move(sqlite3_vtab *pVtab, int rc, char **pzErr){
  if( pzErr && pVtab->zErrMsg ){
    sqlite3_free(*pzErr);
    *pzErr = pVtab->zErrMsg;
    pVtab->zErrMsg = 0;
  }
  return rc;
}

void mb_result_errorf(sqlite3_context *ctx, const char *zFmt, ...){
  va_list ap;
  char *zMsg;
  va_start(ap, zFmt);
  zMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( zMsg==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, zMsg, -1);
    sqlite3_free(zMsg);
  }
}

void mb_result_core_error(sqlite3_context *ctx, const char *zWho,
                          const char *zVerb, const char *zPath, int mrc){
  char *zMsg;
  if( mb_sqlite_rc(mrc, SQLITE_IOERR)==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  zMsg = mb_sqlite_errmsg(zWho, zVerb, zPath, mrc);
  if( zMsg==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, zMsg, -1);
    sqlite3_free(zMsg);
  }
}

/* -------------------------------------------------------------- options */

static int mbOptSpace(char c){
  return c==' ' || c=='\t' || c=='\n' || c=='\r';
}

/* A copy of z[0..n) without one level of '...', "..." or `...` quoting
** (a doubled quote inside stands for one); NULL when out of memory. */
static char *mbOptDequote(const char *z, int n, int bBackquote){
  char q = n>=2 ? z[0] : 0;
  char *zOut;
  int i, j;
  if( (q=='\'' || q=='"' || (bBackquote && q=='`')) && z[n-1]==q ){
    zOut = sqlite3_malloc64((sqlite3_uint64)n);
    if( zOut==0 ) return 0;
    for(i=1, j=0; i<n-1; i++){
      zOut[j++] = z[i];
      if( z[i]==q && i+1<n-1 && z[i+1]==q ) i++;
    }
    zOut[j] = 0;
    return zOut;
  }
  return sqlite3_mprintf("%.*s", n, z);
}

/* Trim space from both ends of z[0..*pn): returns the new start. */
static const char *mbOptTrim(const char *z, int *pn){
  int n = *pn;
  while( n>0 && mbOptSpace(z[0]) ){ z++; n--; }
  while( n>0 && mbOptSpace(z[n-1]) ) n--;
  *pn = n;
  return z;
}

int mb_opt_split(const char *zWho, const char *zArg, int nArg, int bBare,
                 char **pzKey, char **pzVal, char **pzErr){
  const char *zKey, *zVal, *zEq;
  int nKey, nVal;
  if( nArg<0 ) nArg = (int)strlen(zArg);
  *pzKey = *pzVal = 0;
  zEq = memchr(zArg, '=', (size_t)nArg);
  if( zEq==0 ){
    zKey = mbOptTrim(zArg, &nArg);
    if( !bBare ){
      *pzErr = sqlite3_mprintf("%s: expected option=value, found \"%.*s\"",
                               zWho, nArg, zKey);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    *pzKey = mbOptDequote(zKey, nArg, 1);
    return *pzKey ? SQLITE_OK : SQLITE_NOMEM;
  }
  nKey = (int)(zEq - zArg);
  zKey = mbOptTrim(zArg, &nKey);
  nVal = (int)(zArg + nArg - (zEq+1));
  zVal = mbOptTrim(zEq+1, &nVal);
  *pzKey = mbOptDequote(zKey, nKey, 1);
  *pzVal = mbOptDequote(zVal, nVal, 1);
  if( *pzKey==0 || *pzVal==0 ){
    sqlite3_free(*pzKey);
    sqlite3_free(*pzVal);
    *pzKey = *pzVal = 0;
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

int mb_opt_bad(const char *zWho, const char *zKey, const char *zVal,
               const char *zExpect, char **pzErr){
  *pzErr = sqlite3_mprintf("%s: %s=\"%s\": expected %s",
                           zWho, zKey, zVal, zExpect);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

int mb_opt_bool(const char *zWho, const char *zKey, const char *zVal,
                int *pb, char **pzErr){
  static const char *const azOn[]  = { "1", "on", "true", "yes" };
  static const char *const azOff[] = { "0", "off", "false", "no" };
  int i;
  for(i=0; i<4; i++){
    if( sqlite3_stricmp(zVal, azOn[i])==0 ){ *pb = 1; return SQLITE_OK; }
    if( sqlite3_stricmp(zVal, azOff[i])==0 ){ *pb = 0; return SQLITE_OK; }
  }
  return mb_opt_bad(zWho, zKey, zVal, "0 or 1", pzErr);
}

int mb_opt_u64(const char *zWho, const char *zKey, const char *zVal,
               uint64_t *pv, char **pzErr){
  uint64_t v = 0;
  const char *s = zVal;
  if( *s==0 ) goto bad;
  for(; *s; s++){
    if( *s<'0' || *s>'9' ) goto bad;
    if( v > (UINT64_MAX - (uint64_t)(*s-'0'))/10 ){
      return mb_opt_bad(zWho, zKey, zVal, "a whole number below 2^64",
                        pzErr);
    }
    v = v*10 + (uint64_t)(*s-'0');
  }
  *pv = v;
  return SQLITE_OK;
bad:
  return mb_opt_bad(zWho, zKey, zVal, "a non-negative whole number", pzErr);
}

int mb_opt_size(const char *zWho, const char *zKey, const char *zVal,
                int64_t *pv, char **pzErr){
  static const char zExpect[] =
      "a number of bytes, optionally with K, M, G or T";
  const char *p = zVal;
  const uint64_t mx = (uint64_t)INT64_MAX;
  uint64_t v = 0;
  int shift = 0;
  if( *p=='+' ) p++;
  if( *p<'0' || *p>'9' ) return mb_opt_bad(zWho, zKey, zVal, zExpect, pzErr);
  for(; *p>='0' && *p<='9'; p++){
    if( v > (mx - (uint64_t)(*p-'0'))/10 ) goto too_large;
    v = v*10 + (uint64_t)(*p-'0');
  }
  if( *p ){
    switch( *p ){
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      case 't': case 'T': shift = 40; break;
      default: return mb_opt_bad(zWho, zKey, zVal, zExpect, pzErr);
    }
    if( !(p[1]==0 || ((p[1]=='b' || p[1]=='B') && p[2]==0)
          || ((p[1]=='i' || p[1]=='I') && (p[2]=='b' || p[2]=='B')
              && p[3]==0)) ){
      return mb_opt_bad(zWho, zKey, zVal, zExpect, pzErr);
    }
    if( v > (mx >> shift) ) goto too_large;
    v <<= shift;
  }
  *pv = (int64_t)v;
  return SQLITE_OK;
too_large:
  return mb_opt_bad(zWho, zKey, zVal, "a number of bytes below 2^63", pzErr);
}

int mb_opt_enum(const char *zWho, const char *zKey, const char *zVal,
                const char *const *az, int n, int *pi, char **pzErr){
  sqlite3_str *pList;
  char *zList;
  int i, rc;
  for(i=0; i<n; i++){
    if( sqlite3_stricmp(zVal, az[i])==0 ){ *pi = i; return SQLITE_OK; }
  }
  pList = sqlite3_str_new(0);
  for(i=0; i<n; i++){
    sqlite3_str_appendf(pList, "%s%s", i==0 ? "" : i==n-1 ? " or " : ", ",
                        az[i]);
  }
  zList = sqlite3_str_finish(pList);
  if( zList==0 ) return SQLITE_NOMEM;
  rc = mb_opt_bad(zWho, zKey, zVal, zList, pzErr);
  sqlite3_free(zList);
  return rc;
}

int mb_opt_once(const char *zWho, const char *zKey, unsigned *pSeen,
                int iOpt, char **pzErr){
  if( *pSeen & (1u<<iOpt) ){
    *pzErr = sqlite3_mprintf("%s: option \"%s\" given twice", zWho, zKey);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  *pSeen |= 1u<<iOpt;
  return SQLITE_OK;
}

int mb_opt_dropbehind(const char *zWho, const char *zKey, const char *zVal,
                      int *pv, char **pzErr){
  mb_dropbehind d;
  if( mb_dropbehind_parse(zVal, &d)!=MB_OK ){
    return mb_opt_bad(zWho, zKey, zVal, "auto, on or off", pzErr);
  }
  *pv = (int)d;
  return SQLITE_OK;
}
