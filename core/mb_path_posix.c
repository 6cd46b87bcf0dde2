/*
** mb_path_posix.c -- what a path resolves to, on POSIX (mb_internal.h):
** the canonical name the file policy (mb_policy.c) compares, and the
** identity and link count of the file a path names now.
*/
#define _XOPEN_SOURCE 700   /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mb_internal.h"

static int code_of(int e) {
    switch (e) {
    case ENOENT: case ENOTDIR: return MB_ENOENT;
    case EACCES: case EPERM:   return MB_EACCES;
    case ENOMEM:               return MB_ENOMEM;
    case ENAMETOOLONG: case ELOOP: case EINVAL: return MB_EINVAL;
    default:                   return MB_EIO;
    }
}

int mb__os_realpath(const char *path, char **out) {
    /* realpath(3) with a NULL buffer (POSIX.1-2008) allocates the result:
    ** no PATH_MAX guess, and the kernel's own resolution of every symlink,
    ** "." and ".." in order. */
    char *r = realpath(path, NULL);
    if (!r) return mb__fail(code_of(errno), errno);
    *out = r;
    return MB_OK;
}

int mb__os_path_info(const char *path, mb_file_id *id, uint64_t *nlink, int *is_dir) {
    struct stat st;
    if (stat(path, &st) != 0) return mb__fail(code_of(errno), errno);
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    *nlink = (uint64_t)st.st_nlink;
    *is_dir = S_ISDIR(st.st_mode) ? 1 : 0;
    return MB_OK;
}

int mb__os_path_prefix_eq(const char *a, const char *b, size_t n) {
    return memcmp(a, b, n) == 0;
}

int mb__os_readlink(const char *path, char **out) {
    struct stat st;
    if (lstat(path, &st) != 0) return mb__fail(code_of(errno), errno);
    if (!S_ISLNK(st.st_mode)) return MB_EINVAL;
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 256;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf) return mb__fail(MB_ENOMEM, 0);
        ssize_t n = readlink(path, buf, cap);
        if (n < 0) {
            int e = errno;
            free(buf);
            return mb__fail(code_of(e), e);
        }
        if ((size_t)n < cap) {
            buf[n] = 0;
            *out = buf;
            return MB_OK;
        }
        free(buf);
        if (cap > (1u << 20)) return mb__fail(MB_EINVAL, 0);
        cap *= 2;
    }
}
