/*
** fuzz_layout.c -- libFuzzer target for the layout language parser
** (vtab/mb_layout.c, mb_layout_parse).
**
** Input: one flags byte, then the layout text (NUL-terminated copy).
**   flags bit 0: default byte order big (byteorder=big)
**   flags bit 1: align=natural
** Besides "no crash, no sanitizer report", a parsed layout must satisfy
** the contract of vtab/mb_layout.h (checked with abort(), so libFuzzer
** keeps the input):
**   - every field lies inside the record, sizes are 1..MB_LAYOUT_MAX_RECORD;
**   - nCol counts the named fields, between 1 and MB_LAYOUT_MAX_COLUMNS;
**   - names are unique (case-insensitive) identifiers, none reserved;
**   - with align=natural, every field sits on its natural alignment and the
**     record size is a multiple of nAlign;
** and an error leaves the layout empty with a message. A parsed layout is
** then written as a .npy header (mb_npy_new_header) and read back
** (mb_npy_parse): the same columns (names compared as SQL does, without
** case), types, offsets and record size.
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
  fprintf(stderr, "fuzz_layout: check failed at line %d: %s\n", __LINE__, #x); \
  abort(); } }while(0)

static int isIdent(const char *z){
  if( !((*z>='a' && *z<='z') || (*z>='A' && *z<='Z') || *z=='_') ) return 0;
  for(; *z; z++){
    if( !((*z>='a' && *z<='z') || (*z>='A' && *z<='Z') || *z=='_'
          || (*z>='0' && *z<='9')) ) return 0;
  }
  return 1;
}

static void checkLayout(const mb_layout *p, int bNatural){
  int nCol = 0;
  CHECK( p->nField>=1 && p->aField!=0 );
  CHECK( p->nAlign>=1 );
  CHECK( p->nRecord>=1 && p->nRecord<=MB_LAYOUT_MAX_RECORD+8 );
  CHECK( p->nRecord % p->nAlign==0 );
  for(int i=0; i<p->nField; i++){
    const mb_field *f = &p->aField[i];
    CHECK( f->eType>=MB_TYPE_I8 && f->eType<=MB_TYPE_PAD );
    CHECK( f->nByte>=1 && f->nByte<=MB_LAYOUT_MAX_RECORD );
    CHECK( f->iOff+f->nByte<=p->nRecord );
    if( f->eType<=MB_TYPE_F64 ){
      static const uint32_t aSize[] = {1,2,4,8,1,2,4,8,4,8};
      CHECK( f->nByte==aSize[f->eType] );
    }
    if( bNatural ) CHECK( f->iOff % mb_type_align(f->eType, f->nByte)==0 );
    if( i>0 ) CHECK( f->iOff>=p->aField[i-1].iOff+p->aField[i-1].nByte );
    CHECK( (f->zName==0)==(f->eType==MB_TYPE_PAD) );
    if( f->zName ){
      nCol++;
      CHECK( isIdent(f->zName) );
      CHECK( sqlite3_stricmp(f->zName, "rowid")!=0 );
      CHECK( sqlite3_stricmp(f->zName, "oid")!=0 );
      CHECK( sqlite3_stricmp(f->zName, "_rowid_")!=0 );
      for(int j=0; j<i; j++){
        CHECK( p->aField[j].zName==0
               || sqlite3_stricmp(p->aField[j].zName, f->zName)!=0 );
      }
    }
    (void)mb_type_name(f->eType);
    (void)mb_type_sql(f->eType);
  }
  CHECK( nCol==p->nCol );
  CHECK( nCol>=1 && nCol<=MB_LAYOUT_MAX_COLUMNS );
}

/* The layout as a .npy header and back: the columns must survive. */
static void roundTrip(const mb_layout *p){
  unsigned char *a = 0;
  size_t n = 0;
  char *zErr = 0;
  uint64_t nHeader = 0;
  mb_npy npy;
  mb_layout q;
  int rc = mb_npy_new_header(p, p->nRecord, &a, &n, &zErr);
  if( rc!=SQLITE_OK ){
    CHECK( rc==SQLITE_NOMEM || zErr!=0 );
    sqlite3_free(zErr);
    return;
  }
  CHECK( n%64==0 && n>=64 );
  rc = mb_npy_header_size(a, n, "x.npy", &nHeader, &zErr);
  CHECK( rc==SQLITE_OK && nHeader==n );
  rc = mb_npy_parse(a, n, "x.npy", &npy, &q, &zErr);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "fuzz_layout: own header refused: %s\n%.*s\n",
            zErr ? zErr : "?", (int)n, (const char*)a);
    abort();
  }
  CHECK( npy.nRows==0 );
  CHECK( q.nCol==p->nCol );
  CHECK( q.nRecord==p->nRecord );
  for(int i=0, j=0; i<p->nField; i++){
    const mb_field *f = &p->aField[i];
    if( f->zName==0 ) continue;
    while( j<q.nField && q.aField[j].zName==0 ) j++;
    CHECK( j<q.nField );
    /* SQL names: case does not matter (a lone "VALUE f64" comes back as
    ** numpy's plain array, column "value"). */
    CHECK( sqlite3_stricmp(q.aField[j].zName, f->zName)==0 );
    CHECK( q.aField[j].iOff==f->iOff && q.aField[j].nByte==f->nByte );
    CHECK( q.aField[j].eType==f->eType );
    if( f->nByte>1 && f->eType<=MB_TYPE_F64 ) CHECK( q.aField[j].bBig==f->bBig );
    j++;
  }
  mb_layout_free(&q);
  mb_npy_free(&npy);
  sqlite3_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  mb_layout lay;
  char *zErr = 0;
  char *z;
  int bBig, bNatural, rc;
  if( size<1 ) return 0;
  bBig = data[0]&1;
  bNatural = (data[0]>>1)&1;
  z = malloc(size);
  if( z==0 ) return 0;
  memcpy(z, data+1, size-1);
  z[size-1] = 0;
  rc = mb_layout_parse(z, bBig, bNatural, &lay, &zErr);
  if( rc==SQLITE_OK ){
    CHECK( zErr==0 );
    checkLayout(&lay, bNatural);
    roundTrip(&lay);
    mb_layout_free(&lay);
    CHECK( lay.nField==0 && lay.aField==0 );
  }else{
    CHECK( rc==SQLITE_NOMEM || (zErr!=0 && strncmp(zErr, "membase: ", 9)==0) );
    CHECK( lay.nField==0 && lay.aField==0 );
    sqlite3_free(zErr);
  }
  free(z);
  return 0;
}
