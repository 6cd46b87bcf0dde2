/*
** mb_memory_functions.c -- memory manners from SQL.
**
**   SELECT membase_memory();
**       the memory the process may use and the pressure, as JSON, read
**       now: {"available":N|null, "mem_available":N, "mem_total":N,
**       "cgroup":{"version":1|2, "limit":N|null, "usage":N}|null,
**       "pressure":true|false, "source":"psi"|"cgroup-psi"|"cgroup-v1"|
**       "available"|"os"|"none", "dropbehind_default":"auto",
**       "idle_budget":{"bytes":N, "count":N}}
**   SELECT membase_dropbehind_default(['auto'|'on'|'off']);
**       the process default drop-behind policy of scans (record and
**       lines tables, the VFS), set if an argument is given; returns the
**       policy in force. Tables and databases that name their own
**       (dropbehind=, membase_dropbehind) keep it.
**   SELECT membase_idle_budget([BYTES, COUNT]);
**       the budget of mappings the registry keeps open with no user (so
**       the next query of the file skips the map), set if given; returns
**       {"bytes":N, "count":N}. BYTES takes a K, M, G or T suffix (powers
**       of 1024) when given as text. Default 0 and 0: none kept.
**
** All three are DIRECTONLY (they change or reveal process state); the two
** setters also act only when the running statement's own SQL names them,
** never from a CHECK constraint (mb_sqlsafe.h). Bad values are errors that
** name them:
**   membase_dropbehind_default: unknown value "sometimes" (expected auto, on or off)
**   membase_idle_budget: bytes must be a whole number >= 0, got "-1"
**   membase_idle_budget: bytes "99999999999T" is too large (at most 9223372036854775807)
*/
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_memory_functions.h"
#include "mb_sqlsafe.h"

static void mbMemoryFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  mb_memory m;
  uint64_t budBytes = 0, budCount = 0;
  char zAvail[32], zLimit[32];
  char *zCg;
  (void)argc;
  (void)argv;
  if( mb_memory_read(&m)!=MB_OK ){
    sqlite3_result_error(ctx, "membase_memory: cannot read the memory state", -1);
    return;
  }
  mb_registry_idle_budget(&budBytes, &budCount);
  if( m.available==UINT64_MAX ) sqlite3_snprintf(sizeof(zAvail), zAvail, "null");
  else sqlite3_snprintf(sizeof(zAvail), zAvail, "%llu", (unsigned long long)m.available);
  if( m.cgroup_limit==0 ) sqlite3_snprintf(sizeof(zLimit), zLimit, "null");
  else sqlite3_snprintf(sizeof(zLimit), zLimit, "%llu", (unsigned long long)m.cgroup_limit);
  zCg = m.cgroup_version
      ? sqlite3_mprintf("{\"version\":%d,\"limit\":%s,\"usage\":%llu}", m.cgroup_version,
                        zLimit, (unsigned long long)m.cgroup_usage)
      : sqlite3_mprintf("null");
  if( zCg==0 ){ sqlite3_result_error_nomem(ctx); return; }
  sqlite3_result_text(ctx, sqlite3_mprintf(
      "{\"available\":%s,\"mem_available\":%llu,\"mem_total\":%llu,\"cgroup\":%s,"
      "\"pressure\":%s,\"source\":\"%s\",\"dropbehind_default\":\"%s\","
      "\"idle_budget\":{\"bytes\":%llu,\"count\":%llu}}",
      zAvail, (unsigned long long)m.mem_available, (unsigned long long)m.mem_total, zCg,
      m.pressure ? "true" : "false", mb_pressure_source_name(m.source),
      mb_dropbehind_name(mb_dropbehind_default()),
      (unsigned long long)budBytes, (unsigned long long)budCount), -1, sqlite3_free);
  sqlite3_free(zCg);
}

static void mbDropDefaultFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  if( !mb_sql_called_directly(ctx, "membase_dropbehind_default") ) return;
  if( argc==1 ){
    const char *z = (const char*)sqlite3_value_text(argv[0]);
    mb_dropbehind p;
    if( z==0 || mb_dropbehind_parse(z, &p)!=MB_OK ){
      char *zMsg = sqlite3_mprintf("membase_dropbehind_default: unknown value \"%s\" "
                                   "(expected auto, on or off)", z ? z : "NULL");
      sqlite3_result_error(ctx, zMsg ? zMsg : "membase_dropbehind_default: bad value", -1);
      sqlite3_free(zMsg);
      return;
    }
    mb_set_dropbehind_default(p);
  }
  sqlite3_result_text(ctx, mb_dropbehind_name(mb_dropbehind_default()), -1, SQLITE_STATIC);
}

/* A budget value: an integer >= 0, or text "N[KMGT]". 0 and *pOut set, or
** 1 with an error set on ctx naming the value. */
static int mbBudgetArg(sqlite3_context *ctx, const char *zWhat, sqlite3_value *v, uint64_t *pOut){
  const char *zErr = 0;
  const char *z = (const char*)sqlite3_value_text(v);
  int t = sqlite3_value_type(v);
  if( t==SQLITE_INTEGER ){
    sqlite3_int64 i = sqlite3_value_int64(v);
    if( i>=0 ){ *pOut = (uint64_t)i; return 0; }
  }else if( t==SQLITE_TEXT && z ){
    uint64_t n = 0, mul = 1;
    const char *p = z;
    int nDigit = 0, bOver = 0;
    while( *p>='0' && *p<='9' ){
      unsigned d = (unsigned)(*p - '0');
      if( n > (UINT64_MAX - d)/10 ) bOver = 1; else n = n*10 + d;
      p++; nDigit++;
    }
    switch( *p ){
      case 'k': case 'K': mul = (uint64_t)1 << 10; p++; break;
      case 'm': case 'M': mul = (uint64_t)1 << 20; p++; break;
      case 'g': case 'G': mul = (uint64_t)1 << 30; p++; break;
      case 't': case 'T': mul = (uint64_t)1 << 40; p++; break;
      default: break;
    }
    if( nDigit>0 && *p==0 ){
      if( bOver || n > (uint64_t)INT64_MAX / mul ){
        zErr = sqlite3_mprintf("%s: %s \"%s\" is too large (at most %lld)",
                               "membase_idle_budget", zWhat, z, (long long)INT64_MAX);
      }else{
        *pOut = n * mul;
        return 0;
      }
    }
  }else if( t==SQLITE_FLOAT && z ){
    zErr = sqlite3_mprintf("membase_idle_budget: %s must be a whole number >= 0, got %s%s",
        zWhat, z, sqlite3_value_double(v)>9.2e18 ? " (too large)" : "");
  }
  if( zErr==0 ){
    zErr = sqlite3_mprintf("membase_idle_budget: %s must be a whole number >= 0, got \"%s\"",
                           zWhat, z ? z : "NULL");
  }
  sqlite3_result_error(ctx, zErr ? zErr : "membase_idle_budget: bad value", -1);
  sqlite3_free((void*)zErr);
  return 1;
}

static void mbIdleBudgetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  if( !mb_sql_called_directly(ctx, "membase_idle_budget") ) return;
  uint64_t nByte = 0, nCount = 0;
  if( argc==2 ){
    if( mbBudgetArg(ctx, "bytes", argv[0], &nByte) ) return;
    if( mbBudgetArg(ctx, "count", argv[1], &nCount) ) return;
    if( mb_registry_set_idle_budget(nByte, nCount)!=MB_OK ){
      sqlite3_result_error(ctx, "membase_idle_budget: cannot set the budget", -1);
      return;
    }
  }else if( argc!=0 ){
    sqlite3_result_error(ctx, "membase_idle_budget: give no argument, or BYTES and COUNT", -1);
    return;
  }
  mb_registry_idle_budget(&nByte, &nCount);
  sqlite3_result_text(ctx, sqlite3_mprintf("{\"bytes\":%llu,\"count\":%llu}",
      (unsigned long long)nByte, (unsigned long long)nCount), -1, sqlite3_free);
}

int mb_memory_functions_register(sqlite3 *db){
  const int f = SQLITE_UTF8 | SQLITE_DIRECTONLY;
  int rc = sqlite3_create_function(db, "membase_memory", 0, f, 0, mbMemoryFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, "membase_dropbehind_default", 0, f, 0,
                                                   mbDropDefaultFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, "membase_dropbehind_default", 1, f, 0,
                                                   mbDropDefaultFunc, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_create_function(db, "membase_idle_budget", -1, f, 0,
                                                   mbIdleBudgetFunc, 0, 0);
  return rc;
}
