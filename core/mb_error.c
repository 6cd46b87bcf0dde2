/*
** mb_error.c -- error strings, the per-thread OS error, and the names of
** the core's enums. Portable: no platform code.
*/
#include "mb_internal.h"

static MB_TLS int tl_oserror;

void mb__set_oserror(int e) { tl_oserror = e; }

int mb__fail(int rc, int oserr) {
    tl_oserror = oserr;
    return rc;
}

int mb_last_oserror(void) { return tl_oserror; }

const char *mb_strerror(int rc) {
    switch (rc) {
    case MB_OK:        return "ok";
    case MB_ENOENT:    return "no such file";
    case MB_EISDIR:    return "is a directory, not a file";
    case MB_EACCES:    return "permission denied";
    case MB_EEMPTY:    return "file is empty (zero length)";
    case MB_ERANGE:    return "offset or range beyond the end of the file";
    case MB_EOVERFLOW: return "offset plus length overflows";
    case MB_EREADONLY: return "write access to a read-only file or mapping";
    case MB_EFAULT:    return "mapped file was truncated or unreadable underneath";
    case MB_ENOMEM:    return "out of memory or address space";
    case MB_EINVAL:    return "invalid argument";
    case MB_EIO:       return "I/O error";
    case MB_ENOTSUP:   return "not supported on this platform";
    case MB_ENOTFILE:  return "not a regular file";
    case MB_EBUSY:     return "locked by another process";
    case MB_EPOLICY:   return "refused by the file policy";
    default:           return "unknown error";
    }
}

const char *mb_advice_name(mb_advice a) {
    switch (a) {
    case MB_ADV_NORMAL:     return "normal";
    case MB_ADV_RANDOM:     return "random";
    case MB_ADV_SEQUENTIAL: return "sequential";
    case MB_ADV_WILLNEED:   return "willneed";
    case MB_ADV_DONTNEED:   return "dontneed";
    }
    return "unknown";
}

const char *mb_populate_name(mb_populate p) {
    switch (p) {
    case MB_POP_DEFAULT:       return "default";
    case MB_POP_NONE:          return "none";
    case MB_POP_WILLNEED:      return "willneed";
    case MB_POP_POPULATE_READ: return "populate_read";
    case MB_POP_MAP_POPULATE:  return "map_populate";
    case MB_POP_TOUCH:         return "touch";
    case MB_POP_PREFETCH_VM:   return "prefetch_vm";
    }
    return "unknown";
}

const char *mb_huge_name(mb_huge h) {
    switch (h) {
    case MB_HUGE_NOT_REQUESTED: return "not requested";
    case MB_HUGE_UNSUPPORTED:   return "unsupported";
    case MB_HUGE_ADVISED:       return "advised";
    case MB_HUGE_ACTIVE:        return "active";
    }
    return "unknown";
}

const char *mb_guard_state_name(mb_guard_state s) {
    switch (s) {
    case MB_GUARD_NOT_INSTALLED: return "not installed";
    case MB_GUARD_INSTALLED:     return "installed";
    case MB_GUARD_FAILED:        return "failed";
    }
    return "unknown";
}
