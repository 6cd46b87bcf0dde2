/*
** mb_sqlite.h -- the one boundary between the core and SQLite: how a core
** result (MB_*) becomes an SQLite code and a message, how an error reaches
** a virtual table, and how options (key = value) are read and checked.
** vfs/ and vtab/ use it; they know nothing of each other.
**
** Rules every SQLite-facing file follows:
**  - a variable named rc holds SQLite codes only; a core result is held in
**    mrc and converted on the spot with mb_sqlite_rc();
**  - a message names who speaks (the module, function or PRAGMA), then what
**    is wrong: "membase: ticks.bin: cannot flush: ...";
**  - an option error has one form: WHO: KEY="VALUE": expected A, B or C,
**    and a key given twice is an error: WHO: option "KEY" given twice.
*/
#ifndef MB_SQLITE_H
#define MB_SQLITE_H

#include <stdint.h>
#include "sqlite3ext.h"

/* ---------------------------------------------------------------- codes */

/*
** The SQLite code for the core result mrc of an operation whose I/O
** failure code is rcIo: SQLITE_IOERR_READ, _WRITE, _FSYNC, _TRUNCATE, ...,
** or SQLITE_CANTOPEN for an open. MB_OK is SQLITE_OK. A heap allocation
** that failed (MB_ENOMEM with no OS error) is SQLITE_NOMEM; everything
** else that fails an open is SQLITE_CANTOPEN (so the message is kept:
** SQLite replaces the message of SQLITE_NOMEM by its own). Otherwise:
** MB_EBUSY is SQLITE_BUSY, MB_EREADONLY SQLITE_READONLY, MB_EFAULT (the
** file is shorter than the view: truncated by someone) and MB_ERANGE
** SQLITE_IOERR_SHORT_READ when reading (rcIo SQLITE_IOERR_READ), MB_EOVERFLOW
** on a write SQLITE_FULL, and any other failure rcIo.
*/
int mb_sqlite_rc(int mrc, int rcIo);

/*
** A message "WHO: cannot VERB "PATH": REASON", REASON being mb_strerror()
** of mrc, with the OS error number when there is one. From
** sqlite3_mprintf(); NULL when out of memory.
*/
char *mb_sqlite_errmsg(const char *zWho, const char *zVerb,
                       const char *zPath, int mrc);

/*
** Set the error message of pVtab (replacing any earlier one) from a
** printf-style format and return rc, so a caller writes
**   return mb_vtab_error(&p->base, SQLITE_IOERR_FSYNC, "...", ...);
*/
int mb_vtab_error(sqlite3_vtab *pVtab, int rc, const char *zFmt, ...);

/* Move pVtab's message to *pzErr (for xCreate/xConnect); returns rc. */
int mb_vtab_error_move(sqlite3_vtab *pVtab, int rc, char **pzErr);

/* Set the result of ctx to the error for core result mrc, as
** mb_sqlite_errmsg() words it (SQLITE_NOMEM as SQLite's own). */
void mb_result_core_error(sqlite3_context *ctx, const char *zWho,
                          const char *zVerb, const char *zPath, int mrc);

/* Set the result of ctx to an error from a format (nomem if that fails). */
void mb_result_errorf(sqlite3_context *ctx, const char *zFmt, ...);

/* -------------------------------------------------------------- options */

/*
** One option "KEY = VALUE" of CREATE VIRTUAL TABLE ... USING m(...), or of
** a comma-separated option string. Space around either side is ignored; the
** key and the value may be quoted with "", '' or `` (a doubled
** quote inside stands for one). *pzKey and *pzVal are from
** sqlite3_malloc() and owned by the caller (sqlite3_free) on SQLITE_OK.
** A word without '=' sets *pzVal to NULL when bBare, and is otherwise the
** error WHO: expected option=value, found "WORD".
*/
int mb_opt_split(const char *zWho, const char *zArg, int nArg, int bBare,
                 char **pzKey, char **pzVal, char **pzErr);

/* The error WHO: KEY="VALUE": expected EXPECT. Returns SQLITE_ERROR (or
** SQLITE_NOMEM if the message cannot be made). */
int mb_opt_bad(const char *zWho, const char *zKey, const char *zVal,
               const char *zExpect, char **pzErr);

/* 1, on, true, yes / 0, off, false, no (any case). */
int mb_opt_bool(const char *zWho, const char *zKey, const char *zVal,
                int *pb, char **pzErr);

/* A whole number 0 .. 2^64-1, decimal digits only. */
int mb_opt_u64(const char *zWho, const char *zKey, const char *zVal,
               uint64_t *pv, char **pzErr);

/* A number of bytes 0 .. 2^63-1 with an optional K, M, G or T suffix
** (powers of 1024; KB, KiB and the like also accepted). */
int mb_opt_size(const char *zWho, const char *zKey, const char *zVal,
                int64_t *pv, char **pzErr);

/* One of the n names of az (any case): *pi is its index. The message
** lists them: expected a, b or c. */
int mb_opt_enum(const char *zWho, const char *zKey, const char *zVal,
                const char *const *az, int n, int *pi, char **pzErr);

/* A drop-behind policy, as the core reads it (mb_dropbehind_parse: auto,
** on, off, and 1, 0, true, false, yes, no); *pv is its mb_dropbehind. */
int mb_opt_dropbehind(const char *zWho, const char *zKey, const char *zVal,
                      int *pv, char **pzErr);

/*
** The duplicate-key rule: bit iOpt of *pSeen marks an option already given.
** Returns SQLITE_OK and sets the bit, or the error WHO: option "KEY" given
** twice.
*/
int mb_opt_once(const char *zWho, const char *zKey, unsigned *pSeen,
                int iOpt, char **pzErr);

#endif /* MB_SQLITE_H */
