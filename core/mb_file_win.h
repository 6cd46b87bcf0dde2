/*
** mb_file_win.h -- files and paths on Windows, for the Windows backend
** (mb_file_win.c): opening a file as mb_map_open asks, its size, identity
** and kind, and Win32 errors as MB_* codes. Not for portable files.
*/
#ifndef MB_FILE_WIN_H
#define MB_FILE_WIN_H

#include <stdint.h>
#include <wchar.h>
#include "mb_win.h"
#include "mb_internal.h"

/* A Win32 error of a failed open/stat-like call to an MB code. */
int  mb__win_code_of_error(DWORD e);
/* UTF-8 path to a wide path for CreateFileW (malloc'd, caller frees):
** MB_OK, MB_EINVAL (not UTF-8) or MB_ENOMEM. */
int  mb__win_widen_path(const char *path, wchar_t **out);
/* Open the file with the access the flags ask for (MB_MAP_WRITE,
** MB_MAP_CREATE, MB__MAP_WRITABLE_FD); *writable tells whether the handle
** may write. A write request on a read-only file is MB_EREADONLY. */
int  mb__win_open_file(const wchar_t *wpath, unsigned flags, HANDLE *out, int *writable);
/* MB_OK for a regular file; MB_ENOTFILE, MB_EISDIR, MB_EIO otherwise. */
int  mb__win_check_regular(HANDLE h);
/* The file's size: MB_OK or MB_EIO. */
int  mb__win_file_size(HANDLE h, uint64_t *size);
/* Set the end of file without touching the handle's file pointer. */
BOOL mb__win_set_file_size(HANDLE h, uint64_t size);
/* (volume serial, file index) of the handle's file: MB_OK or MB_EIO. */
int  mb__win_file_id(HANDLE h, mb_file_id *id);

/* The final path of the handle's file or directory (symlinks and
** junctions resolved), UTF-8, without the "\\?\" prefix; malloc'd. */
int  mb__win_final_path(HANDLE h, char **out);

#endif /* MB_FILE_WIN_H */
