/*
** fuzz_npy.c -- libFuzzer target for the .npy header reader
** (vtab/mb_npy.c: mb_npy_header_size, mb_npy_parse, mb_npy_rewrite).
**
** Input: the first bytes of a file, as vtab/mb_records.c reads them: the
** prefix (magic, version, header length) goes to mb_npy_header_size, and
** when the whole header is there, exactly that many bytes (a buffer of its
** own size, so ASan sees any read past it) go to mb_npy_parse.
**
** A parsed header must satisfy mb_npy.h's contract (abort() otherwise):
** nHeader is the size asked for, 0 <= nDim <= MB_NPY_MAX_DIM, nRows is
** shape[0] (1 for a scalar), the layout has columns and fits its record.
** Then the append path: the header is rewritten for more rows
** (mb_npy_rewrite, same size) and read back: the same layout, the new row
** count, the other axes unchanged.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "mb_layout.h"
#include "mb_npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do{ if(!(x)){ \
  fprintf(stderr, "fuzz_npy: check failed at line %d: %s\n", __LINE__, #x); \
  abort(); } }while(0)

static void checkParsed(const mb_npy *p, const mb_layout *l, size_t n){
  CHECK( p->nHeader==n );
  CHECK( p->iMajor>=1 && p->iMajor<=3 );
  CHECK( p->nDim>=0 && p->nDim<=MB_NPY_MAX_DIM );
  CHECK( p->nRows==(p->nDim==0 ? 1 : p->aShape[0]) );
  CHECK( p->zDescr!=0 );
  CHECK( l->nCol>=1 && l->nCol<=MB_LAYOUT_MAX_COLUMNS );
  CHECK( l->nRecord>=1 && l->nRecord<=MB_LAYOUT_MAX_RECORD+8 );
  for(int i=0; i<l->nField; i++){
    CHECK( l->aField[i].nByte>=1 );
    CHECK( l->aField[i].iOff+l->aField[i].nByte<=l->nRecord );
  }
}

static int sameLayout(const mb_layout *a, const mb_layout *b){
  if( a->nField!=b->nField || a->nCol!=b->nCol || a->nRecord!=b->nRecord ) return 0;
  for(int i=0; i<a->nField; i++){
    const mb_field *x = &a->aField[i], *y = &b->aField[i];
    if( x->eType!=y->eType || x->bBig!=y->bBig || x->nByte!=y->nByte
     || x->iOff!=y->iOff ) return 0;
    if( (x->zName==0)!=(y->zName==0) ) return 0;
    if( x->zName && strcmp(x->zName, y->zName)!=0 ) return 0;
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  unsigned char aPre[MB_NPY_PREFIX];
  unsigned char *a;
  uint64_t nHeader = 0;
  char *zErr = 0;
  mb_npy npy;
  mb_layout lay;
  size_t nPre = size<MB_NPY_PREFIX ? size : MB_NPY_PREFIX;
  int rc;

  /* The prefix as the table reads it: at most 12 bytes, fewer for a short
  ** file (the rest zeroed, so a run is repeatable). */
  memset(aPre, 0, sizeof(aPre));
  memcpy(aPre, data, nPre);
  rc = mb_npy_header_size(aPre, size, "fuzz.npy", &nHeader, &zErr);
  if( rc!=SQLITE_OK ){
    CHECK( zErr!=0 );
    sqlite3_free(zErr);
    return 0;
  }
  CHECK( nHeader>=10 && nHeader<=size );
  a = malloc((size_t)nHeader);
  if( a==0 ) return 0;
  memcpy(a, data, (size_t)nHeader);
  rc = mb_npy_parse(a, (size_t)nHeader, "fuzz.npy", &npy, &lay, &zErr);
  if( rc!=SQLITE_OK ){
    CHECK( rc==SQLITE_NOMEM || zErr!=0 );
    sqlite3_free(zErr);
    free(a);
    return 0;
  }
  CHECK( zErr==0 );
  checkParsed(&npy, &lay, (size_t)nHeader);

  /* Appends: rewrite the shape for a few more rows, read it back. */
  if( npy.nDim>=1 ){
    uint64_t nNew = npy.nRows + 1 + (size>0 ? data[size-1] : 0);
    unsigned char *b = malloc((size_t)nHeader);
    if( b ){
      rc = mb_npy_rewrite(&npy, nNew, b);
      if( rc==SQLITE_OK ){
        mb_npy npy2;
        mb_layout lay2;
        uint64_t n2 = 0;
        rc = mb_npy_header_size(b, nHeader, "fuzz.npy", &n2, &zErr);
        CHECK( rc==SQLITE_OK && n2==nHeader );
        rc = mb_npy_parse(b, (size_t)nHeader, "fuzz.npy", &npy2, &lay2, &zErr);
        if( rc!=SQLITE_OK ){
          fprintf(stderr, "fuzz_npy: rewritten header refused: %s\n%.*s\n",
                  zErr ? zErr : "?", (int)nHeader, (const char*)b);
          abort();
        }
        CHECK( npy2.nRows==nNew );
        CHECK( npy2.nDim==npy.nDim );
        for(int i=1; i<npy.nDim; i++) CHECK( npy2.aShape[i]==npy.aShape[i] );
        CHECK( sameLayout(&lay, &lay2) );
        mb_layout_free(&lay2);
        mb_npy_free(&npy2);
      }else{
        CHECK( rc==SQLITE_FULL || rc==SQLITE_NOMEM );
      }
      free(b);
    }
  }
  mb_layout_free(&lay);
  mb_npy_free(&npy);
  free(a);
  return 0;
}
