/*
** mb_path_win.c -- what a path resolves to, on Windows (mb_internal.h):
** the final path of the file or directory (GetFinalPathNameByHandleW:
** symlinks, junctions, "." and ".." resolved by the system), and the
** identity and link count of what a path names now.
*/
#include <stdlib.h>
#include "mb_file_win.h"

#define MB_SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* Open what path names (a file or a directory) for its attributes only. */
static int open_attr(const char *path, HANDLE *out) {
    wchar_t *wpath = NULL;
    int rc = mb__win_widen_path(path, &wpath);
    if (rc != MB_OK) return rc;
    HANDLE h = CreateFileW(wpath, FILE_READ_ATTRIBUTES, MB_SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS, NULL);
    free(wpath);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        return mb__fail(mb__win_code_of_error(e), (int)e);
    }
    *out = h;
    return MB_OK;
}

int mb__win_final_path(HANDLE h, char **out) {
    wchar_t small[1];
    DWORD n = GetFinalPathNameByHandleW(h, small, 1, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    wchar_t *w = n ? malloc(((size_t)n + 1) * sizeof *w) : NULL;
    DWORD got = w ? GetFinalPathNameByHandleW(h, w, n + 1, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS) : 0;
    DWORD e = GetLastError();
    if (!w || got == 0 || got > n) {
        free(w);
        return mb__fail(w ? MB_EIO : MB_ENOMEM, (int)e);
    }
    /* "\\?\C:\x" -> "C:\x"; "\\?\UNC\srv\x" -> "\\srv\x". */
    const wchar_t *s = w;
    int unc = 0;
    if (wcsncmp(s, L"\\\\?\\UNC\\", 8) == 0) { s += 8; unc = 1; }
    else if (wcsncmp(s, L"\\\\?\\", 4) == 0) s += 4;
    int len = WideCharToMultiByte(CP_UTF8, 0, s, -1, NULL, 0, NULL, NULL);
    char *r = len > 0 ? malloc((size_t)len + 2) : NULL;
    if (!r) { free(w); return mb__fail(MB_ENOMEM, 0); }
    if (unc) { r[0] = '\\'; r[1] = '\\'; }
    WideCharToMultiByte(CP_UTF8, 0, s, -1, r + (unc ? 2 : 0), len, NULL, NULL);
    free(w);
    *out = r;
    return MB_OK;
}

int mb__os_realpath(const char *path, char **out) {
    HANDLE h;
    int rc = open_attr(path, &h);
    if (rc != MB_OK) return rc;
    rc = mb__win_final_path(h, out);
    CloseHandle(h);
    return rc;
}

int mb__os_path_info(const char *path, mb_file_id *id, uint64_t *nlink, int *is_dir) {
    HANDLE h;
    int rc = open_attr(path, &h);
    if (rc != MB_OK) return rc;
    BY_HANDLE_FILE_INFORMATION fi;
    if (!GetFileInformationByHandle(h, &fi)) {
        DWORD e = GetLastError();
        CloseHandle(h);
        return mb__fail(MB_EIO, (int)e);
    }
    CloseHandle(h);
    id->dev = fi.dwVolumeSerialNumber;
    id->ino = ((uint64_t)fi.nFileIndexHigh << 32) | fi.nFileIndexLow;
    *nlink = fi.nNumberOfLinks;
    *is_dir = (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? 1 : 0;
    return MB_OK;
}

/* Windows names are compared without case (ASCII folding, as the policy's
** prefixes are ASCII in practice; a non-ASCII byte must match exactly). */
int mb__os_path_prefix_eq(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y - 'A' + 'a');
        if (x == '/') x = '\\';
        if (y == '/') y = '\\';
        if (x != y) return 0;
    }
    return 1;
}

/* Windows: a dangling symlink's target is not followed (MB_ENOTSUP); the
** policy then resolves through its existing ancestors only. */
int mb__os_readlink(const char *path, char **out) {
    (void)path;
    (void)out;
    return MB_ENOTSUP;
}

/* Windows: no exclusive creation beneath a checked directory yet; the
** open creates the file itself and the check after it refuses one that
** landed outside (docs/SECURITY.md says so). */
int mb__os_create_excl(const char *path) {
    (void)path;
    return MB_ENOTSUP;
}
