/*
** mb_codec.c -- the field codec of record files (mb_codec.h).
*/
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_layout.h"
#include "mb_codec.h"
#include "../ext/mb_sqlite.h"


/* The error for a value of SQL type t that column c does not take. */
static int mbEncodeMismatch(sqlite3_vtab *pVtab, const MbCol *c, int t){
  const char *zT = mb_type_name(c->eType);
  return mb_vtab_error(pVtab, SQLITE_MISMATCH, "membase: column \"%s\" (%s) "
                  "takes %s, not %s", c->zName,
                  c->eType==MB_TYPE_CHAR ? "char" : zT,
                  c->eType==MB_TYPE_CHAR ? "text" :
                  c->eType==MB_TYPE_BLOB ? "a blob" :
                  (c->eType==MB_TYPE_F32 || c->eType==MB_TYPE_F64) ? "a number" :
                  "an integer",
                  t==SQLITE_TEXT ? "text" : t==SQLITE_BLOB ? "a blob" :
                  t==SQLITE_FLOAT ? "a real" : "an integer");
}

/* The error for a value outside the range of column c. */
static int mbEncodeRange(sqlite3_vtab *pVtab, const MbCol *c,
                         sqlite3_value *v){
  return mb_vtab_error(pVtab, SQLITE_CONSTRAINT_CHECK, "membase: %s is out of "
                  "range for column \"%s\" (%s)", sqlite3_value_text(v),
                  c->zName, mb_type_name(c->eType));
}

/* f32 and f64 fields: any number; f32 refuses a finite value beyond its
** range (an infinity stays one). */
static int mbEncodeReal(sqlite3_vtab *pVtab, const MbCol *c,
                        sqlite3_value *v, unsigned char *pOut){
  double r = sqlite3_value_double(v);
  if( c->eType==MB_TYPE_F32 ){
    float f;
    uint32_t u;
    if( isfinite(r) && (r>3.4028234663852886e38 || r<-3.4028234663852886e38) ){
      return mb_vtab_error(pVtab, SQLITE_CONSTRAINT_CHECK, "membase: %s is out "
                      "of range for column \"%s\" (f32)",
                      sqlite3_value_text(v), c->zName);
    }
    f = (float)r;
    memcpy(&u, &f, 4);
    if( c->eKind & K_SWAP ) u = mbSwap32(u);
    memcpy(pOut, &u, 4);
  }else{
    uint64_t u;
    memcpy(&u, &r, 8);
    if( c->eKind & K_SWAP ) u = mbSwap64(u);
    memcpy(pOut, &u, 8);
  }
  return SQLITE_OK;
}

/* Store the integer u in an integer field of c->nByte bytes. */
static void mbStoreInt(const MbCol *c, uint64_t u, unsigned char *pOut){
  switch( c->nByte ){
    case 1: pOut[0] = (unsigned char)u; break;
    case 2: { uint16_t w = (uint16_t)u;
              if( c->eKind & K_SWAP ) w = mbSwap16(w);
              memcpy(pOut, &w, 2); break; }
    case 4: { uint32_t w = (uint32_t)u;
              if( c->eKind & K_SWAP ) w = mbSwap32(w);
              memcpy(pOut, &w, 4); break; }
    default: { uint64_t w = u;
              if( c->eKind & K_SWAP ) w = mbSwap64(w);
              memcpy(pOut, &w, 8); break; }
  }
}

/* Integer and bool fields: an INTEGER, or a REAL with no fraction, within
** the field's range (u64 takes REALs up to 2^64). */
static int mbEncodeInt(sqlite3_vtab *pVtab, const MbCol *c, sqlite3_value *v,
                       int t, unsigned char *pOut){
  int64_t x, lo = 0, hi = 0;
  int bU64 = c->eType==MB_TYPE_U64;
  if( t==SQLITE_FLOAT ){
    double r = sqlite3_value_double(v);
    if( r!=mbFloor(r) ){
      return mb_vtab_error(pVtab, SQLITE_MISMATCH, "membase: column \"%s\" "
                      "(%s) takes an integer, not %s", c->zName,
                      mb_type_name(c->eType), sqlite3_value_text(v));
    }
    if( bU64 && r>=9.2233720368547758e18 && r<1.8446744073709552e19 ){
      mbStoreInt(c, (uint64_t)r, pOut);
      return SQLITE_OK;
    }
    if( r<-9.2233720368547758e18 || r>=9.2233720368547758e18 ){
      return mbEncodeRange(pVtab, c, v);
    }
    x = (int64_t)r;
  }else{
    x = sqlite3_value_int64(v);
  }
  switch( c->eType ){
    case MB_TYPE_I8:  lo = INT8_MIN;  hi = INT8_MAX;  break;
    case MB_TYPE_I16: lo = INT16_MIN; hi = INT16_MAX; break;
    case MB_TYPE_I32: lo = INT32_MIN; hi = INT32_MAX; break;
    case MB_TYPE_I64: lo = INT64_MIN; hi = INT64_MAX; break;
    case MB_TYPE_U8:  lo = 0; hi = UINT8_MAX;  break;
    case MB_TYPE_U16: lo = 0; hi = UINT16_MAX; break;
    case MB_TYPE_U32: lo = 0; hi = UINT32_MAX; break;
    case MB_TYPE_U64: lo = 0; hi = INT64_MAX; break;
    case MB_TYPE_BOOL: lo = 0; hi = 1; break;
  }
  if( x<lo || x>hi ) return mbEncodeRange(pVtab, c, v);
  mbStoreInt(c, (uint64_t)x, pOut);
  return SQLITE_OK;
}

int mbCodecEncode(sqlite3_vtab *pVtab, const MbCol *c, sqlite3_value *v,
                  unsigned char *pOut){
  int t = sqlite3_value_type(v);
  int n;
  if( t==SQLITE_NULL ){
    return mb_vtab_error(pVtab, SQLITE_CONSTRAINT_NOTNULL, "membase: NULL in "
                    "column \"%s\" (%s): record fields cannot be NULL",
                    c->zName, mb_type_name(c->eType));
  }
  switch( c->eType ){
    case MB_TYPE_F32: case MB_TYPE_F64:
      if( t!=SQLITE_INTEGER && t!=SQLITE_FLOAT ) break;
      return mbEncodeReal(pVtab, c, v, pOut);
    case MB_TYPE_CHAR:
      if( t!=SQLITE_TEXT ) break;
      n = sqlite3_value_bytes(v);
      if( (uint32_t)n>c->nByte ){
        return mb_vtab_error(pVtab, SQLITE_CONSTRAINT_CHECK, "membase: text of "
                        "%d bytes is too long for column \"%s\" (char(%u))",
                        n, c->zName, c->nByte);
      }
      memset(pOut, 0, c->nByte);
      memcpy(pOut, sqlite3_value_text(v), (size_t)n);
      return SQLITE_OK;
    case MB_TYPE_BLOB:
      if( t!=SQLITE_BLOB ) break;
      n = sqlite3_value_bytes(v);
      if( (uint32_t)n!=c->nByte ){
        return mb_vtab_error(pVtab, SQLITE_CONSTRAINT_CHECK, "membase: a blob "
                        "of %d bytes does not fit column \"%s\" (blob(%u) "
                        "takes exactly %u)", n, c->zName, c->nByte, c->nByte);
      }
      memcpy(pOut, sqlite3_value_blob(v), (size_t)n);
      return SQLITE_OK;
    default:   /* integers and bool */
      if( t!=SQLITE_INTEGER && t!=SQLITE_FLOAT ) break;
      return mbEncodeInt(pVtab, c, v, t, pOut);
  }
  return mbEncodeMismatch(pVtab, c, t);
}

/* Whether SQL value v is the value the field at pOld reads as (xColumn):
** then an UPDATE keeps the field's bytes. An identity assignment (SET
** u = u) must not rewrite a u64 above 2^63 read as REAL, a NaN read as
** NULL, or a bool byte of 2 read as 1. */
int mbCodecSame(const MbCol *c, sqlite3_value *v,
                          const unsigned char *pOld){
  int t = sqlite3_value_type(v);
  switch( c->eKind ){
    case K_F32: case K_F64: case K_F32|K_SWAP: case K_F64|K_SWAP: {
      double d = mbCodecReal(c, pOld);
      if( isnan(d) ) return t==SQLITE_NULL;
      return t==SQLITE_FLOAT && sqlite3_value_double(v)==d;
    }
    case K_U64: case K_U64|K_SWAP: {
      uint64_t u;
      memcpy(&u, pOld, 8);
      if( c->eKind & K_SWAP ) u = mbSwap64(u);
      if( u>(uint64_t)INT64_MAX ){
        return t==SQLITE_FLOAT && sqlite3_value_double(v)==(double)u;
      }
      return t==SQLITE_INTEGER && (uint64_t)sqlite3_value_int64(v)==u;
    }
    case K_CHAR: {
      int n = (int)c->nByte;
      while( n>0 && pOld[n-1]==0 ) n--;
      return t==SQLITE_TEXT && sqlite3_value_bytes(v)==n
          && memcmp(sqlite3_value_text(v), pOld, (size_t)n)==0;
    }
    case K_BLOB:
      return t==SQLITE_BLOB && sqlite3_value_bytes(v)==(int)c->nByte
          && memcmp(sqlite3_value_blob(v), pOld, c->nByte)==0;
    default:   /* the other integers and bool (mbCodecInt reads it as 0/1) */
      return t==SQLITE_INTEGER && sqlite3_value_int64(v)==mbCodecInt(c, pOld);
  }
}


int mbCodecKind(int eType, int bBig){
  int k = eType<=MB_TYPE_F64 ? eType - MB_TYPE_I8 + K_I8
        : eType==MB_TYPE_BOOL ? K_BOOL : eType==MB_TYPE_CHAR ? K_CHAR
        : K_BLOB;
  if( bBig && eType<=MB_TYPE_F64 && eType!=MB_TYPE_I8 && eType!=MB_TYPE_U8 ){
    k |= K_SWAP;
  }
  return k;
}
