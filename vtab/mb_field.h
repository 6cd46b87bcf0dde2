/*
** mb_field.h -- the field codec of record files: how a field of a record
** (its type, width and byte order) reads as an SQL value and is written
** from one. Shared by the record table and membase_aggregate.
*/
#ifndef MB_FIELD_H
#define MB_FIELD_H

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
static inline int64_t mbGetInt(const MbCol *c, const unsigned char *p){
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

static inline double mbGetReal(const MbCol *c, const unsigned char *p){
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
  return (double)mbGetInt(c, p);
}


#endif /* MB_FIELD_H */
