/*
** mb_win.h -- the one Windows prologue of the core: the API level the core
** is written against and <windows.h> without the parts it must not see.
** Include it instead of <windows.h> in every Windows file of core/.
*/
#ifndef MB_WIN_H
#define MB_WIN_H

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601 /* Windows 7: anything newer is loaded at run time */
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
/* winuser.h (message boxes) defines MB_OK too: leave it out. */
#ifndef NOUSER
#define NOUSER
#endif
#include <windows.h>

#endif /* MB_WIN_H */
