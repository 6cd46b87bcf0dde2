/*
** mb_interrupt.c -- sqlite3_is_interrupted() found at run time.
**
** MemBase builds against SQLite 3.40's headers and runs on 3.40 and later,
** but sqlite3_is_interrupted() came in 3.41. It is found without linking
** to it:
**  - loaded as an extension, through the routines table SQLite passed to
**    sqlite3_membase_init: the table only grows at its end, and 3.41 put
**    is_interrupted right after 3.40's last entry (value_encoding), so a
**    library that reports 3.41.0 or later has it there;
**  - linked in (SQLITE_CORE), as a weak symbol on ELF platforms: NULL
**    when the linked SQLite lacks it; elsewhere not at all.
*/
#include <stddef.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_interrupt.h"

typedef int (*mb_is_interrupted_fn)(sqlite3*);

#ifdef SQLITE_CORE
#if defined(__ELF__)
extern int sqlite3_is_interrupted(sqlite3*) __attribute__((weak));
static mb_is_interrupted_fn lookup(void){
  return sqlite3_libversion_number()>=3041000 ? sqlite3_is_interrupted : 0;
}
#else
static mb_is_interrupted_fn lookup(void){ return 0; }
#endif
#else
/* 3.41's table: 3.40's, then is_interrupted. */
typedef struct mb_api_341 {
  sqlite3_api_routines base;
  int (*is_interrupted)(sqlite3*);
} mb_api_341;
static mb_is_interrupted_fn lookup(void){
  if( sqlite3_api==0 || sqlite3_libversion_number()<3041000 ) return 0;
  return ((const mb_api_341*)sqlite3_api)->is_interrupted;
}
#endif

int mb_interrupt_supported(void){
  return lookup()!=0;
}

int mb_interrupted(sqlite3 *db){
  mb_is_interrupted_fn f = lookup();
  return f && db ? f(db) : 0;
}
