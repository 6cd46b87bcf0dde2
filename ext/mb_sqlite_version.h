/*
** mb_sqlite_version.h -- which SQLite MemBase runs in (mb_sqlite_version.c).
**
** MemBase supports SQLite 3.40.0 and newer: the oldest release it is built
** and tested with (Debian 12's 3.40.1). The newest SQLite interfaces it
** calls unconditionally are sqlite3_vtab_in(), _in_first() and _in_next()
** (3.38.0), through the API table an extension is handed: in an older host
** those slots are past the end of the table, and a call through one jumps
** into whatever follows it. So the entry points check the running SQLite
** before anything else and refuse an older one with a message naming both
** versions.
**
** No optional feature of a newer SQLite is used yet; one that is (such as
** sqlite3_is_interrupted, 3.41) must be asked for at run time with
** sqlite3_libversion_number(): the headers MemBase compiles against (3.40)
** are not the SQLite it runs in.
*/
#ifndef MB_SQLITE_VERSION_H
#define MB_SQLITE_VERSION_H

#define MB_SQLITE_MIN_NUMBER 3040000
#define MB_SQLITE_MIN_TEXT   "3.40.0"

/*
** SQLITE_OK if the running SQLite is MB_SQLITE_MIN_TEXT or newer; else
** SQLITE_ERROR with "membase needs SQLite 3.40.0 or newer; this is 3.34.1"
** in *pzErrMsg (from sqlite3_mprintf, if pzErrMsg is not 0) and in
** sqlite3_log. Uses only interfaces every SQLite 3 has.
*/
int mb_sqlite_version_check(char **pzErrMsg);

#endif
