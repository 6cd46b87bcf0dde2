/*
** mb_lines_int.h -- membase_lines' internal model, shared by its files:
**   mb_lines.c        the module: options, connect, planning, registration
**   mb_lines_cursor.c the cursor: open, filter (file, bounds, seek by line
**                     number), column
**   mb_lines_scan.c   the scan: the three paths of xNext, scan errors
**   mb_lines_index.c  the SQL function membase_lines_index()
** mb_lines.c has the user manual.
*/
#ifndef MB_LINES_INT_H
#define MB_LINES_INT_H

#include <stdint.h>
#include "sqlite3ext.h"
#include "mb_map.h"
#include "mb_find.h"
#include "mb_window.h"

#define MB_LINES_SCHEMA \
  "CREATE TABLE x(line TEXT, offset INTEGER, length INTEGER," \
  " file HIDDEN, delimiter HIDDEN)"
enum {
  MB_LINES_LINE = 0,
  MB_LINES_OFFSET,
  MB_LINES_LENGTH,
  MB_LINES_FILE,
  MB_LINES_DELIM
};

/* idxNum bits; the xFilter arguments come in this order. */
#define MB_IDX_FILE   0x001
#define MB_IDX_DELIM  0x002
#define MB_IDX_EQ     0x004   /* rowid = ? */
#define MB_IDX_LO     0x008   /* rowid >= ? (or >) */
#define MB_IDX_LO_GT  0x010   /*   ... it is > */
#define MB_IDX_HI     0x020   /* rowid <= ? (or <) */
#define MB_IDX_HI_LT  0x040   /*   ... it is < */
#define MB_IDX_LIKE   0x080   /* line LIKE ? */
#define MB_IDX_GLOB   0x100   /* line GLOB ? */
#define MB_IDX_NOTEXT 0x200   /* neither line nor length is used (count(*)) */

/* A scan that needs no line's bytes finds this many line ends per guarded
** search of the mapping, looking at most this far ahead per search. */
#define MB_LINES_BATCH      512
#define MB_LINES_BATCH_SPAN (1u << 20)

typedef struct MbLinesTable MbLinesTable;
struct MbLinesTable {
  sqlite3_vtab base;          /* base class: must be first */
  sqlite3 *db;
  char *zFile;                /* CREATE form: the file; 0 for the function */
  char *zDelim;               /* CREATE form: the delimiter as written */
  unsigned char delim;        /* CREATE form: the delimiter */
  int eDrop;                  /* dropbehind=: mb_dropbehind, -1 = default */
  mb_map *pPin;               /* the last file scanned, kept mapped */
};

typedef struct MbLinesCursor MbLinesCursor;
struct MbLinesCursor {
  sqlite3_vtab_cursor base;   /* base class: must be first */
  char *zFile;                /* the file of this scan (for messages) */
  char *zDelimArg;            /* the delimiter argument, as given */
  mb_map *pMap;               /* registry reference, held until close */
  mb_window win;              /* guarded windows over the file */
  int bWin;                   /* win is initialised */
  unsigned char delim;
  int bEof;
  int bChecked;               /* the end-of-scan size check was done */
  uint64_t iEnd;              /* scan bytes [0, iEnd) */
  uint64_t iNext;             /* start of the next line */
  uint64_t iStart, iStop;     /* the current line: [iStart, iStop) */
  sqlite3_int64 iRowid;       /* its number; the line before iNext is iRowid */
  sqlite3_int64 iLast;        /* last rowid wanted */
  int bFind;                  /* prefilter with finder */
  mb_finder finder;
  uint64_t iSearch;           /* search from here (>= iNext, same line) */
  unsigned char *aLine;       /* a line that spans windows, copied */
  size_t nLineAlloc;
  int bNoText;                /* no column needs the bytes: search in place */
  int nEnds, iEnds;           /* aEnds[iEnds..nEnds) are the next line ends */
  uint64_t iChecked;          /* the file was checked to hold [0, iChecked) */
  uint64_t aEnds[MB_LINES_BATCH];
};

/* The value of the hex digit c, or -1. */
static inline int mbLinesHexDigit(char c){
  if( c>='0' && c<='9' ) return c-'0';
  if( c>='a' && c<='f' ) return c-'a'+10;
  if( c>='A' && c<='F' ) return c-'A'+10;
  return -1;
}

/* Parse a delimiter as written: one byte, or an escape
** (\n \r \t \0 \\ \xHH). 0 on success. Here, not in one of the files:
** connect, xFilter and membase_lines_index all read one, and their files
** must not call each other. */
static inline int mbLinesParseDelim(const unsigned char *z, int n, unsigned char *pOut){
  if( n==1 ){ *pOut = z[0]; return 0; }
  if( n==2 && z[0]=='\\' ){
    switch( z[1] ){
      case 'n':  *pOut = '\n'; return 0;
      case 'r':  *pOut = '\r'; return 0;
      case 't':  *pOut = '\t'; return 0;
      case '0':  *pOut = 0;    return 0;
      case '\\': *pOut = '\\'; return 0;
    }
    return 1;
  }
  if( n==4 && z[0]=='\\' && z[1]=='x' ){
    int h = mbLinesHexDigit((char)z[2]), l = mbLinesHexDigit((char)z[3]);
    if( h<0 || l<0 ) return 1;
    *pOut = (unsigned char)(h*16+l);
    return 0;
  }
  return 1;
}

/* mb_lines_scan.c */
/* The SQLite code and message for core result mrc met while reading. */
int mbLinesReadError(MbLinesCursor *pCur, int mrc);
int mbLinesNext(sqlite3_vtab_cursor *cur);

/* mb_lines_cursor.c */
int mbLinesOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor);
int mbLinesClose(sqlite3_vtab_cursor *cur);
int mbLinesFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                  int argc, sqlite3_value **argv);
int mbLinesEof(sqlite3_vtab_cursor *cur);
int mbLinesColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i);
int mbLinesRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid);

/* mb_lines_index.c */
void mbLinesIndexFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif /* MB_LINES_INT_H */
