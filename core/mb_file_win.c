/*
** mb_file_win.c -- files and paths on Windows (mb_file_win.h): what the
** Windows backend needs of a file before and besides mapping it.
*/
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mb_file_win.h"

/* A Win32 error of a failed open/stat-like call to an MB code. */
int mb__win_code_of_error(DWORD e) {
    switch (e) {
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH: case ERROR_BAD_NET_NAME: case ERROR_DIRECTORY:
        return MB_ENOENT;
    case ERROR_ACCESS_DENIED: case ERROR_SHARING_VIOLATION: case ERROR_LOCK_VIOLATION:
    case ERROR_PRIVILEGE_NOT_HELD:
        return MB_EACCES;
    case ERROR_WRITE_PROTECT:
        return MB_EREADONLY;
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: case ERROR_COMMITMENT_LIMIT:
    case ERROR_NO_SYSTEM_RESOURCES:
        return MB_ENOMEM;
    case ERROR_INVALID_NAME: case ERROR_FILENAME_EXCED_RANGE: case ERROR_INVALID_PARAMETER:
    case ERROR_NO_UNICODE_TRANSLATION:
        return MB_EINVAL;
    case ERROR_FILE_TOO_LARGE: case ERROR_ARITHMETIC_OVERFLOW:
        return MB_EOVERFLOW;
    default:
        return MB_EIO;
    }
}

/* UTF-8 path to a wide path for CreateFileW. Paths too long for the
** classic MAX_PATH limit are made absolute and given the \\?\ prefix
** (which also turns off '/' translation, hence GetFullPathNameW first). */
int mb__win_widen_path(const char *path, wchar_t **out) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0) return mb__fail(MB_EINVAL, (int)GetLastError());
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (!w) return mb__fail(MB_ENOMEM, 0);
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
        DWORD e = GetLastError();
        free(w);
        return mb__fail(MB_EINVAL, (int)e);
    }
    if (n >= MAX_PATH - 12 && wcsncmp(w, L"\\\\?\\", 4) != 0) {
        DWORD full = GetFullPathNameW(w, 0, NULL, NULL);
        wchar_t *lw = full ? malloc(((size_t)full + 8) * sizeof *lw) : NULL;
        if (lw) {
            int unc = 0;
            DWORD got;
            wcscpy(lw, L"\\\\?\\");
            got = GetFullPathNameW(w, full, lw + 4, NULL);
            if (got > 0 && got < full) {
                if (wcsncmp(lw + 4, L"\\\\", 2) == 0) unc = 1;
                if (unc) { /* \\server\share -> \\?\UNC\server\share */
                    memmove(lw + 8, lw + 6, ((size_t)got - 1) * sizeof *lw);
                    memcpy(lw + 4, L"UNC\\", 4 * sizeof *lw);
                }
                free(w);
                w = lw;
            } else {
                free(lw);
            }
        }
    }
    *out = w;
    return MB_OK;
}

static int is_directory(const wchar_t *wpath) {
    DWORD a = GetFileAttributesW(wpath);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

/* The code for a failed CreateFileW: a directory cannot be opened as a
** file and reports ERROR_ACCESS_DENIED, which is MB_EISDIR here. */
static int open_fail(const wchar_t *wpath, DWORD e) {
    if (e == ERROR_ACCESS_DENIED && is_directory(wpath)) return mb__fail(MB_EISDIR, (int)e);
    return mb__fail(mb__win_code_of_error(e), (int)e);
}

/* Other users may read, write, rename and delete the file, as on POSIX. */
#define MB_SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* Open the file with the access the flags ask for. A write request on a
** file that can only be read is MB_EREADONLY, so the caller learns why. */
int mb__win_open_file(const wchar_t *wpath, unsigned flags, HANDLE *out, int *writable) {
    int want_write = (flags & MB_MAP_WRITE) != 0;
    int try_write = want_write || (flags & MB__MAP_WRITABLE_FD);
    HANDLE h;
    if (try_write) {
        DWORD disp = ((flags & MB_MAP_CREATE) && want_write) ? OPEN_ALWAYS : OPEN_EXISTING;
        h = CreateFileW(wpath, GENERIC_READ | GENERIC_WRITE, MB_SHARE_ALL, NULL, disp,
                        FILE_ATTRIBUTE_NORMAL, NULL);
        if (h != INVALID_HANDLE_VALUE) {
            *out = h;
            *writable = 1;
            return MB_OK;
        }
        DWORD e = GetLastError();
        if (e != ERROR_ACCESS_DENIED && e != ERROR_WRITE_PROTECT && e != ERROR_SHARING_VIOLATION)
            return open_fail(wpath, e);
        if (is_directory(wpath)) return mb__fail(MB_EISDIR, (int)e);
        if (want_write) {
            /* Would a read-only open work? Then the file is read-only. */
            HANDLE r = CreateFileW(wpath, GENERIC_READ, MB_SHARE_ALL, NULL, OPEN_EXISTING,
                                   FILE_ATTRIBUTE_NORMAL, NULL);
            if (r == INVALID_HANDLE_VALUE) return open_fail(wpath, GetLastError());
            CloseHandle(r);
            return mb__fail(MB_EREADONLY, (int)e);
        }
    }
    h = CreateFileW(wpath, GENERIC_READ, MB_SHARE_ALL, NULL, OPEN_EXISTING,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) return open_fail(wpath, GetLastError());
    *out = h;
    *writable = 0;
    return MB_OK;
}

/* MB_OK for a regular file; devices, pipes and consoles are not. */
int mb__win_check_regular(HANDLE h) {
    DWORD type = GetFileType(h);
    if (type != FILE_TYPE_DISK) return mb__fail(MB_ENOTFILE, (int)GetLastError());
    BY_HANDLE_FILE_INFORMATION fi;
    if (!GetFileInformationByHandle(h, &fi)) return mb__fail(MB_EIO, (int)GetLastError());
    if (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) return mb__fail(MB_EISDIR, 0);
    return MB_OK;
}

int mb__win_file_size(HANDLE h, uint64_t *size) {
    LARGE_INTEGER li;
    if (!GetFileSizeEx(h, &li)) return mb__fail(MB_EIO, (int)GetLastError());
    *size = (uint64_t)li.QuadPart;
    return MB_OK;
}

/* Set the end of file without touching the handle's file pointer. */
BOOL mb__win_set_file_size(HANDLE h, uint64_t size) {
    FILE_END_OF_FILE_INFO eof;
    eof.EndOfFile.QuadPart = (LONGLONG)size;
    return SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof);
}

int mb__win_file_id(HANDLE h, mb_file_id *id) {
    BY_HANDLE_FILE_INFORMATION fi;
    if (!GetFileInformationByHandle(h, &fi)) return mb__fail(MB_EIO, (int)GetLastError());
    id->dev = fi.dwVolumeSerialNumber;
    id->ino = ((uint64_t)fi.nFileIndexHigh << 32) | fi.nFileIndexLow;
    return MB_OK;
}

int mb__path_file_id(const char *path, mb_file_id *id) {
    wchar_t *wpath = NULL;
    int rc = mb__win_widen_path(path, &wpath);
    if (rc != MB_OK) return rc;
    /* Attributes only: this open needs no read access to the data. */
    HANDLE h = CreateFileW(wpath, FILE_READ_ATTRIBUTES, MB_SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        rc = open_fail(wpath, GetLastError());
        free(wpath);
        return rc;
    }
    free(wpath);
    rc = mb__win_check_regular(h);
    if (rc == MB_OK) rc = mb__win_file_id(h, id);
    CloseHandle(h);
    return rc;
}

