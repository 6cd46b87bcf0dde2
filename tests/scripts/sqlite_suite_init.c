/*
** tests/scripts/sqlite_suite_init.c -- makes the membase VFS the default inside
** SQLite's own testfixture, so that SQLite's test suite runs on membase.
**
** tests/scripts/sqlite_suite.sh compiles SQLite's testfixture with
**     -DSQLITE_EXTRA_INIT=membase_testfixture_init
** and links this file, libmembase.a and libmembase_core.a into it. SQLite then
** calls membase_testfixture_init() at the end of every sqlite3_initialize()
** that really initialises the library: at start-up, after each
** sqlite3_shutdown() + sqlite3_initialize() of the harness (which makes "unix"
** the default again), and in every child testfixture the tests spawn.
**
** The environment selects what it does:
**   MEMBASE_SUITE_VFS        unset or "unix": nothing (the baseline, same binary)
**                            "membase":         membase_vfs_register(1)
**                            "membase-process": membase_vfs_register(2)
**   MEMBASE_SUITE_CHILD_VFS  mixed mode: when set, the first call in a process
**                            remembers its own MEMBASE_SUITE_VFS and then sets
**                            MEMBASE_SUITE_VFS to this value, so the child
**                            processes of this process (crash tests, multi-
**                            client tests: [exec [info nameofexec] ...]) run
**                            with that VFS, e.g. "unix", while this one runs
**                            membase.
** Any other value stops the process with exit status 2 and a message: a typo
** must not silently run the baseline twice. If membase_vfs_register() fails
** (out of memory injected by the harness), sqlite3_initialize() fails with
** its error and the library is left uninitialised, so that the next
** sqlite3_initialize() registers membase again.
*/
/* setenv() is POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include "membase.h"

/* The VFS registration itself (vfs/mb_vfs.h), without the automatic
** extension that membase_vfs_register() adds to report bad membase URI
** values: the upstream tests use none, and they count automatic extensions'
** memory (memsubsys2.test) and their calls. */
int mb_vfs_register(int makeDefault);

int membase_testfixture_init(const char *zUnused);

/* -1: the environment is not read yet; else the membase_vfs_register()
** argument, or 0 for "unix". Read once per process: in mixed mode the
** environment variable is rewritten for the children after the first call. */
static int mbSuiteMode = -1;

static int mbSuiteParse(const char *zVar, const char *zVal){
  if( zVal==0 || zVal[0]==0 || strcmp(zVal, "unix")==0 ) return 0;
  if( strcmp(zVal, "membase")==0 ) return MEMBASE_VFS_DEFAULT_SHARED;
  if( strcmp(zVal, "membase-process")==0 ) return MEMBASE_VFS_DEFAULT_PROCESS;
  fprintf(stderr, "membase_testfixture_init: %s=\"%s\": expected unix, membase "
                  "or membase-process\n", zVar, zVal);
  exit(2);
}

int membase_testfixture_init(const char *zUnused){
  int rc;
  (void)zUnused;
  if( mbSuiteMode<0 ){
    const char *zChild = getenv("MEMBASE_SUITE_CHILD_VFS");
    mbSuiteMode = mbSuiteParse("MEMBASE_SUITE_VFS", getenv("MEMBASE_SUITE_VFS"));
    if( zChild ){
      (void)mbSuiteParse("MEMBASE_SUITE_CHILD_VFS", zChild);
      /* Tcl's exec passes the C environment (environ) to the child. */
      if( setenv("MEMBASE_SUITE_VFS", zChild, 1)!=0 ){
        fprintf(stderr, "membase_testfixture_init: setenv failed\n");
        exit(2);
      }
    }
  }
  if( mbSuiteMode==0 ) return SQLITE_OK;
  rc = mb_vfs_register(mbSuiteMode);
  if( rc!=SQLITE_OK ){
    /* SQLITE_NOMEM when the harness injects malloc faults into
    ** sqlite3_initialize() (init.test, do_malloc_test): the test expects
    ** the error. SQLite has already marked itself initialised, so the next
    ** sqlite3_initialize() would return at once without calling this again,
    ** leaving "unix" the default for the files that follow. Undo the
    ** initialisation instead: the next call starts over and comes back here. */
    if( rc!=SQLITE_NOMEM ){
      fprintf(stderr, "membase_testfixture_init: membase_vfs_register(%d) "
                      "returned %d\n", mbSuiteMode, rc);
    }
    sqlite3_shutdown();
    return rc;
  }
  return SQLITE_OK;
}
