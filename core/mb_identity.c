/*
** mb_identity.c -- the identity of a file (mb_map.h): of the file a map
** has open, and of the file a path names now, over the backends' hooks.
*/
#include "mb_internal.h"

int mb_map_file_identity(const mb_map *m, uint64_t *dev, uint64_t *ino) {
    mb_file_id id;
    if (!m || !dev || !ino) return mb__fail(MB_EINVAL, 0);
    int rc = mb__map_file_id(m, &id);
    if (rc != MB_OK) return rc;
    *dev = id.dev;
    *ino = id.ino;
    return MB_OK;
}

int mb_file_identity(const char *path, uint64_t *dev, uint64_t *ino) {
    mb_file_id id;
    if (!path || !dev || !ino) return mb__fail(MB_EINVAL, 0);
    int rc = mb__path_file_id(path, &id);
    if (rc != MB_OK) return rc;
    *dev = id.dev;
    *ino = id.ino;
    return MB_OK;
}
