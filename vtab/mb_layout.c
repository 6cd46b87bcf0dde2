/*
** mb_layout.c -- the layout language of the membase table: a record is
** written as comma-separated "name type" pairs,
**
**     ts i64, price f64, qty i32, side u8, _ pad(3), sym char(8)
**
** Types: i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 (each may end in "be" or
** "le" to fix its byte order, e.g. i32be), bool (one byte), char(N)
** (NUL-padded text), blob(N) and pad(N) (bytes skipped; the name of a pad
** is not a column). Fields are packed as written unless align=natural asks
** for C-struct alignment. The manual for users is in vtab/mb_records.c.
**
** Errors name the token at fault and its 1-based character position,
** and the column and its type when the fault is in a size:
**     membase: layout: unknown type "i33" at position 5
**     membase: layout: size "0" for column "x" (char) at position 8 is out
**     of range (1 to 1073741824)
*/
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_layout.h"

static const struct {
  const char *zName;
  int eType;
  uint32_t nByte;   /* 0: sized by (N) */
} aMbType[] = {
  { "i8",   MB_TYPE_I8,   1 }, { "i16", MB_TYPE_I16, 2 },
  { "i32",  MB_TYPE_I32,  4 }, { "i64", MB_TYPE_I64, 8 },
  { "u8",   MB_TYPE_U8,   1 }, { "u16", MB_TYPE_U16, 2 },
  { "u32",  MB_TYPE_U32,  4 }, { "u64", MB_TYPE_U64, 8 },
  { "f32",  MB_TYPE_F32,  4 }, { "f64", MB_TYPE_F64, 8 },
  { "bool", MB_TYPE_BOOL, 1 },
  { "char", MB_TYPE_CHAR, 0 }, { "blob", MB_TYPE_BLOB, 0 },
  { "pad",  MB_TYPE_PAD,  0 },
};
#define MB_NTYPE ((int)(sizeof(aMbType)/sizeof(aMbType[0])))

const char *mb_type_name(int eType){
  int i;
  for(i=0; i<MB_NTYPE; i++){
    if( aMbType[i].eType==eType ) return aMbType[i].zName;
  }
  return "?";
}

const char *mb_type_sql(int eType){
  if( eType<=MB_TYPE_U64 || eType==MB_TYPE_BOOL ) return "INTEGER";
  if( eType==MB_TYPE_F32 || eType==MB_TYPE_F64 ) return "REAL";
  if( eType==MB_TYPE_CHAR ) return "TEXT";
  return "BLOB";
}

uint32_t mb_type_align(int eType, uint32_t nByte){
  if( eType<=MB_TYPE_F64 ) return nByte;
  return 1;
}

void mb_layout_free(mb_layout *p){
  int i;
  for(i=0; i<p->nField; i++) sqlite3_free(p->aField[i].zName);
  sqlite3_free(p->aField);
  memset(p, 0, sizeof(*p));
}

static int mbIsIdStart(char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || c=='_';
}
static int mbIsIdChar(char c){
  return mbIsIdStart(c) || (c>='0' && c<='9');
}
static int mbIsSpace(char c){
  return c==' ' || c=='\t' || c=='\n' || c=='\r';
}

/* Names that would shadow the record index. */
static int mbIsReserved(const char *z){
  return sqlite3_stricmp(z, "rowid")==0 || sqlite3_stricmp(z, "oid")==0
      || sqlite3_stricmp(z, "_rowid_")==0;
}

int mb_layout_add(
  mb_layout *p,
  const char *zName,
  int eType,
  int bBig,
  uint64_t nByte,
  uint64_t iOff,
  const char *zWhere,
  char **pzErr
){
  mb_field *aNew;
  char *zCopy = 0;
  int i;
  if( nByte==0 || nByte>MB_LAYOUT_MAX_RECORD || iOff>MB_LAYOUT_MAX_RECORD ){
    *pzErr = sqlite3_mprintf("membase: %s: field %s%s%s of %llu bytes at "
        "offset %llu is out of range (records are at most %llu bytes)",
        zWhere, zName ? "\"" : "", zName ? zName : "(padding)",
        zName ? "\"" : "", (unsigned long long)nByte,
        (unsigned long long)iOff, (unsigned long long)MB_LAYOUT_MAX_RECORD);
    return SQLITE_ERROR;
  }
  if( zName ){
    const char *z;
    if( !mbIsIdStart(zName[0]) ){
      *pzErr = sqlite3_mprintf("membase: %s: column name \"%s\" is not an "
                               "identifier", zWhere, zName);
      return SQLITE_ERROR;
    }
    for(z=zName; *z; z++){
      if( !mbIsIdChar(*z) ){
        *pzErr = sqlite3_mprintf("membase: %s: column name \"%s\" is not an "
                                 "identifier", zWhere, zName);
        return SQLITE_ERROR;
      }
    }
    if( mbIsReserved(zName) ){
      *pzErr = sqlite3_mprintf("membase: %s: column name \"%s\" is reserved "
                               "(the rowid is the record index)",
                               zWhere, zName);
      return SQLITE_ERROR;
    }
    for(i=0; i<p->nField; i++){
      if( p->aField[i].zName && sqlite3_stricmp(p->aField[i].zName, zName)==0 ){
        *pzErr = sqlite3_mprintf("membase: %s: duplicate column name \"%s\"",
                                 zWhere, zName);
        return SQLITE_ERROR;
      }
    }
    if( p->nCol>=MB_LAYOUT_MAX_COLUMNS ){
      *pzErr = sqlite3_mprintf("membase: %s: more than %d columns", zWhere,
                               MB_LAYOUT_MAX_COLUMNS);
      return SQLITE_ERROR;
    }
    zCopy = sqlite3_mprintf("%s", zName);
    if( zCopy==0 ) return SQLITE_NOMEM;
  }
  aNew = sqlite3_realloc64(p->aField, sizeof(mb_field)*(uint64_t)(p->nField+1));
  if( aNew==0 ){
    sqlite3_free(zCopy);
    return SQLITE_NOMEM;
  }
  p->aField = aNew;
  aNew[p->nField].zName = zCopy;
  aNew[p->nField].eType = eType;
  aNew[p->nField].bBig = bBig;
  aNew[p->nField].nByte = (uint32_t)nByte;
  aNew[p->nField].iOff = iOff;
  p->nField++;
  if( zName ) p->nCol++;
  if( iOff+nByte>p->nRecord ) p->nRecord = iOff+nByte;
  if( p->nAlign==0 ) p->nAlign = 1;
  return SQLITE_OK;
}

/* The token starting at z, for messages: an identifier or number, or one
** character, or "end of layout". */
static char *mbToken(const char *z){
  int n = 0;
  if( *z==0 ) return sqlite3_mprintf("end of layout");
  while( mbIsIdChar(z[n]) ) n++;
  if( n==0 ){
    /* One character: a whole UTF-8 sequence, not its first byte alone. */
    n = 1;
    while( n<4 && ((unsigned char)z[n] & 0xc0)==0x80 ) n++;
  }
  return sqlite3_mprintf("\"%.*s\"", n, z);
}

static int mbPos(const char *zStart, const char *z){
  return (int)(z - zStart) + 1;
}

static const char *mbSkipSpace(const char *z){
  while( mbIsSpace(*z) ) z++;
  return z;
}

/* One parse of a layout text: where it is, and the column being read. */
typedef struct MbLayoutParse {
  const char *zLayout;        /* the whole text, for positions */
  const char *z;              /* the next byte to read */
  char **pzErr;
  char zName[128];            /* the column's name */
  const char *zNameAt;        /* where the name starts */
  int eType;                  /* its type, MB_TYPE_* */
  int bBig;                   /* big-endian (the default, or a be/le suffix) */
  uint64_t nByte;             /* its size */
} MbLayoutParse;

/* The error "membase: layout: expected WHAT at position N, found TOKEN"
** for the text at z; zWhat is from sqlite3_mprintf and freed here. */
static int mbExpected(MbLayoutParse *P, const char *z, char *zWhat){
  char *zTok = mbToken(z);
  *P->pzErr = (zWhat && zTok)
      ? sqlite3_mprintf("membase: layout: expected %s at position %d, "
                        "found %s", zWhat, mbPos(P->zLayout, z), zTok)
      : 0;
  sqlite3_free(zWhat);
  sqlite3_free(zTok);
  return *P->pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* A column's name, into P->zName. */
static int mbLayoutName(MbLayoutParse *P){
  const char *z = mbSkipSpace(P->z);
  int nName;
  P->zNameAt = z;
  if( !mbIsIdStart(*z) ){
    return mbExpected(P, z, sqlite3_mprintf("a column name"));
  }
  for(nName=0; mbIsIdChar(z[nName]); nName++){}
  if( nName>=(int)sizeof(P->zName) ){
    *P->pzErr = sqlite3_mprintf("membase: layout: column name at position %d "
                                "is longer than %d characters",
                                mbPos(P->zLayout, z), (int)sizeof(P->zName)-1);
    return SQLITE_ERROR;
  }
  memcpy(P->zName, z, (size_t)nName);
  P->zName[nName] = 0;
  P->z = z + nName;
  return SQLITE_OK;
}

/* The size of char(N), blob(N) or pad(N), zType[0..nType) being the type
** as written: "(N)" into P->nByte. */
static int mbLayoutSize(MbLayoutParse *P, const char *zType, int nType){
  const char *z = mbSkipSpace(P->z), *zNum;
  uint64_t nByte = 0;
  if( *z!='(' ){
    return mbExpected(P, z, sqlite3_mprintf("\"(\" after \"%.*s\"", nType,
                                            zType));
  }
  z = mbSkipSpace(z+1);
  zNum = z;
  while( *z>='0' && *z<='9' ){
    nByte = nByte*10 + (uint64_t)(*z - '0');
    if( nByte>MB_LAYOUT_MAX_RECORD ) break;
    z++;
  }
  if( z==zNum || nByte==0 || nByte>MB_LAYOUT_MAX_RECORD ){
    int bNoDigits = z==zNum;
    /* name the column and its type: "size 0" alone does not say
    ** which of several char(N), blob(N) or pad(N) is wrong */
    const char *zWhat = P->eType==MB_TYPE_PAD ? "padding" : "column";
    while( mbIsIdChar(*z) ) z++;
    if( bNoDigits ){
      return mbExpected(P, zNum, sqlite3_mprintf("a size for %s \"%s\" (%s)",
                        zWhat, P->zName, mb_type_name(P->eType)));
    }
    *P->pzErr = sqlite3_mprintf("membase: layout: size \"%.*s\" for %s "
                                "\"%s\" (%s) at position %d is out of "
                                "range (1 to %llu)", (int)(z-zNum), zNum,
                                zWhat, P->zName, mb_type_name(P->eType),
                                mbPos(P->zLayout, zNum),
                                (unsigned long long)MB_LAYOUT_MAX_RECORD);
    return SQLITE_ERROR;
  }
  z = mbSkipSpace(z);
  if( *z!=')' ) return mbExpected(P, z, sqlite3_mprintf("\")\""));
  P->z = z+1;
  P->nByte = nByte;
  return SQLITE_OK;
}

/* A column's type (a numeric type may end in be or le), into P->eType,
** P->bBig and P->nByte; bBig is the layout's byte order. */
static int mbLayoutType(MbLayoutParse *P, int bBig){
  const char *z = mbSkipSpace(P->z);
  int nType, i;
  P->eType = -1;
  P->bBig = bBig;
  if( !mbIsIdStart(*z) ){
    return mbExpected(P, z, sqlite3_mprintf("a type for column \"%s\"",
                                            P->zName));
  }
  for(nType=0; mbIsIdChar(z[nType]); nType++){}
  for(i=0; i<MB_NTYPE; i++){
    int n = (int)strlen(aMbType[i].zName);
    if( sqlite3_strnicmp(z, aMbType[i].zName, n)!=0 ) continue;
    if( n==nType ){ P->eType = aMbType[i].eType; break; }
    /* a byte-order suffix on a numeric type */
    if( nType==n+2 && aMbType[i].eType<=MB_TYPE_F64 ){
      if( sqlite3_strnicmp(z+n, "be", 2)==0 ){
        P->eType = aMbType[i].eType; P->bBig = 1; break;
      }
      if( sqlite3_strnicmp(z+n, "le", 2)==0 ){
        P->eType = aMbType[i].eType; P->bBig = 0; break;
      }
    }
  }
  if( P->eType<0 ){
    *P->pzErr = sqlite3_mprintf("membase: layout: unknown type \"%.*s\" at "
                                "position %d", nType, z, mbPos(P->zLayout, z));
    return SQLITE_ERROR;
  }
  P->nByte = aMbType[i].nByte;
  P->z = z + nType;
  if( P->nByte==0 ) return mbLayoutSize(P, z, nType);
  return SQLITE_OK;
}

/* Place the column read at *piOff (aligned when bNatural, which raises
** *pnAlign) and add it to p: the record's size and the name are checked. */
static int mbLayoutPlace(MbLayoutParse *P, mb_layout *p, int bNatural,
                         uint64_t *piOff, uint32_t *pnAlign){
  int i, rc;
  if( bNatural ){
    uint32_t a = mb_type_align(P->eType, (uint32_t)P->nByte);
    if( a>*pnAlign ) *pnAlign = a;
    *piOff = (*piOff + a - 1) / a * a;
  }
  if( *piOff+P->nByte>MB_LAYOUT_MAX_RECORD ){
    *P->pzErr = sqlite3_mprintf("membase: layout: the record is larger than "
                                "%llu bytes at %s \"%s\" (%s, position %d)",
                                (unsigned long long)MB_LAYOUT_MAX_RECORD,
                                P->eType==MB_TYPE_PAD ? "padding" : "column",
                                P->zName, mb_type_name(P->eType),
                                mbPos(P->zLayout, P->zNameAt));
    return SQLITE_ERROR;
  }
  if( P->eType==MB_TYPE_PAD ){
    rc = mb_layout_add(p, 0, P->eType, 0, P->nByte, *piOff, "layout",
                       P->pzErr);
  }else{
    if( mbIsReserved(P->zName) ){
      *P->pzErr = sqlite3_mprintf("membase: layout: column name \"%s\" at "
                                  "position %d is reserved (the rowid is the "
                                  "record index)", P->zName,
                                  mbPos(P->zLayout, P->zNameAt));
      return SQLITE_ERROR;
    }
    for(i=0; i<p->nField; i++){
      if( p->aField[i].zName && sqlite3_stricmp(p->aField[i].zName, P->zName)==0 ){
        *P->pzErr = sqlite3_mprintf("membase: layout: duplicate column name "
                                    "\"%s\" at position %d", P->zName,
                                    mbPos(P->zLayout, P->zNameAt));
        return SQLITE_ERROR;
      }
    }
    rc = mb_layout_add(p, P->zName, P->eType, P->bBig, P->nByte, *piOff,
                       "layout", P->pzErr);
  }
  if( rc==SQLITE_OK ) *piOff += P->nByte;
  return rc;
}

int mb_layout_parse(
  const char *zLayout,
  int bBig,
  int bNatural,
  mb_layout *p,
  char **pzErr
){
  MbLayoutParse P;
  uint64_t iOff = 0;
  uint32_t nAlign = 1;
  int rc = SQLITE_OK;

  memset(p, 0, sizeof(*p));
  memset(&P, 0, sizeof(P));
  P.zLayout = zLayout;
  P.pzErr = pzErr;
  P.z = mbSkipSpace(zLayout);
  if( *P.z==0 ){
    *pzErr = sqlite3_mprintf("membase: layout is empty");
    return SQLITE_ERROR;
  }
  /* name type[(size)], ... */
  for(;;){
    rc = mbLayoutName(&P);
    if( rc==SQLITE_OK ) rc = mbLayoutType(&P, bBig);
    if( rc==SQLITE_OK ) rc = mbLayoutPlace(&P, p, bNatural, &iOff, &nAlign);
    if( rc!=SQLITE_OK ) goto fail;
    P.z = mbSkipSpace(P.z);
    if( *P.z==0 ) break;
    if( *P.z!=',' ){
      rc = mbExpected(&P, P.z, sqlite3_mprintf("\",\""));
      goto fail;
    }
    P.z++;
  }
  if( p->nCol==0 ){
    *pzErr = sqlite3_mprintf("membase: layout has no columns (only padding)");
    rc = SQLITE_ERROR;
    goto fail;
  }
  p->nAlign = nAlign;
  p->nRecord = (iOff + nAlign - 1) / nAlign * nAlign;
  return SQLITE_OK;

fail:
  mb_layout_free(p);
  if( rc==SQLITE_NOMEM ){
    sqlite3_free(*pzErr);
    *pzErr = 0;
  }
  return rc;
}
