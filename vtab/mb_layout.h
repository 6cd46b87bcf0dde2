/*
** mb_layout.h -- the record layout of a membase table: the parsed form of
** the layout language (vtab/mb_layout.c) and of a .npy header's dtype
** (vtab/mb_npy.c). Internal to the extension.
**
** A layout is a list of fields at fixed byte offsets inside a record.
** Padding is a field with no name (zName==0): it takes bytes, it is not a
** column. Columns are the named fields, in order.
*/
#ifndef MB_LAYOUT_H
#define MB_LAYOUT_H

#include <stdint.h>

/* Field types. The numeric ones are ordered so that the size is implied. */
enum {
  MB_TYPE_I8 = 0, MB_TYPE_I16, MB_TYPE_I32, MB_TYPE_I64,
  MB_TYPE_U8, MB_TYPE_U16, MB_TYPE_U32, MB_TYPE_U64,
  MB_TYPE_F32, MB_TYPE_F64,
  MB_TYPE_BOOL,   /* one byte, 0 or 1 (any non-zero byte reads as 1) */
  MB_TYPE_CHAR,   /* char(N): text, NUL-padded */
  MB_TYPE_BLOB,   /* blob(N) */
  MB_TYPE_PAD     /* pad(N): bytes skipped */
};

/* The largest record (and stride) accepted: 1 GiB. */
#define MB_LAYOUT_MAX_RECORD ((uint64_t)1 << 30)
/* The most columns a layout may have (SQLite's default SQLITE_MAX_COLUMN
** is 2000; keep well below it). */
#define MB_LAYOUT_MAX_COLUMNS 1000

typedef struct mb_field {
  char *zName;       /* column name; 0 for padding */
  int eType;         /* MB_TYPE_* */
  int bBig;          /* 1: stored big-endian */
  uint32_t nByte;    /* bytes in the record */
  uint64_t iOff;     /* offset of the first byte inside the record */
} mb_field;

typedef struct mb_layout {
  int nField;        /* entries in aField (padding included) */
  int nCol;          /* named fields */
  mb_field *aField;  /* sqlite3_malloc'ed */
  uint64_t nRecord;  /* bytes from the first field to the end of the last,
                     ** rounded up to the record alignment */
  uint32_t nAlign;   /* the largest field alignment (1 if packed) */
} mb_layout;

/* Parse the layout language (see vtab/mb_records.c for the manual):
**   zLayout   e.g. "ts i64, price f64be, _ pad(3), sym char(8)"
**   bBig      default byte order of numeric fields: 1 big, 0 little
**   bNatural  align=natural: C-struct alignment of every field and of
**             the record size
** On error returns SQLITE_ERROR and sets *pzErr (sqlite3_malloc'ed) to a
** message naming the token and its position (1-based characters); *p is
** then empty. Free a parsed layout with mb_layout_free(). */
int mb_layout_parse(const char *zLayout, int bBig, int bNatural,
                    mb_layout *p, char **pzErr);

/* Append a field at offset iOff (the .npy reader places fields itself).
** zName 0 = padding. Checks the name (identifier, not reserved, unique)
** and the column count; zWhere names the place for messages ("the .npy
** descr"). Returns SQLITE_OK, SQLITE_NOMEM or SQLITE_ERROR with *pzErr. */
int mb_layout_add(mb_layout *p, const char *zName, int eType, int bBig,
                  uint64_t nByte, uint64_t iOff, const char *zWhere,
                  char **pzErr);

/* Free the fields; leaves *p empty. */
void mb_layout_free(mb_layout *p);

/* The type's name as the layout language writes it ("i64", "char"). */
const char *mb_type_name(int eType);

/* The SQL type of a field's column: INTEGER, REAL, TEXT or BLOB. */
const char *mb_type_sql(int eType);

/* Natural alignment of a field of this type and size. */
uint32_t mb_type_align(int eType, uint32_t nByte);

#endif /* MB_LAYOUT_H */
