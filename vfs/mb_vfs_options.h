/*
** mb_vfs_options.h -- the per-database settings of the membase VFS, read
** from URI parameters at open and changed by PRAGMAs (mb_vfs_options.c).
*/
#ifndef MB_VFS_OPTIONS_H
#define MB_VFS_OPTIONS_H

#include "sqlite3ext.h"

/* membase_advice: auto adapts; the others are the core's mb_advice. */
#define MB_VFS_ADVICE_AUTO       0
#define MB_VFS_ADVICE_NORMAL     1
#define MB_VFS_ADVICE_RANDOM     2
#define MB_VFS_ADVICE_SEQUENTIAL 3

/* membase_locking */
#define MB_VFS_LOCK_SHARED  0
#define MB_VFS_LOCK_PROCESS 1

typedef struct mb_vfs_options {
  int advice;              /* MB_VFS_ADVICE_* */
  int populate;            /* 1: populate the mapping at open */
  int hugepages;           /* 1: ask for huge pages when first mapped */
  sqlite3_int64 reserve;   /* address space to reserve; 0 = core default */
  int locking;             /* MB_VFS_LOCK_* */
  int dropbehind;          /* mb_dropbehind; -1 = the process default */
} mb_vfs_options;

/* The settings a database opened with file name zName (as xOpen receives
** it, URI parameters after it) asks for, starting from *o (the VFS's
** defaults). On a bad value returns SQLITE_ERROR and sets *pzErr to a
** message naming the parameter and the value (sqlite3_malloc'ed).
** Unknown parameters are not looked at (they belong to SQLite or others). */
int mb_vfs_options_from_uri(const char *zName, mb_vfs_options *o, char **pzErr);

/* Parsers shared with the PRAGMAs. Each returns SQLITE_OK and stores the
** value, or SQLITE_ERROR with *pzErr naming zWhat and the value. */
int mb_vfs_parse_advice(const char *zWhat, const char *z, int *pOut, char **pzErr);
int mb_vfs_parse_bool(const char *zWhat, const char *z, int *pOut, char **pzErr);
int mb_vfs_parse_size(const char *zWhat, const char *z, sqlite3_int64 *pOut, char **pzErr);
int mb_vfs_parse_locking(const char *zWhat, const char *z, int *pOut, char **pzErr);
int mb_vfs_parse_dropbehind(const char *zWhat, const char *z, int *pOut, char **pzErr);

const char *mb_vfs_advice_name(int advice);
const char *mb_vfs_locking_name(int locking);

#endif
