/*
** mb_npy.h -- .npy headers (format versions 1, 2 and 3): read the layout
** and shape of an array, write a new header, update the shape after an
** append. Internal to the extension; see vtab/mb_npy.c.
*/
#ifndef MB_NPY_H
#define MB_NPY_H

#include <stddef.h>
#include <stdint.h>
#include "mb_layout.h"

#define MB_NPY_MAX_DIM 32
/* Bytes to read first: magic (6), version (2), header length (2 or 4). */
#define MB_NPY_PREFIX 12
/* Header text larger than this is refused as corrupt. */
#define MB_NPY_MAX_HEADER ((uint64_t)16 << 20)

typedef struct mb_npy {
  int iMajor, iMinor;     /* format version */
  uint64_t nHeader;       /* bytes before the data (prefix + header text) */
  int nDim;               /* entries in aShape; 0 for a scalar */
  uint64_t aShape[MB_NPY_MAX_DIM];
  uint64_t nRows;         /* records: shape[0] (1 for a scalar) */
  char *zDescr;           /* the descr's text as found (sqlite3_malloc) */
} mb_npy;

/* From the first MB_NPY_PREFIX bytes of a file of nFile bytes, the total
** header size (prefix + header text) to read next. SQLITE_ERROR with
** *pzErr naming zFile if the file is not a .npy file or the header length
** is impossible. */
int mb_npy_header_size(const unsigned char *a, uint64_t nFile,
                       const char *zFile, uint64_t *pnHeader, char **pzErr);

/* Parse the complete header a[0..n) (n from mb_npy_header_size): fills *p
** and *pLayout (columns from the descr: "value" for a plain 1-d array,
** "value_I_J" over the trailing axes of an N-d one, field names for a
** structured dtype, "name_I" for sub-array fields). Errors name zFile and
** what is wrong: Fortran order, object or unsupported dtypes, sub-arrays
** that cannot be mapped, shapes whose element count overflows. Free *p
** with mb_npy_free. */
int mb_npy_parse(const unsigned char *a, size_t n, const char *zFile,
                 mb_npy *p, mb_layout *pLayout, char **pzErr);

void mb_npy_free(mb_npy *p);

/* A new header for an empty array of records with layout pLayout and
** record size nRecord: *paOut (sqlite3_malloc'ed) of *pnOut bytes, a
** multiple of 64, with room for the row count to grow to 20 digits. */
int mb_npy_new_header(const mb_layout *pLayout, uint64_t nRecord,
                      unsigned char **paOut, size_t *pnOut, char **pzErr);

/* The header of p rewritten with nRows rows, of exactly p->nHeader bytes
** (same version), into a (p->nHeader bytes). SQLITE_FULL if the new shape
** does not fit the header's padding. */
int mb_npy_rewrite(const mb_npy *p, uint64_t nRows, unsigned char *a);

#endif /* MB_NPY_H */
