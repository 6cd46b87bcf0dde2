/*
** mb_codec.h -- the field codec of record files: how a field of a record
** (its type, width and byte order) reads as an SQL value and is written
** from one. Shared by the record table and membase_aggregate.
*/
#ifndef MB_CODEC_H
#define MB_CODEC_H

#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"

/* Column kinds for xColumn: the hot switch. */
enum {
  K_I8, K_I16, K_I32, K_I64, K_U8, K_U16, K_U32, K_U64, K_F32, K_F64,
  K_BOOL, K_CHAR, K_BLOB,
  K_SWAP = 16   /* or'ed in for big-endian multi-byte numbers */
};

typedef struct MbCol {
  const char *zName;
  int eType;           /* MB_TYPE_* */
  int eKind;           /* K_* */
  uint32_t nByte;
  uint32_t iOff;
} MbCol;

static inline uint16_t mbSwap16(uint16_t v){ return (uint16_t)((v>>8) | (v<<8)); }
static inline uint32_t mbSwap32(uint32_t v){
  return (v>>24) | ((v>>8)&0xff00u) | ((v<<8)&0xff0000u) | (v<<24);
}
static inline uint64_t mbSwap64(uint64_t v){
  return ((uint64_t)mbSwap32((uint32_t)v)<<32) | mbSwap32((uint32_t)(v>>32));
}


/* Read a numeric field as int64 (integer kinds) -- for the sorted key. */
static inline int64_t mbCodecInt(const MbCol *c, const unsigned char *p){
  switch( c->eKind ){
    case K_I8:  return (int8_t)p[0];
    case K_U8:  return p[0];
    case K_BOOL: return p[0]!=0;   /* as it reads: a byte of 2 is 1 */
    case K_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case K_U16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case K_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case K_U32: { uint32_t v; memcpy(&v, p, 4); return v; }
    case K_I64: { int64_t v; memcpy(&v, p, 8); return v; }
    case K_I16|K_SWAP: { uint16_t v; memcpy(&v, p, 2); return (int16_t)mbSwap16(v); }
    case K_U16|K_SWAP: { uint16_t v; memcpy(&v, p, 2); return mbSwap16(v); }
    case K_I32|K_SWAP: { uint32_t v; memcpy(&v, p, 4); return (int32_t)mbSwap32(v); }
    case K_U32|K_SWAP: { uint32_t v; memcpy(&v, p, 4); return mbSwap32(v); }
    case K_I64|K_SWAP: { uint64_t v; memcpy(&v, p, 8); return (int64_t)mbSwap64(v); }
  }
  return 0;
}

static inline double mbCodecReal(const MbCol *c, const unsigned char *p){
  switch( c->eKind ){
    case K_F32: { float v; memcpy(&v, p, 4); return (double)v; }
    case K_F64: { double v; memcpy(&v, p, 8); return v; }
    case K_F32|K_SWAP: {
      uint32_t u; float v; memcpy(&u, p, 4); u = mbSwap32(u);
      memcpy(&v, &u, 4); return (double)v;
    }
    case K_F64|K_SWAP: {
      uint64_t u; double v; memcpy(&u, p, 8); u = mbSwap64(u);
      memcpy(&v, &u, 8); return v;
    }
  }
  return (double)mbCodecInt(c, p);
}


/* floor, ceil and log2 without libm (the static library must not add a
** link dependency). Values beyond 2^52 are integers already. */
static inline double mbFloor(double r){
  double t;
  if( !(r>-4503599627370496.0 && r<4503599627370496.0) ) return r;
  t = (double)(int64_t)r;
  return t>r ? t-1.0 : t;
}
static inline double mbCeil(double r){
  double t;
  if( !(r>-4503599627370496.0 && r<4503599627370496.0) ) return r;
  t = (double)(int64_t)r;
  return t<r ? t+1.0 : t;
}
static inline double mbLog2(double r){
  double n = 0.0;
  while( r>=2.0 ){ r /= 2.0; n += 1.0; }
  return n;
}

/* A u64 field as it is stored (no conversion to REAL). */
static inline uint64_t mbCodecU64(const MbCol *c, const unsigned char *p){
  uint64_t u;
  memcpy(&u, p, 8);
  return (c->eKind & K_SWAP) ? mbSwap64(u) : u;
}

/* The SQL result of field c of the record at p: the hot switch of
** xColumn, inline so a scan pays no call per field. */
static inline void mbCodecResult(sqlite3_context *ctx, const MbCol *c,
                     const unsigned char *p){
  switch( c->eKind ){
    case K_F64: { double v; memcpy(&v, p, 8); sqlite3_result_double(ctx, v); return; }
    case K_I64: { int64_t v; memcpy(&v, p, 8); sqlite3_result_int64(ctx, v); return; }
    case K_I32: { int32_t v; memcpy(&v, p, 4); sqlite3_result_int(ctx, v); return; }
    case K_U8:  sqlite3_result_int(ctx, p[0]); return;
    case K_I8:  sqlite3_result_int(ctx, (int8_t)p[0]); return;
    case K_BOOL: sqlite3_result_int(ctx, p[0]!=0); return;
    case K_U64: case K_U64|K_SWAP: {
      uint64_t v; memcpy(&v, p, 8);
      if( c->eKind & K_SWAP ) v = mbSwap64(v);
      if( v>(uint64_t)INT64_MAX ){
        sqlite3_result_double(ctx, (double)v);
      }else{
        sqlite3_result_int64(ctx, (sqlite3_int64)v);
      }
      return;
    }
    case K_CHAR: {
      int n = (int)c->nByte;
      while( n>0 && p[n-1]==0 ) n--;
      sqlite3_result_text(ctx, (const char*)p, n, SQLITE_TRANSIENT);
      return;
    }
    case K_BLOB:
      sqlite3_result_blob(ctx, p, (int)c->nByte, SQLITE_TRANSIENT);
      return;
    case K_F32: case K_F32|K_SWAP: case K_F64|K_SWAP:
      sqlite3_result_double(ctx, mbCodecReal(c, p));
      return;
    default:
      sqlite3_result_int64(ctx, mbCodecInt(c, p));
      return;
  }
}

/* Convert SQL value v into field c at pOut. A value the field cannot hold
** (NULL, wrong type, out of range, too long) sets an error on pVtab that
** names the column and returns its code; nothing is written then. */
int mbCodecEncode(sqlite3_vtab *pVtab, const MbCol *c, sqlite3_value *v,
                  unsigned char *pOut);

/* Whether v is the value the field at pOld reads as: then an UPDATE keeps
** the field's bytes (NaN payloads, bool bytes of 2, u64 above 2^63). */
int mbCodecSame(const MbCol *c, sqlite3_value *v, const unsigned char *pOld);

/* The column kind (MB_K_*) of a field of layout type eType (MB_TYPE_*)
** stored big-endian if bBig. */
int mbCodecKind(int eType, int bBig);

#endif /* MB_CODEC_H */
