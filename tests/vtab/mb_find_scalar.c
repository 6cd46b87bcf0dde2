/* mb_find.c again, its scalar path forced and its functions renamed, so
** tests/vtab/test_find_scalar.c can call both copies. */
#define MB_FIND_SCALAR 1
#define mb_like_literal  scalar_mb_like_literal
#define mb_glob_literal  scalar_mb_glob_literal
#define mb_finder_init   scalar_mb_finder_init
#define mb_finder_find   scalar_mb_finder_find
#define mb_count_byte    scalar_mb_count_byte
#define mb_last_byte     scalar_mb_last_byte
#define mb_find_path     scalar_mb_find_path
#include "../../vtab/mb_find.c"
