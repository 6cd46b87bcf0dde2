/*
** mb_path_posix.c -- what a path resolves to, on POSIX (mb_internal.h):
** the canonical name the file policy (mb_policy.c) compares, and the
** identity and link count of the file a path names now.
*/
#if !defined(__APPLE__)
#define _GNU_SOURCE 1        /* realpath, O_NOFOLLOW, O_DIRECTORY, openat */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

int mb__os_fd_path(int fd, char **out) {
#if defined(__APPLE__)
    char buf[PATH_MAX];
    if (fcntl(fd, F_GETPATH, buf) == -1) return mb__fail(MB_EIO, errno);
    *out = strdup(buf);
    return *out ? MB_OK : mb__fail(MB_ENOMEM, 0);
#elif defined(__linux__)
    /* The kernel's name of the open file: what a swapped symlink or
    ** directory cannot fake. Needs /proc; without it MB_ENOTSUP. */
    char link[64], buf[PATH_MAX + 1];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    if (n < 0) return mb__fail(errno == ENOENT ? MB_ENOTSUP : MB_EIO, errno);
    if ((size_t)n >= sizeof buf - 1) return mb__fail(MB_EOVERFLOW, 0);
    buf[n] = 0;
    if (buf[0] != '/') return mb__fail(MB_ENOTSUP, 0);  /* not a path */
    *out = strdup(buf);
    return *out ? MB_OK : mb__fail(MB_ENOMEM, 0);
#else
    (void)fd;
    (void)out;
    return mb__fail(MB_ENOTSUP, 0);
#endif
}

int mb__os_create_excl(const char *path) {
    /* path is canonical (no symlink, "." or ".." in it when it was
    ** resolved). Open its directory without following a last-component
    ** symlink, make sure that directory is still the one named (a
    ** directory swapped for a symlink since the check would name another
    ** file), then create the file in it exclusively, never through a
    ** symlink. An existing file is left alone (MB_OK): the open that
    ** follows opens it without creating anything. */
    const char *slash = strrchr(path, '/');
    if (!slash || slash[1] == 0) return mb__fail(MB_EINVAL, 0);
    size_t nd = (size_t)(slash - path);
    char *dir = malloc(nd + 2);
    if (!dir) return mb__fail(MB_ENOMEM, 0);
    if (nd == 0) { dir[0] = '/'; dir[1] = 0; }
    else { memcpy(dir, path, nd); dir[nd] = 0; }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        free(dir);
        return mb__fail(e == ELOOP ? MB_EPOLICY : code_of(e), e);
    }
    char *named = NULL;
    int rc = mb__os_fd_path(dfd, &named);
    if (rc == MB_OK && strcmp(named, dir) != 0) rc = mb__fail(MB_EPOLICY, 0);
    if (rc == MB_ENOTSUP) rc = MB_OK;   /* no descriptor names here: O_NOFOLLOW only */
    free(named);
    free(dir);
    if (rc == MB_OK) {
        int fd = openat(dfd, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
        else if (errno == ELOOP) rc = mb__fail(MB_EPOLICY, errno);   /* a symlink now */
        else if (errno != EEXIST) rc = mb__fail(code_of(errno), errno);
    }
    close(dfd);
    return rc;
}
