/*
** mb_lines_index.c -- membase_lines_index(FILE [, DELIMITER]): the cached
** line index of a file, as JSON (mb_lines.c has the manual).
*/
#include <stdint.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_line_index.h"
#include "mb_lines_int.h"
#include "../ext/mb_sqlite.h"
#include "../ext/mb_sqlsafe.h"

/* ------------------------------------------------------------ index info */

/* membase_lines_index(FILE [, DELIMITER]) */
void mbLinesIndexFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  const char *zFile;
  unsigned char delim = '\n';
  mb_map *pMap = 0;
  mb_cache_item *pItem = 0;
  char zTag[MB_CACHE_MAX_TAG + 1];
  char why[1600];
  int mrc, bNull;
  if( !mb_sql_called_directly(ctx, "membase_lines_index") ) return;
  zFile = mb_sql_path_arg(ctx, argv[0], "membase_lines_index", "FILE", &bNull);
  if( zFile==0 ){
    if( bNull ) sqlite3_result_error(ctx, "membase_lines_index: file is NULL", -1);
    return;
  }
  if( argc>1 ){
    const unsigned char *z = (const unsigned char*)sqlite3_value_blob(argv[1]);
    int n = sqlite3_value_bytes(argv[1]);
    if( sqlite3_value_type(argv[1])==SQLITE_NULL || mbLinesParseDelim(z, n, &delim) ){
      mb_result_errorf(ctx, "membase_lines_index: delimiter=\"%.*s\": "
          "expected a single byte", n, z ? (const char*)z : "");
      return;
    }
  }
  mrc = mb_registry_acquire_checked(zFile, 0, &pMap, why, sizeof why);
  if( mrc==MB_EPOLICY ){
    mb_result_errorf(ctx, "membase_lines_index: %s", why);
    return;
  }
  if( mrc!=MB_OK ){
    mb_result_core_error(ctx, "membase_lines_index", "open", zFile, mrc);
    return;
  }
  mb_line_index_tag(delim, zTag);
  if( mb_cache_get(pMap, zTag, &pItem)==MB_OK ){
    const mb_line_index *ix = (const mb_line_index*)mb_cache_value(pItem);
    char *zJson = sqlite3_mprintf(
        "{\"every\":%u,\"lines\":%llu,\"indexed_bytes\":%llu,\"samples\":%llu,"
        "\"file_size\":%llu,\"builds\":%llu,\"extends\":%llu,\"bytes_read\":%llu,"
        "\"verifies\":%llu,\"bytes_verified\":%llu}",
        MB_LINE_INDEX_EVERY, (unsigned long long)ix->lines,
        (unsigned long long)ix->scanned, (unsigned long long)ix->nsample,
        (unsigned long long)mb_cache_size(pItem), (unsigned long long)ix->builds,
        (unsigned long long)ix->extends, (unsigned long long)ix->bytes_read,
        (unsigned long long)ix->verifies, (unsigned long long)ix->bytes_verified);
    mb_cache_release(pItem);
    if( zJson==0 ){
      sqlite3_result_error_nomem(ctx);
    }else{
      sqlite3_result_text(ctx, zJson, -1, sqlite3_free);
    }
  }
  mb_registry_release(pMap);
}
