/*
** mb_npy.c -- .npy headers, format versions 1, 2 and 3.
**
** A .npy file is "\x93NUMPY", a major and minor version byte, the header
** length (2 bytes little-endian in v1, 4 bytes in v2 and v3), then the
** header: the text of a Python dict literal
**     {'descr': '<f8', 'fortran_order': False, 'shape': (1000, 3), }
** padded with spaces and ending in '\n', then the data. v3 only allows
** UTF-8 in the header. The descr is a dtype string ('<i8', '|S8', '|b1'),
** or a list of fields [('ts', '<i8'), ('', '|V3'), ('xyz', '<f4', (3,))]
** where a nameless void field is padding.
**
** How arrays become records: one record per index of the first axis; the
** trailing axes and sub-array fields are unrolled into columns
** (value_0_1, xyz_2). A scalar (shape ()) is one record. A structured
** array must have the shape (n,) or (n, 1, ...) (n records; the fields
** of the latter are named a_0): with more than one element per row the
** unrolled columns would not follow numpy's byte order, so it is refused,
** naming the shape. Padding -- what numpy writes for a dtype whose
** offsets or itemsize leave gaps, ('', '|V4'), or ('', '|V1', (4,)) -- is
** skipped, as np.load skips it, and kept when the header is rewritten.
** A refused dtype inside a structure is reported with its field's name.
**
** The header is parsed with a small reader of Python literals (strings,
** integers, True/False/None, tuples, lists, dicts) that refuses anything
** else: this is untrusted input, every count is checked for overflow.
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_npy.h"

/* ------------------------------------------------ Python literal reader */

enum { PY_STR, PY_INT, PY_BOOL, PY_NONE, PY_TUPLE, PY_LIST, PY_DICT };

typedef struct PyNode PyNode;
struct PyNode {
  int eType;
  const char *z;      /* PY_STR: the text between the quotes (no escapes) */
  int n;              /* PY_STR: its length */
  uint64_t v;         /* PY_INT (non-negative), PY_BOOL */
  int nKid;           /* containers: children (dict: key, value, key, ...) */
  PyNode **aKid;
  const char *zSrc;   /* the literal's text in the header ... */
  const char *zSrcEnd;/* ... up to here */
};

typedef struct PyReader {
  const char *z;      /* current position */
  const char *zEnd;
  int nDepth;
  const char *zErr;   /* static description of the first error */
} PyReader;

static void pyFree(PyNode *p){
  int i;
  if( p==0 ) return;
  for(i=0; i<p->nKid; i++) pyFree(p->aKid[i]);
  sqlite3_free(p->aKid);
  sqlite3_free(p);
}

static void pySkip(PyReader *r){
  while( r->z<r->zEnd && (*r->z==' ' || *r->z=='\t' || *r->z=='\n'
                          || *r->z=='\r') ) r->z++;
}

static PyNode *pyNew(PyReader *r, int eType){
  PyNode *p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ){ r->zErr = "out of memory"; return 0; }
  memset(p, 0, sizeof(*p));
  p->eType = eType;
  return p;
}

static int pyAddKid(PyReader *r, PyNode *p, PyNode *pKid){
  PyNode **a;
  if( p->nKid>=100000 ){ r->zErr = "too many elements"; return 1; }
  a = sqlite3_realloc64(p->aKid, sizeof(PyNode*)*(uint64_t)(p->nKid+1));
  if( a==0 ){ r->zErr = "out of memory"; return 1; }
  p->aKid = a;
  a[p->nKid++] = pKid;
  return 0;
}

static PyNode *pyValue(PyReader *r);

/* A container: ( ... ), [ ... ] or { k: v, ... }, trailing comma allowed.
** A parenthesised single value without a comma is that value. */
static PyNode *pyContainer(PyReader *r, int eType, char cClose){
  PyNode *p = pyNew(r, eType);
  int bComma = 0;
  if( p==0 ) return 0;
  r->z++;
  for(;;){
    PyNode *pKid;
    pySkip(r);
    if( r->z>=r->zEnd ){ r->zErr = "unterminated bracket"; goto fail; }
    if( *r->z==cClose ){ r->z++; break; }
    if( p->nKid>0 && !bComma ){ r->zErr = "expected a comma"; goto fail; }
    pKid = pyValue(r);
    if( pKid==0 || pyAddKid(r, p, pKid) ){ pyFree(pKid); goto fail; }
    pySkip(r);
    if( eType==PY_DICT ){
      if( r->z>=r->zEnd || *r->z!=':' ){ r->zErr = "expected a colon"; goto fail; }
      r->z++;
      pKid = pyValue(r);
      if( pKid==0 || pyAddKid(r, p, pKid) ){ pyFree(pKid); goto fail; }
      pySkip(r);
    }
    bComma = 0;
    if( r->z<r->zEnd && *r->z==',' ){ r->z++; bComma = 1; }
  }
  if( eType==PY_TUPLE && p->nKid==1 && !bComma ){
    PyNode *pOnly = p->aKid[0];
    p->nKid = 0;
    pyFree(p);
    return pOnly;
  }
  return p;
fail:
  pyFree(p);
  return 0;
}

static PyNode *pyValue(PyReader *r){
  PyNode *p = 0;
  const char *zSrc;
  char c;
  pySkip(r);
  if( r->z>=r->zEnd ){ r->zErr = "unexpected end of header"; return 0; }
  zSrc = r->z;
  if( ++r->nDepth>16 ){ r->zErr = "nested too deeply"; return 0; }
  c = *r->z;
  if( c=='(' ){
    p = pyContainer(r, PY_TUPLE, ')');
  }else if( c=='[' ){
    p = pyContainer(r, PY_LIST, ']');
  }else if( c=='{' ){
    p = pyContainer(r, PY_DICT, '}');
  }else if( c=='\'' || c=='"' ){
    const char *zStart = ++r->z;
    while( r->z<r->zEnd && *r->z!=c ){
      if( *r->z=='\\' ){ r->zErr = "escape sequences in strings"; return 0; }
      /* A NUL would cut the names and the descr kept for rewrites short. */
      if( *r->z==0 ){ r->zErr = "NUL byte in a string"; return 0; }
      r->z++;
    }
    if( r->z>=r->zEnd ){ r->zErr = "unterminated string"; return 0; }
    p = pyNew(r, PY_STR);
    if( p ){ p->z = zStart; p->n = (int)(r->z - zStart); }
    r->z++;
  }else if( c>='0' && c<='9' ){
    uint64_t v = 0;
    while( r->z<r->zEnd && *r->z>='0' && *r->z<='9' ){
      if( v > (UINT64_MAX - 9)/10 ){ r->zErr = "integer too large"; return 0; }
      v = v*10 + (uint64_t)(*r->z - '0');
      r->z++;
    }
    if( r->z<r->zEnd && *r->z=='L' ) r->z++;   /* Python 2 longs */
    p = pyNew(r, PY_INT);
    if( p ) p->v = v;
  }else if( r->zEnd - r->z>=4 && memcmp(r->z, "True", 4)==0 ){
    r->z += 4;
    p = pyNew(r, PY_BOOL);
    if( p ) p->v = 1;
  }else if( r->zEnd - r->z>=5 && memcmp(r->z, "False", 5)==0 ){
    r->z += 5;
    p = pyNew(r, PY_BOOL);
  }else if( r->zEnd - r->z>=4 && memcmp(r->z, "None", 4)==0 ){
    r->z += 4;
    p = pyNew(r, PY_NONE);
  }else{
    r->zErr = "unexpected character";
  }
  r->nDepth--;
  if( p && p->zSrc==0 ){ p->zSrc = zSrc; p->zSrcEnd = r->z; }
  return p;
}

static int pyStrIs(const PyNode *p, const char *z){
  return p && p->eType==PY_STR && p->n==(int)strlen(z)
      && memcmp(p->z, z, (size_t)p->n)==0;
}

static PyNode *pyDictGet(const PyNode *pDict, const char *zKey){
  int i;
  for(i=0; i+1<pDict->nKid; i+=2){
    if( pyStrIs(pDict->aKid[i], zKey) ) return pDict->aKid[i+1];
  }
  return 0;
}

/* ------------------------------------------------ dtypes */

/* Map a dtype string ('<f8', '|S8', '>u2') to a type; 0 and *pzErr on
** failure. */
static int npyScalar(
  const char *zFile,
  const char *zField,         /* the struct field for messages, quoted
                              ** ("\"z\"") or its number; 0: plain array */
  const char *z, int n,
  int *peType, int *pbBig, uint64_t *pnByte,
  char **pzErr
){
  char cOrder = '|', cKind;
  uint64_t nByte = 0;
  int i = 0;
  if( n>0 && (z[0]=='<' || z[0]=='>' || z[0]=='|' || z[0]=='=') ){
    cOrder = z[0];
    i = 1;
  }
  if( i>=n ) goto bad;
  cKind = z[i++];
  if( cKind=='O' && zField ){
    *pzErr = sqlite3_mprintf("membase: %s: field %s is an object field "
                             "(dtype '%.*s'): it holds Python objects, not "
                             "data, and cannot be mapped", zFile, zField,
                             n, z);
    return 0;
  }
  if( cKind=='O' ){
    *pzErr = sqlite3_mprintf("membase: %s: object arrays (dtype '%.*s') "
                             "hold Python objects, not data, and cannot "
                             "be mapped", zFile, n, z);
    return 0;
  }
  if( i>=n ) goto bad;
  for(; i<n; i++){
    if( z[i]<'0' || z[i]>'9' ){
      /* datetime64 and timedelta64 ('<M8[s]') are well formed */
      if( z[i]=='[' && (cKind=='M' || cKind=='m') ) goto unsupported;
      goto bad;
    }
    nByte = nByte*10 + (uint64_t)(z[i]-'0');
    if( nByte>MB_LAYOUT_MAX_RECORD ) goto bad;
  }
  *pbBig = cOrder=='>';
  *pnByte = nByte;
  switch( cKind ){
    case 'i': case 'u': {
      int iBase = cKind=='i' ? MB_TYPE_I8 : MB_TYPE_U8;
      switch( nByte ){
        case 1: *peType = iBase; return 1;
        case 2: *peType = iBase+1; return 1;
        case 4: *peType = iBase+2; return 1;
        case 8: *peType = iBase+3; return 1;
      }
      goto unsupported;
    }
    case 'f':
      if( nByte==4 ){ *peType = MB_TYPE_F32; return 1; }
      if( nByte==8 ){ *peType = MB_TYPE_F64; return 1; }
      goto unsupported;
    case 'b':
      if( nByte==1 ){ *peType = MB_TYPE_BOOL; return 1; }
      goto unsupported;
    case 'S': case 'a':
      if( nByte==0 ) goto unsupported;
      *peType = MB_TYPE_CHAR; return 1;
    case 'V':
      if( nByte==0 ) goto unsupported;
      *peType = MB_TYPE_BLOB; return 1;
  }
unsupported:
  if( zField ){
    *pzErr = sqlite3_mprintf("membase: %s: field %s has an unsupported "
                             "dtype '%.*s'", zFile, zField, n, z);
  }else{
    *pzErr = sqlite3_mprintf("membase: %s: unsupported dtype '%.*s'", zFile,
                             n, z);
  }
  return 0;
bad:
  if( zField ){
    *pzErr = sqlite3_mprintf("membase: %s: field %s has a malformed "
                             "dtype '%.*s'", zFile, zField, n, z);
  }else{
    *pzErr = sqlite3_mprintf("membase: %s: malformed dtype '%.*s'", zFile,
                             n, z);
  }
  return 0;
}

/* Add nRep copies of a scalar field named zBase (suffixes _I_J over the
** axes aDim[0..nDim) when nDim>0) at *piOff. */
static int npyAddField(
  mb_layout *pL,
  const char *zFile,
  const char *zBase,          /* 0 for padding */
  int eType, int bBig, uint64_t nByte,
  const uint64_t *aDim, int nDim,
  uint64_t *piOff,
  char **pzErr
){
  uint64_t nRep = 1, k;
  int d, rc;
  for(d=0; d<nDim; d++){
    if( aDim[d]==0 ){ nRep = 0; break; }
    if( nRep > MB_LAYOUT_MAX_COLUMNS / aDim[d] ){
      *pzErr = sqlite3_mprintf("membase: %s: field \"%s\" unrolls into more "
                               "than %d columns and cannot be mapped", zFile,
                               zBase ? zBase : "", MB_LAYOUT_MAX_COLUMNS);
      return SQLITE_ERROR;
    }
    nRep *= aDim[d];
  }
  for(k=0; k<nRep; k++){
    char *zName = 0;
    if( zBase && nDim>0 ){
      uint64_t rest = k;
      sqlite3_str *pStr = sqlite3_str_new(0);
      uint64_t aIdx[MB_NPY_MAX_DIM];
      sqlite3_str_appendf(pStr, "%s", zBase);
      for(d=nDim-1; d>=0; d--){ aIdx[d] = rest % aDim[d]; rest /= aDim[d]; }
      for(d=0; d<nDim; d++){
        sqlite3_str_appendf(pStr, "_%llu", (unsigned long long)aIdx[d]);
      }
      zName = sqlite3_str_finish(pStr);
      if( zName==0 ) return SQLITE_NOMEM;
    }
    if( *piOff > MB_LAYOUT_MAX_RECORD ){
      sqlite3_free(zName);
      *pzErr = sqlite3_mprintf("membase: %s: the record is larger than %llu "
                               "bytes", zFile,
                               (unsigned long long)MB_LAYOUT_MAX_RECORD);
      return SQLITE_ERROR;
    }
    rc = mb_layout_add(pL, zName ? zName : zBase, eType, bBig, nByte, *piOff,
                       zFile, pzErr);
    sqlite3_free(zName);
    if( rc ) return rc;
    *piOff += nByte;
  }
  return SQLITE_OK;
}

/* A shape tuple (or a single integer) into aDim; returns the count or -1. */
static int npyShape(const PyNode *p, uint64_t *aDim){
  int i;
  if( p->eType==PY_INT ){ aDim[0] = p->v; return 1; }
  if( p->eType!=PY_TUPLE && p->eType!=PY_LIST ) return -1;
  if( p->nKid>MB_NPY_MAX_DIM ) return -1;
  for(i=0; i<p->nKid; i++){
    if( p->aKid[i]->eType!=PY_INT ) return -1;
    aDim[i] = p->aKid[i]->v;
  }
  return p->nKid;
}

static char *npyShapeText(const mb_npy *p, uint64_t nRows);

/* ------------------------------------------------ reading */

int mb_npy_header_size(
  const unsigned char *a,
  uint64_t nFile,
  const char *zFile,
  uint64_t *pnHeader,
  char **pzErr
){
  uint64_t nText, nPre;
  if( nFile<10 || memcmp(a, "\x93NUMPY", 6)!=0 ){
    *pzErr = sqlite3_mprintf("membase: %s: not a .npy file (no \\x93NUMPY "
                             "magic)", zFile);
    return SQLITE_ERROR;
  }
  if( a[6]==1 ){
    nPre = 10;
    nText = (uint64_t)a[8] | (uint64_t)a[9]<<8;
  }else if( a[6]==2 || a[6]==3 ){
    if( nFile<12 ) goto truncated;
    nPre = 12;
    nText = (uint64_t)a[8] | (uint64_t)a[9]<<8 | (uint64_t)a[10]<<16
          | (uint64_t)a[11]<<24;
  }else{
    *pzErr = sqlite3_mprintf("membase: %s: unsupported .npy format version "
                             "%d.%d", zFile, a[6], a[7]);
    return SQLITE_ERROR;
  }
  if( nText>MB_NPY_MAX_HEADER ){
    *pzErr = sqlite3_mprintf("membase: %s: corrupt .npy header: header "
                             "length %llu is too large", zFile,
                             (unsigned long long)nText);
    return SQLITE_ERROR;
  }
  if( nPre+nText>nFile ) goto truncated;
  *pnHeader = nPre+nText;
  return SQLITE_OK;
truncated:
  *pzErr = sqlite3_mprintf("membase: %s: truncated .npy header (the file "
                           "has %llu bytes)", zFile,
                           (unsigned long long)nFile);
  return SQLITE_ERROR;
}

void mb_npy_free(mb_npy *p){
  sqlite3_free(p->zDescr);
  memset(p, 0, sizeof(*p));
}

/* Versions 1 and 2 of the format have an ASCII header (3 is UTF-8). */
static int npyCheckAscii(const unsigned char *a, size_t n, uint64_t nPre,
                         const char *zFile, int iMajor, char **pzErr){
  size_t i;
  if( iMajor>=3 ) return SQLITE_OK;
  for(i=(size_t)nPre; i<n; i++){
    if( a[i]>=0x80 ){
      *pzErr = sqlite3_mprintf("membase: %s: corrupt .npy header: "
                               "non-ASCII byte in a version %d header",
                               zFile, iMajor);
      return SQLITE_ERROR;
    }
  }
  return SQLITE_OK;
}

/* The shape and order of the array: rows = shape[0], the trailing axes
** (*paTrail, *pnTrail; *pnItem elements per row) become columns. */
static int npyReadShape(
  mb_npy *p,
  const PyNode *pFortran, const PyNode *pShape,
  const char *zFile,
  const uint64_t **paTrail, int *pnTrail, uint64_t *pnItem,
  char **pzErr
){
  uint64_t nItem = 1;
  int i;
  p->nDim = npyShape(pShape, p->aShape);
  if( p->nDim<0 ){
    *pzErr = sqlite3_mprintf("membase: %s: corrupt .npy header: bad shape",
                             zFile);
    return SQLITE_ERROR;
  }
  if( pFortran->v && p->nDim>1 ){
    *pzErr = sqlite3_mprintf("membase: %s: Fortran-order (column-major) "
                             "arrays are not supported; save it with "
                             "numpy.ascontiguousarray", zFile);
    return SQLITE_ERROR;
  }
  p->nRows = p->nDim ? p->aShape[0] : 1;
  *paTrail = p->nDim ? p->aShape+1 : p->aShape;
  *pnTrail = p->nDim ? p->nDim-1 : 0;
  for(i=0; i<*pnTrail; i++){
    uint64_t d = (*paTrail)[i];
    if( d!=0 && nItem > UINT64_MAX / d ){
      *pzErr = sqlite3_mprintf("membase: %s: corrupt .npy header: the shape "
                               "overflows", zFile);
      return SQLITE_ERROR;
    }
    nItem *= d;
  }
  *pnItem = nItem;
  return SQLITE_OK;
}

/* A plain dtype ('<f8'): one column "value", or "value_I_J" over the
** trailing axes. */
static int npyPlainDescr(
  mb_npy *p, mb_layout *pL, const PyNode *pDescr, const char *zFile,
  const uint64_t *aTrail, int nTrail, uint64_t *piOff, char **pzErr
){
  int eType, bBig;
  uint64_t nByte;
  p->zDescr = sqlite3_mprintf("'%.*s'", pDescr->n, pDescr->z);
  if( p->zDescr==0 ) return SQLITE_NOMEM;
  if( !npyScalar(zFile, 0, pDescr->z, pDescr->n, &eType, &bBig, &nByte,
                 pzErr) ){
    return SQLITE_ERROR;
  }
  return npyAddField(pL, zFile, "value", eType, bBig, nByte, aTrail, nTrail,
                     piOff, pzErr);
}

/* The name of field i (1-based in messages) of a structured dtype into
** zName[0..nName): the name of (name, type) or of ((title, name), type). */
static int npyFieldName(const PyNode *pF, int i, const char *zFile,
                        char *zName, int nName, char **pzErr){
  const PyNode *pName;
  if( (pF->eType!=PY_TUPLE && pF->eType!=PY_LIST)
   || (pF->nKid!=2 && pF->nKid!=3) ){
    *pzErr = sqlite3_mprintf("membase: %s: corrupt .npy header: field %d "
                             "of the descr is not (name, type[, shape])",
                             zFile, i+1);
    return SQLITE_ERROR;
  }
  pName = pF->aKid[0];
  if( pName->eType==PY_TUPLE && pName->nKid==2 ){
    pName = pName->aKid[1];   /* (title, name) */
  }
  if( pName->eType!=PY_STR || pName->n>=nName ){
    *pzErr = sqlite3_mprintf("membase: %s: corrupt .npy header: field %d "
                             "has no usable name", zFile, i+1);
    return SQLITE_ERROR;
  }
  memcpy(zName, pName->z, (size_t)pName->n);
  zName[pName->n] = 0;
  return SQLITE_OK;
}

/* The axes a field unrolls over into aSub (returns their count, or -1 with
** *pzErr): the trailing axes of the array first, then the field's
** sub-array shape. */
static int npyFieldAxes(const PyNode *pF, const char *zName,
                        const char *zFile, const uint64_t *aTrail,
                        int nTrail, uint64_t *aSub, char **pzErr){
  int nSub = 0, t;
  for(t=0; t<nTrail; t++) aSub[nSub++] = aTrail[t];
  if( pF->nKid==3 ){
    int nDim = npyShape(pF->aKid[2], aSub+nSub);
    if( nDim<0 || nSub+nDim>MB_NPY_MAX_DIM ){
      *pzErr = sqlite3_mprintf("membase: %s: the sub-array field \"%s\" "
                               "has a shape that cannot be mapped", zFile,
                               zName);
      return -1;
    }
    nSub += nDim;
  }
  return nSub;
}

/* numpy's padding (a dtype with offsets or an itemsize beyond its
** fields): nByte skipped bytes per element of aSub, as np.load skips
** them. The trailing axes here are all 1 (npyStructDescr checked it). */
static int npyAddPadding(mb_layout *pL, const char *zFile, uint64_t nByte,
                         const uint64_t *aSub, int nSub, uint64_t *piOff,
                         char **pzErr){
  uint64_t nPad = nByte;
  int t;
  for(t=0; t<nSub; t++){
    if( aSub[t]!=0 && nPad > MB_LAYOUT_MAX_RECORD / aSub[t] ){
      nPad = MB_LAYOUT_MAX_RECORD + 1;
      break;
    }
    nPad *= aSub[t];
  }
  if( nPad==0 ) return SQLITE_OK;
  return npyAddField(pL, zFile, 0, MB_TYPE_PAD, 0, nPad, 0, 0, piOff, pzErr);
}

/* Field i of a structured dtype: its columns (or its padding). */
static int npyStructField(
  mb_layout *pL, const PyNode *pF, int i, const char *zFile,
  const uint64_t *aTrail, int nTrail, uint64_t *piOff, char **pzErr
){
  const PyNode *pType;
  uint64_t aSub[MB_NPY_MAX_DIM + 1];
  uint64_t nByte;
  int nSub, eType, bBig;
  char zName[128];
  char zLabel[sizeof(zName)+2];
  int rc = npyFieldName(pF, i, zFile, zName, (int)sizeof(zName), pzErr);
  if( rc ) return rc;
  pType = pF->aKid[1];
  if( pType->eType!=PY_STR ){
    *pzErr = sqlite3_mprintf("membase: %s: field \"%s\" is a nested "
                             "structure, which cannot be mapped", zFile,
                             zName);
    return SQLITE_ERROR;
  }
  if( zName[0] ) sqlite3_snprintf(sizeof(zLabel), zLabel, "\"%s\"", zName);
  else sqlite3_snprintf(sizeof(zLabel), zLabel, "%d", i+1);
  if( !npyScalar(zFile, zLabel, pType->z, pType->n, &eType, &bBig,
                 &nByte, pzErr) ){
    return SQLITE_ERROR;
  }
  nSub = npyFieldAxes(pF, zName, zFile, aTrail, nTrail, aSub, pzErr);
  if( nSub<0 ) return SQLITE_ERROR;
  if( zName[0]==0 && eType==MB_TYPE_BLOB ){
    return npyAddPadding(pL, zFile, nByte, aSub, nSub, piOff, pzErr);
  }
  if( zName[0]==0 ){
    *pzErr = sqlite3_mprintf("membase: %s: field %d (dtype '%.*s') has "
                             "an empty name; only padding (void "
                             "fields, '|V<n>') may be nameless", zFile,
                             i+1, pType->n, pType->z);
    return SQLITE_ERROR;
  }
  return npyAddField(pL, zFile, zName, eType, bBig, nByte, aSub, nSub,
                     piOff, pzErr);
}

/* A structured dtype ([('a', '<i4'), ...]): the columns of each field. */
static int npyStructDescr(
  mb_npy *p, mb_layout *pL, const PyNode *pDescr, const char *zFile,
  const uint64_t *aTrail, int nTrail, uint64_t nItem, uint64_t *piOff,
  char **pzErr
){
  int i, rc;
  /* keep the descr's text verbatim for rewriting the header */
  const char *zStart = pDescr->zSrc, *zEnd = pDescr->zSrcEnd;
  p->zDescr = sqlite3_mprintf("%.*s", (int)(zEnd-zStart), zStart);
  if( p->zDescr==0 ) return SQLITE_NOMEM;
  if( pDescr->nKid==0 ){
    *pzErr = sqlite3_mprintf("membase: %s: record size is 0 (the dtype has "
                             "no fields)", zFile);
    return SQLITE_ERROR;
  }
  if( nTrail>0 && nItem>1 ){
    /* a structured N-d array: unrolling the fields per trailing index
    ** would make the record order field-major; numpy stores it
    ** index-major. Refuse rather than map it wrong. Shapes (n, 1, ...)
    ** are n records. */
    char *zShape = npyShapeText(p, p->aShape[0]);
    *pzErr = sqlite3_mprintf("membase: %s: a structured array of shape %s "
                             "cannot be mapped: one record per row needs "
                             "the shape (n,) or (n, 1)", zFile,
                             zShape ? zShape : "?");
    sqlite3_free(zShape);
    return SQLITE_ERROR;
  }
  for(i=0; i<pDescr->nKid; i++){
    rc = npyStructField(pL, pDescr->aKid[i], i, zFile, aTrail, nTrail, piOff,
                        pzErr);
    if( rc ) return rc;
  }
  return SQLITE_OK;
}

/* The header's dict: its descr, fortran_order and shape, read into p and
** pL. */
static int npyReadDict(mb_npy *p, mb_layout *pL, const PyNode *pRoot,
                       const char *zFile, char **pzErr){
  const PyNode *pDescr, *pFortran, *pShape;
  const uint64_t *aTrail;
  uint64_t iOff = 0, nItem = 1;
  int nTrail, rc;
  pDescr = pyDictGet(pRoot, "descr");
  pFortran = pyDictGet(pRoot, "fortran_order");
  pShape = pyDictGet(pRoot, "shape");
  if( pDescr==0 || pFortran==0 || pShape==0 || pFortran->eType!=PY_BOOL ){
    *pzErr = sqlite3_mprintf("membase: %s: corrupt .npy header: it needs "
                             "'descr', 'fortran_order' and 'shape'", zFile);
    return SQLITE_ERROR;
  }
  rc = npyReadShape(p, pFortran, pShape, zFile, &aTrail, &nTrail, &nItem,
                    pzErr);
  if( rc ) return rc;
  if( pDescr->eType==PY_STR ){
    rc = npyPlainDescr(p, pL, pDescr, zFile, aTrail, nTrail, &iOff, pzErr);
  }else if( pDescr->eType==PY_LIST ){
    rc = npyStructDescr(p, pL, pDescr, zFile, aTrail, nTrail, nItem, &iOff,
                        pzErr);
  }else{
    *pzErr = sqlite3_mprintf("membase: %s: corrupt .npy header: the descr "
                             "is neither a string nor a list", zFile);
    return SQLITE_ERROR;
  }
  if( rc ) return rc;
  if( pL->nRecord==0 || pL->nCol==0 ){
    *pzErr = sqlite3_mprintf("membase: %s: record size is 0", zFile);
    return SQLITE_ERROR;
  }
  pL->nAlign = 1;
  return SQLITE_OK;
}

int mb_npy_parse(
  const unsigned char *a,
  size_t n,
  const char *zFile,
  mb_npy *p,
  mb_layout *pL,
  char **pzErr
){
  PyReader r;
  PyNode *pRoot;
  uint64_t nPre = a[6]==1 ? 10 : 12;
  int rc;

  memset(p, 0, sizeof(*p));
  memset(pL, 0, sizeof(*pL));
  p->iMajor = a[6];
  p->iMinor = a[7];
  p->nHeader = n;
  rc = npyCheckAscii(a, n, nPre, zFile, p->iMajor, pzErr);
  if( rc ) return rc;
  memset(&r, 0, sizeof(r));
  r.z = (const char*)a + nPre;
  r.zEnd = (const char*)a + n;
  pRoot = pyValue(&r);
  if( pRoot==0 || pRoot->eType!=PY_DICT ){
    *pzErr = sqlite3_mprintf("membase: %s: corrupt .npy header: %s", zFile,
                             r.zErr ? r.zErr : "not a dict");
    rc = SQLITE_ERROR;
  }else{
    rc = npyReadDict(p, pL, pRoot, zFile, pzErr);
  }
  pyFree(pRoot);
  if( rc!=SQLITE_OK ){
    mb_layout_free(pL);
    mb_npy_free(p);
    if( rc==SQLITE_NOMEM ){ sqlite3_free(*pzErr); *pzErr = 0; }
  }
  return rc;
}

/* ------------------------------------------------ writing */

static char *npyShapeText(const mb_npy *p, uint64_t nRows){
  sqlite3_str *pStr = sqlite3_str_new(0);
  int i;
  sqlite3_str_appendf(pStr, "(%llu,", (unsigned long long)nRows);
  for(i=1; i<p->nDim; i++){
    sqlite3_str_appendf(pStr, "%s%llu", i>1 ? ", " : " ",
                        (unsigned long long)p->aShape[i]);
  }
  sqlite3_str_appendf(pStr, ")");
  return sqlite3_str_finish(pStr);
}

/* Write prefix + text padded to exactly nTotal bytes (nTotal>0), or to the
** next multiple of 64 with nSpare extra spaces (nTotal==0). */
static int npyEmit(
  int iMajor,
  const char *zText,
  size_t nSpare,
  size_t nTotal,
  unsigned char *aOut,          /* nTotal bytes, or 0 to allocate */
  unsigned char **paNew,
  size_t *pnNew
){
  size_t nText = strlen(zText);
  size_t nPre = iMajor==1 ? 10 : 12;
  size_t nAll, nHdr;
  unsigned char *a;
  if( nTotal ){
    if( nPre+nText+1>nTotal ) return SQLITE_FULL;
    nAll = nTotal;
  }else{
    nAll = (nPre + nText + nSpare + 1 + 63) / 64 * 64;
  }
  nHdr = nAll - nPre;
  if( iMajor==1 && nHdr>65535 ) return SQLITE_FULL;
  a = aOut ? aOut : sqlite3_malloc64(nAll);
  if( a==0 ) return SQLITE_NOMEM;
  memcpy(a, "\x93NUMPY", 6);
  a[6] = (unsigned char)iMajor;
  a[7] = 0;
  a[8] = (unsigned char)(nHdr & 0xff);
  a[9] = (unsigned char)((nHdr>>8) & 0xff);
  if( nPre==12 ){
    a[10] = (unsigned char)((nHdr>>16) & 0xff);
    a[11] = (unsigned char)((nHdr>>24) & 0xff);
  }
  memcpy(a+nPre, zText, nText);
  memset(a+nPre+nText, ' ', nAll-nPre-nText-1);
  a[nAll-1] = '\n';
  if( paNew ){ *paNew = a; *pnNew = nAll; }
  return SQLITE_OK;
}

static char *npyDescrOf(const mb_field *f){
  char cOrder = f->bBig ? '>' : '<';
  switch( f->eType ){
    case MB_TYPE_BOOL: return sqlite3_mprintf("|b1");
    case MB_TYPE_CHAR: return sqlite3_mprintf("|S%u", f->nByte);
    case MB_TYPE_BLOB:
    case MB_TYPE_PAD:  return sqlite3_mprintf("|V%u", f->nByte);
    case MB_TYPE_I8:   return sqlite3_mprintf("|i1");
    case MB_TYPE_U8:   return sqlite3_mprintf("|u1");
    case MB_TYPE_F32: case MB_TYPE_F64:
      return sqlite3_mprintf("%cf%u", cOrder, f->nByte);
    case MB_TYPE_I16: case MB_TYPE_I32: case MB_TYPE_I64:
      return sqlite3_mprintf("%ci%u", cOrder, f->nByte);
    default:
      return sqlite3_mprintf("%cu%u", cOrder, f->nByte);
  }
}

int mb_npy_new_header(
  const mb_layout *pL,
  uint64_t nRecord,
  unsigned char **paOut,
  size_t *pnOut,
  char **pzErr
){
  sqlite3_str *pStr = sqlite3_str_new(0);
  char *zText;
  uint64_t iOff = 0;
  int i, rc;
  /* one column named "value": a plain 1-d array, else a structured one */
  if( pL->nField==1 && sqlite3_stricmp(pL->aField[0].zName, "value")==0
   && nRecord==pL->aField[0].nByte ){
    char *z = npyDescrOf(&pL->aField[0]);
    sqlite3_str_appendf(pStr, "{'descr': '%s', ", z);
    sqlite3_free(z);
  }else{
    sqlite3_str_appendf(pStr, "{'descr': [");
    for(i=0; i<pL->nField; i++){
      const mb_field *f = &pL->aField[i];
      char *z;
      if( f->iOff>iOff ){
        sqlite3_str_appendf(pStr, "('', '|V%llu'), ",
                            (unsigned long long)(f->iOff-iOff));
      }
      z = npyDescrOf(f);
      sqlite3_str_appendf(pStr, "('%s', '%s'), ", f->zName ? f->zName : "", z);
      sqlite3_free(z);
      iOff = f->iOff + f->nByte;
    }
    if( nRecord>iOff ){
      sqlite3_str_appendf(pStr, "('', '|V%llu'), ",
                          (unsigned long long)(nRecord-iOff));
    }
    sqlite3_str_appendf(pStr, "], ");
  }
  sqlite3_str_appendf(pStr, "'fortran_order': False, 'shape': (0,), }");
  zText = sqlite3_str_finish(pStr);
  if( zText==0 ) return SQLITE_NOMEM;
  /* numpy's own growth allowance: room for 21 digits of shape[0] */
  rc = npyEmit(1, zText, 21, 0, 0, paOut, pnOut);
  if( rc==SQLITE_FULL ) rc = npyEmit(2, zText, 21, 0, 0, paOut, pnOut);
  sqlite3_free(zText);
  if( rc==SQLITE_FULL ){
    *pzErr = sqlite3_mprintf("membase: the .npy header would be too large");
    rc = SQLITE_ERROR;
  }
  return rc;
}

int mb_npy_rewrite(const mb_npy *p, uint64_t nRows, unsigned char *a){
  char *zShape;
  /* A row count no reader takes back (the parser stops at 2^63-1). */
  if( nRows>(uint64_t)INT64_MAX ) return SQLITE_FULL;
  zShape = npyShapeText(p, nRows);
  char *zText;
  int rc;
  if( zShape==0 ) return SQLITE_NOMEM;
  zText = sqlite3_mprintf("{'descr': %s, 'fortran_order': False, 'shape': "
                          "%s, }", p->zDescr, zShape);
  sqlite3_free(zShape);
  if( zText==0 ) return SQLITE_NOMEM;
  rc = npyEmit(p->iMajor, zText, 0, (size_t)p->nHeader, a, 0, 0);
  sqlite3_free(zText);
  return rc;
}
