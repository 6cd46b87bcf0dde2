/*
** speedtest1_preload.c -- registers the membase VFSes in SQLite's upstream
** speedtest1 (test/speedtest1.c) before its main() runs, so that
** `speedtest1 --vfs membase` and `--vfs membase-process` find them.
**
** speedtest1 cannot load an extension, and it has no hook of its own. This
** file is linked into it (with libmembase.a and the system libsqlite3) by
** bench/speedtest1.sh; a constructor runs before main().
**
** KEEP_DEFAULT on purpose: "unix" stays the default VFS, so the runs without
** --vfs are stock SQLite, and speedtest1's clock (the default VFS's
** xCurrentTimeInt64) is the same for every run.
**
** Registering this early calls sqlite3_initialize() before speedtest1 parses
** its options, which makes its --heap, --pcache and --lookaside options fail
** (sqlite3_config() after initialisation is SQLITE_MISUSE). bench/speedtest1.sh
** does not use them.
*/
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>
#include "membase.h"

static void mb_speedtest1_preload(void) __attribute__((constructor));

static void mb_speedtest1_preload(void){
  int rc = membase_vfs_register(MEMBASE_VFS_KEEP_DEFAULT);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "speedtest1_preload: membase_vfs_register: %s\n",
            sqlite3_errstr(rc));
    exit(2);
  }
}
