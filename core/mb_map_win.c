/*
** mb_map_win.c -- the Windows backend of mb_map.h.
**
** A map is a file handle, views of that file (MapViewOfFile) laid side by
** side in one range of address space, and a reservation that keeps the
** rest of the range free for growth:
**
**   base                base+delta (= mb_map_data)
**   |<- view 0 ->|<- view 1 ->|..|<- view n ->|<-- reserved, no access -->|
**   |<------------------------------- span ------------------------------->|
**
**   base maps file offset `aoff`, the user's offset rounded down to the
**   allocation granularity (64 KiB: a file offset of a view must be a
**   multiple of it); `delta` hides that rounding.
**
** Why several views: a Windows file mapping (section) has a fixed size, the
** file's size when it was created, and a view cannot outgrow its section.
** So growth creates a new section of the new size and maps the new bytes
** as one more view, right after the last one, in the reserved range. The
** views already mapped never move; with placeholders none is ever
** unmapped by growth (without them, see the tail view below).
**
** Two ways to hold the reserved range:
**  - Placeholders (Windows 10 1803+: VirtualAlloc2 with
**    MEM_RESERVE_PLACEHOLDER, MapViewOfFile3 with MEM_REPLACE_PLACEHOLDER).
**    A view replaces part of the placeholder in one call, so there is no
**    window in which the range is free, and views need only be page
**    aligned: a growth maps from the page after the last view.
**  - Otherwise (older Windows, and Wine 8, which rejects the placeholder
**    flags): a plain MEM_RESERVE region. A view cannot be mapped into
**    reserved memory, so the reservation is released and the view mapped
**    at its address with MapViewOfFileEx, then the remainder is reserved
**    again. Views are 64 KiB aligned here, so the last, partial 64 KiB of
**    the file sits in its own small view which growth unmaps and maps
**    again, larger. A reader racing a growth can fault on that tail for
**    the instant it is unmapped; mb_map_read() turns that into MB_EFAULT.
**    (Wine maps a view at a fixed address in two steps, zero-filled memory
**    first, so there a racing reader of the tail may instead see zeros
**    for that instant.) If another thread takes the freed range in
**    between, the map moves (a new reservation elsewhere), exactly like
**    growth past the reservation.
**
** Shrinking: Windows refuses to cut a file while any view of it exists
** (ERROR_USER_MAPPED_FILE), so mb_map_resize_file() unmaps every view of
** the map first, sets the size, and maps the view again at the same
** address (the range stays reserved meanwhile). mb_map_cut() does the same
** around a caller's cut through another handle of the file (the SQLite
** VFS's xTruncate). Readers must not use the
** view during such a shrink: all of it, not just the cut tail, is gone
** for that moment. Views left behind by moves are released by the shrink
** too, since they would block it. Another map of the same file (another
** mb_map_open, another process) makes the shrink fail with MB_EIO and
** ERROR_USER_MAPPED_FILE. A refresh never sees its file shrink
** underneath, for the same reason.
**
** Windows-only facts are named once, in the "platform facts" block; the
** file contains no POSIX code.
*/
#include "mb_win.h"
#include <psapi.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mb_internal.h"
#include "mb_file_win.h"

/* ------------------------------------------------------------------ */
/* Platform facts                                                     */
/* ------------------------------------------------------------------ */
/* Placeholder flags (Windows 10 1803). mingw-w64 headers may lack them. */
#define MB_MEM_COALESCE_PLACEHOLDERS 0x00000001u
#define MB_MEM_PRESERVE_PLACEHOLDER  0x00000002u
#define MB_MEM_REPLACE_PLACEHOLDER   0x00004000u
#define MB_MEM_RESERVE_PLACEHOLDER   0x00040000u

/* WIN32_MEMORY_RANGE_ENTRY, declared by the headers only for Windows 8+. */
typedef struct mb_range_entry { void *addr; SIZE_T len; } mb_range_entry;

typedef void *(WINAPI *mb_virtual_alloc2_fn)(HANDLE, void *, SIZE_T, ULONG, ULONG,
                                             void *, ULONG);
typedef void *(WINAPI *mb_map_view3_fn)(HANDLE, HANDLE, void *, ULONG64, SIZE_T,
                                        ULONG, ULONG, void *, ULONG);
typedef BOOL (WINAPI *mb_unmap_view2_fn)(HANDLE, void *, ULONG);
typedef BOOL (WINAPI *mb_prefetch_fn)(HANDLE, ULONG_PTR, mb_range_entry *, ULONG);

/* Functions newer than Windows 7, resolved once at run time. */
static struct {
    mb_virtual_alloc2_fn virtual_alloc2;  /* kernelbase, Windows 10 1803 */
    mb_map_view3_fn      map_view3;       /* kernelbase, Windows 10 1803 */
    mb_unmap_view2_fn    unmap_view2;     /* kernelbase, Windows 10 1803 */
    mb_prefetch_fn       prefetch;        /* kernel32, Windows 8 */
    SIZE_T               page;
    SIZE_T               granularity;
} s_os;
static INIT_ONCE s_os_once = INIT_ONCE_STATIC_INIT;
/* Cleared when the OS turns the placeholder flags down (Wine 8 does). */
static atomic_int s_placeholders_ok = 1;

/* GetProcAddress returns a FARPROC; going through a generic function
** pointer type keeps -Wcast-function-type quiet about the real signature. */
typedef void (*mb_generic_fn)(void);
static mb_generic_fn os_symbol(const wchar_t *dll, const char *name) {
    HMODULE h = GetModuleHandleW(dll);
    return h ? (mb_generic_fn)GetProcAddress(h, name) : NULL;
}

static BOOL CALLBACK os_init(PINIT_ONCE once, void *param, void **ctx) {
    (void)once; (void)param; (void)ctx;
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    s_os.page = si.dwPageSize ? si.dwPageSize : 4096;
    s_os.granularity = si.dwAllocationGranularity ? si.dwAllocationGranularity : 65536;
    s_os.virtual_alloc2 = (mb_virtual_alloc2_fn)os_symbol(L"kernelbase.dll", "VirtualAlloc2");
    s_os.map_view3 = (mb_map_view3_fn)os_symbol(L"kernelbase.dll", "MapViewOfFile3");
    s_os.unmap_view2 = (mb_unmap_view2_fn)os_symbol(L"kernelbase.dll", "UnmapViewOfFile2");
    s_os.prefetch = (mb_prefetch_fn)os_symbol(L"kernel32.dll", "PrefetchVirtualMemory");
    if (!s_os.prefetch)
        s_os.prefetch = (mb_prefetch_fn)os_symbol(L"kernelbase.dll", "PrefetchVirtualMemory");
    if (!s_os.virtual_alloc2 || !s_os.map_view3 || !s_os.unmap_view2)
        atomic_store(&s_placeholders_ok, 0);
    return TRUE;
}

static void os_facts(void) {
    /* os_init cannot fail, so neither can this. */
    InitOnceExecuteOnce(&s_os_once, os_init, NULL, NULL);
}

/* A failure of a mapping call (section, view, reservation). */
static int map_fail(DWORD e) {
    return mb__fail(mb__win_code_of_error(e) == MB_ENOMEM || e == ERROR_INVALID_ADDRESS
                        ? MB_ENOMEM : MB_EIO, (int)e);
}

/* ------------------------------------------------------------------ */
/* The map object                                                     */
/* ------------------------------------------------------------------ */
/* One view: bytes [from, to) of the layout, at base+from, mapping file
** offset aoff+from. */
typedef struct mb_seg { uint64_t from, to; } mb_seg;

/* Where a map lives in the address space (see the picture at the top). */
typedef struct mb_layout {
    char    *base;         /* allocation-granularity aligned */
    uint64_t span;         /* bytes of address space held at base */
    uint64_t reserved;     /* the reservation honoured for growth in place:
                           ** the one asked for, in pages (<= span) */
    uint64_t free_from;    /* [free_from, span) is held by one reservation */
    uint64_t maplen;       /* bytes from base backed by the file */
    int      placeholder;  /* the reservation is a placeholder */
    mb_seg  *segs;         /* views, in address order */
    size_t   nsegs, cap;
} mb_layout;

struct mb_map {
    struct mb_map_common c;    /* first: mb_map_common.c reads it (mb_internal.h) */
    HANDLE    file;
    int       file_writable;   /* handle opened GENERIC_WRITE: views are
                               ** mapped FILE_MAP_WRITE, so an upgrade to
                               ** writable is a VirtualProtect in place */
    mb_layout lay;             /* lay.reserved is published in c.reserved */
    SRWLOCK   lock;            /* shared: walks of lay.segs (advise, flush);
                               ** exclusive: changes to them */
    void    **retired;         /* views left behind by moves */
    size_t    nretired;
};

size_t mb_map_granularity(void) {
    os_facts();
    return s_os.granularity;
}

size_t mb_huge_page_size(void) {
    /* Informational: large pages on Windows back only private memory
    ** (VirtualAlloc MEM_LARGE_PAGES, SeLockMemoryPrivilege), never a view
    ** of an ordinary file. */
    return (size_t)GetLargePageMinimum();
}

const char *mb_backend_name(void) { return "windows"; }

/* ---- address-space layout ---- */

/* Hold `span` bytes of address space somewhere, as a placeholder if the
** OS has them. */
static int layout_reserve(mb_layout *L, uint64_t span) {
    memset(L, 0, sizeof *L);
    if (atomic_load(&s_placeholders_ok)) {
        void *p = s_os.virtual_alloc2(GetCurrentProcess(), NULL, (SIZE_T)span,
                                      MEM_RESERVE | MB_MEM_RESERVE_PLACEHOLDER,
                                      PAGE_NOACCESS, NULL, 0);
        if (p) {
            L->base = p;
            L->span = span;
            L->placeholder = 1;
            return MB_OK;
        }
        DWORD e = GetLastError();
        if (e == ERROR_INVALID_PARAMETER || e == ERROR_NOT_SUPPORTED ||
            e == ERROR_CALL_NOT_IMPLEMENTED || e == ERROR_INVALID_FUNCTION)
            atomic_store(&s_placeholders_ok, 0); /* e.g. Wine: never again */
    }
    void *p = VirtualAlloc(NULL, (SIZE_T)span, MEM_RESERVE, PAGE_NOACCESS);
    if (!p) return mb__fail(MB_ENOMEM, (int)GetLastError());
    L->base = p;
    L->span = span;
    return MB_OK;
}

/* Reserve [from, span) again after the views there were unmapped. If
** another thread took the range meanwhile, the layout ends at `from`. */
static void layout_rereserve(mb_layout *L, uint64_t from) {
    if (from >= L->span) return;
    if (VirtualAlloc(L->base + from, (SIZE_T)(L->span - from), MEM_RESERVE, PAGE_NOACCESS)) {
        L->free_from = from;
        return;
    }
    L->span = L->free_from = from;
    if (L->reserved > from) L->reserved = from;
}

static int layout_push(mb_layout *L, uint64_t from, uint64_t to) {
    if (L->nsegs == L->cap) {
        size_t cap = L->cap ? 2 * L->cap : 4;
        mb_seg *s = realloc(L->segs, cap * sizeof *s);
        if (!s) return mb__fail(MB_ENOMEM, 0);
        L->segs = s;
        L->cap = cap;
    }
    L->segs[L->nsegs].from = from;
    L->segs[L->nsegs].to = to;
    L->nsegs++;
    return MB_OK;
}

/* Address bytes a view of `len` bytes occupies: views in a placeholder
** are page granular, views mapped with MapViewOfFileEx take whole units of
** the allocation granularity. */
static uint64_t seg_span(const mb_layout *L, uint64_t len) {
    return mb__round_up(len, L->placeholder ? s_os.page : s_os.granularity);
}

/* Map file bytes [from, to) of the layout as one view at base+from;
** `from` is where the free reservation starts. */
static int map_one(mb_map *m, mb_layout *L, HANDLE sec, uint64_t from, uint64_t to) {
    uint64_t len = to - from, sp = seg_span(L, len);
    uint64_t foff = m->c.aoff + from;
    void *want = L->base + from;
    DWORD access = m->file_writable ? FILE_MAP_WRITE : FILE_MAP_READ;
    int rc = layout_push(L, from, to); /* room first: nothing to undo after mapping */
    if (rc != MB_OK) return rc;
    L->nsegs--;
    if (from != L->free_from || from + sp > L->span) return mb__fail(MB_ENOMEM, 0);
    void *v = NULL;
    if (L->placeholder) {
        /* Split the placeholder so a piece matches the view exactly, then
        ** swap the view in: the range is never free in between. */
        int split = from + sp < L->span;
        if (split && !VirtualFree(want, (SIZE_T)sp, MEM_RELEASE | MB_MEM_PRESERVE_PLACEHOLDER))
            return map_fail(GetLastError());
        ULONG prot = m->file_writable ? PAGE_READWRITE : PAGE_READONLY;
        v = s_os.map_view3(sec, GetCurrentProcess(), want, foff, (SIZE_T)sp,
                           MB_MEM_REPLACE_PLACEHOLDER, prot, NULL, 0);
        if (!v && sp != len) /* a section ending inside the page: exact size */
            v = s_os.map_view3(sec, GetCurrentProcess(), want, foff, (SIZE_T)len,
                               MB_MEM_REPLACE_PLACEHOLDER, prot, NULL, 0);
        if (!v) {
            DWORD e = GetLastError();
            if (split)
                VirtualFree(want, (SIZE_T)(L->span - from), MEM_RELEASE | MB_MEM_COALESCE_PLACEHOLDERS);
            return map_fail(e);
        }
    } else {
        /* A view cannot go into reserved memory: free the reservation, map
        ** at its address, reserve what is left. */
        if (L->free_from < L->span && !VirtualFree(L->base + L->free_from, 0, MEM_RELEASE))
            return map_fail(GetLastError());
        v = MapViewOfFileEx(sec, access, (DWORD)(foff >> 32), (DWORD)foff, (SIZE_T)len, want);
        if (!v) {
            DWORD e = GetLastError();
            layout_rereserve(L, from);
            return map_fail(e);
        }
        L->free_from = from + sp;
        layout_rereserve(L, from + sp);
    }
    if (L->placeholder) L->free_from = from + sp;
    /* A view of a writable handle starts PAGE_READWRITE; until the map is
    ** writable its pages are read-only, so a stray store faults instead of
    ** changing the file. */
    if (m->file_writable && !m->c.writable) {
        DWORD old;
        (void)VirtualProtect(v, (SIZE_T)len, PAGE_READONLY, &old);
    }
    (void)layout_push(L, from, to); /* cannot fail: room was made above */
    return MB_OK;
}

static void unmap_last(mb_layout *L);

/* Map [from, to). Without placeholders the part past the last whole
** granularity unit gets its own view, so growth only ever replaces that
** small tail view, never the body. */
static int map_range(mb_map *m, mb_layout *L, HANDLE sec, uint64_t from, uint64_t to) {
    if (to <= from) return MB_OK;
    if (!L->placeholder) {
        uint64_t g = s_os.granularity;
        uint64_t body_end = to - to % g;
        if (body_end > from && body_end < to) {
            int rc = map_one(m, L, sec, from, body_end);
            if (rc != MB_OK) return rc;
            rc = map_one(m, L, sec, body_end, to);
            if (rc != MB_OK) { /* all or nothing */
                int os = mb_last_oserror();
                unmap_last(L);
                return mb__fail(rc, os);
            }
            return MB_OK;
        }
    }
    return map_one(m, L, sec, from, to);
}

/* Unmap the last view; its range joins the free reservation again. */
static void unmap_last(mb_layout *L) {
    mb_seg s = L->segs[--L->nsegs];
    char *addr = L->base + s.from;
    uint64_t sp = seg_span(L, s.to - s.from);
    if (L->placeholder) {
        if (!s_os.unmap_view2(GetCurrentProcess(), addr, MB_MEM_PRESERVE_PLACEHOLDER)) {
            /* Cannot happen for a view we mapped; if it does, the range
            ** leaves the layout rather than be mapped over. */
            L->span = L->free_from = s.from;
            if (L->reserved > s.from) L->reserved = s.from;
            return;
        }
        if (s.from + sp < L->span)
            VirtualFree(addr, (SIZE_T)(L->span - s.from), MEM_RELEASE | MB_MEM_COALESCE_PLACEHOLDERS);
        L->free_from = s.from;
        return;
    }
    UnmapViewOfFile(addr);
    if (L->free_from < L->span) VirtualFree(L->base + L->free_from, 0, MEM_RELEASE);
    L->free_from = L->span;
    layout_rereserve(L, s.from);
}

/* Give the whole layout back: views and reservation. */
static void layout_release(mb_layout *L) {
    for (size_t i = L->nsegs; i-- > 0;) UnmapViewOfFile(L->base + L->segs[i].from);
    if (L->base && L->free_from < L->span) VirtualFree(L->base + L->free_from, 0, MEM_RELEASE);
    free(L->segs);
    memset(L, 0, sizeof *L);
}

/* A section of the file as it is now. Closed by the caller once the views
** are mapped: a view keeps its section alive, and an open section handle
** alone would stop the file from being shrunk. */
static HANDLE open_section(mb_map *m) {
    DWORD prot = m->file_writable ? PAGE_READWRITE : PAGE_READONLY;
    return CreateFileMappingW(m->file, NULL, prot, 0, 0, NULL);
}

/* Back [maplen, target) of the layout with the file. */
static int grow_to(mb_map *m, mb_layout *L, uint64_t target) {
    mb_seg tail = {0, 0};
    int replace = 0;
    uint64_t from = 0;
    if (L->nsegs) {
        const mb_seg *last = &L->segs[L->nsegs - 1];
        if (L->placeholder) {
            from = last->from + seg_span(L, last->to - last->from);
        } else if (last->to % s_os.granularity) {
            tail = *last; /* partial unit: its view must be replaced */
            replace = 1;
            from = last->from;
        } else {
            from = last->to;
        }
    }
    if (target <= from && !replace) {
        /* Growth inside the last mapped page: that page maps the file's
        ** page already, and views of one file are coherent. */
        L->maplen = target;
        return MB_OK;
    }
    HANDLE sec = open_section(m);
    if (!sec) return map_fail(GetLastError());
    if (replace) unmap_last(L);
    int rc = map_range(m, L, sec, from, target);
    if (rc != MB_OK && replace) {
        int os = mb_last_oserror();
        (void)map_range(m, L, sec, tail.from, tail.to); /* put the old tail back */
        mb__set_oserror(os);
    }
    CloseHandle(sec);
    if (rc == MB_OK) L->maplen = target;
    return rc;
}

/* Stop backing [target, maplen): accesses there fault from now on. */
static int shrink_to(mb_map *m, mb_layout *L, uint64_t target) {
    size_t page = s_os.page;
    while (L->nsegs && L->segs[L->nsegs - 1].from >= target) unmap_last(L);
    if (L->nsegs) {
        mb_seg last = L->segs[L->nsegs - 1];
        /* Access is page granular: a cut inside the last page keeps it. */
        if (mb__round_up(target, page) < mb__round_up(last.to, page)) {
            HANDLE sec = open_section(m);
            if (!sec) return map_fail(GetLastError());
            unmap_last(L);
            int rc = map_range(m, L, sec, last.from, target);
            CloseHandle(sec);
            if (rc != MB_OK) {
                L->maplen = L->nsegs ? L->segs[L->nsegs - 1].to : 0;
                return rc;
            }
        }
    }
    L->maplen = target;
    return MB_OK;
}

/* Reserve `reslen` bytes (in pages) somewhere and map the first `maplen`
** bytes of it. If the whole reservation cannot be had (address-space
** limit), an exact fit will do: growth then moves. If the OS hands out a
** placeholder but will not map into it, placeholders are given up for the
** process and the classic way used instead. */
static int layout_build(mb_map *m, mb_layout *L, uint64_t reslen, uint64_t maplen) {
    size_t page = s_os.page, gran = s_os.granularity;
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = layout_reserve(L, mb__round_up(reslen, gran));
        if (rc != MB_OK && reslen > mb__round_up(maplen, page)) {
            reslen = maplen ? mb__round_up(maplen, page) : page;
            rc = layout_reserve(L, mb__round_up(reslen, gran));
        }
        if (rc != MB_OK) return rc;
        L->reserved = reslen;
        if (maplen == 0) return MB_OK;
        HANDLE sec = open_section(m);
        if (!sec) {
            rc = map_fail(GetLastError());
            layout_release(L);
            return rc;
        }
        rc = map_range(m, L, sec, 0, maplen);
        CloseHandle(sec);
        if (rc == MB_OK) {
            L->maplen = maplen;
            return MB_OK;
        }
        int os = mb_last_oserror(), was_placeholder = L->placeholder;
        layout_release(L);
        if (!was_placeholder || os != ERROR_INVALID_PARAMETER) return mb__fail(rc, os);
        atomic_store(&s_placeholders_ok, 0);
    }
    return mb__fail(MB_EIO, ERROR_INVALID_PARAMETER);
}

/* ---- open / close ---- */

/* mb_map_info reads the reservation without the map's lock: publish the
** layout's after every change of it (open, refresh, resize). */
static void publish_reserved(mb_map *m) {
    __atomic_store_n(&m->c.reserved, m->lay.reserved, __ATOMIC_RELAXED);
}

int mb__map_open_path(const char *path, const mb_map_options *opt, mb_map **out) {
    unsigned flags;
    int rc = mb__map_args(path, out, &opt, &flags);
    if (rc != MB_OK) return rc;

    os_facts();
    size_t page = s_os.page, gran = s_os.granularity;
    wchar_t *wpath = NULL;
    mb_map *m = calloc(1, sizeof *m);
    if (!m) return mb__fail(MB_ENOMEM, 0);
    m->file = INVALID_HANDLE_VALUE;
    InitializeSRWLock(&m->lock);
    if ((rc = mb__map_init(&m->c, path)) != MB_OK) goto fail;

    if ((rc = mb__win_widen_path(path, &wpath)) != MB_OK) goto fail;
    rc = mb__win_open_file(wpath, flags, &m->file, &m->file_writable);
    if (rc != MB_OK) goto fail;
    if ((rc = mb__win_check_regular(m->file)) != MB_OK) goto fail;
    uint64_t fsize = 0;
    if ((rc = mb__win_file_size(m->file, &fsize)) != MB_OK) goto fail;

    /* The reservation honoured is the one asked for, in pages, as on POSIX;
    ** the OS hands out address space in granularity units around it. */
    mb_view_plan plan;
    if ((rc = mb__map_plan(&m->c, opt, flags, fsize, gran, &plan)) != MB_OK) goto fail;
    uint64_t size = plan.size;
    uint64_t maplen = size ? m->c.delta + size : 0;
    uint64_t reslen = mb__round_up(m->c.delta + plan.reserve, page);
    if (reslen == 0) reslen = page; /* an empty view still owns an address */
    if ((rc = layout_build(m, &m->lay, reslen, maplen)) != MB_OK) goto fail;
    m->c.all_reserved = m->lay.reserved;
    publish_reserved(m);
    atomic_store(&m->c.size, size);
    atomic_store(&m->c.file_size, fsize);
    free(wpath);

    /* Windows maps large pages only for private memory, never for a view
    ** of a file: the request is answered, never failed. */
    if (flags & MB_MAP_HUGEPAGES) m->c.huge = MB_HUGE_UNSUPPORTED;
    mb__stat_map_opened(size, m->c.all_reserved);
    *out = m;
    return MB_OK;

fail:
    {
        int os = mb_last_oserror();
        layout_release(&m->lay);
        if (m->file != INVALID_HANDLE_VALUE) CloseHandle(m->file);
        free(wpath);
        free(m->c.path);
        free(m);
        return mb__fail(rc, os);
    }
}

static void release_retired(mb_map *m) {
    for (size_t i = 0; i < m->nretired; i++) UnmapViewOfFile(m->retired[i]);
    free(m->retired);
    m->retired = NULL;
    m->nretired = 0;
}

void mb_map_close(mb_map *m) {
    if (!m) return;
    mb__stat_map_closed(atomic_load(&m->c.size), m->c.all_reserved);
    layout_release(&m->lay);
    release_retired(m);
    if (m->file != INVALID_HANDLE_VALUE) CloseHandle(m->file);
    free(m->c.path);
    free(m);
}

void *mb_map_data(const mb_map *m) {
    if (!m || atomic_load_explicit(&((mb_map *)m)->c.size, memory_order_acquire) == 0) return NULL;
    return __atomic_load_n(&m->lay.base, __ATOMIC_ACQUIRE) + m->c.delta;
}

/* ---- refresh and resize ---- */

/* Growth past the reservation: map the file again at a new, larger
** reservation and keep the old views readable until close. */
static int move_view(mb_map *m, uint64_t new_size) {
    size_t page = s_os.page, gran = s_os.granularity;
    uint64_t want = mb_default_reserve(new_size);
    if (m->c.flags & MB_MAP_NORESERVE) want = new_size;
    if (want > (uint64_t)SIZE_MAX - m->c.delta - gran) return mb__fail(MB_EOVERFLOW, 0);
    uint64_t maplen = m->c.delta + new_size;
    uint64_t reslen = mb__round_up(m->c.delta + want, page);
    void **r = realloc(m->retired, (m->nretired + m->lay.nsegs + 1) * sizeof *r);
    if (!r) return mb__fail(MB_ENOMEM, 0);
    m->retired = r;
    mb_layout nl;
    int rc = layout_build(m, &nl, reslen, maplen);
    if (rc != MB_OK) return rc;
    /* The old views stay mapped for pointers taken before; the rest of the
    ** old reservation is of no use to anyone. */
    mb_layout *old = &m->lay;
    for (size_t i = 0; i < old->nsegs; i++) m->retired[m->nretired++] = old->base + old->segs[i].from;
    if (old->free_from < old->span) VirtualFree(old->base + old->free_from, 0, MEM_RELEASE);
    free(old->segs);
    /* Field by field: readers load base concurrently, so it is stored once,
    ** atomically, after the rest of the new layout is in place. */
    old->span = nl.span;
    old->reserved = nl.reserved;
    old->free_from = nl.free_from;
    old->maplen = nl.maplen;
    old->placeholder = nl.placeholder;
    old->segs = nl.segs;
    old->nsegs = nl.nsegs;
    old->cap = nl.cap;
    __atomic_store_n(&old->base, nl.base, __ATOMIC_RELEASE);
    m->c.all_reserved += nl.reserved; /* the old region stays counted, as on POSIX */
    __atomic_add_fetch(&m->c.moves, 1, __ATOMIC_RELAXED);
    return MB_OK;
}

/* Make the view match a file of `fsize` bytes. `old_size` is the view size
** the caller saw before (for the counters). Called with m->lock held. */
static int apply_file_size(mb_map *m, uint64_t fsize, uint64_t old_size) {
    uint64_t old_all_reserved = m->c.all_reserved;
    atomic_store_explicit(&m->c.file_size, fsize, memory_order_relaxed);
    if (!m->c.follow) {
        if (m->c.offset + m->c.fixed_len > fsize) return mb__fail(MB_EFAULT, 0);
        /* mapped again after mb_map_resize_file() had to unmap it */
        if (m->lay.maplen < m->c.delta + m->c.fixed_len)
            return grow_to(m, &m->lay, m->c.delta + m->c.fixed_len);
        return MB_OK;
    }
    uint64_t new_size = fsize > m->c.offset ? fsize - m->c.offset : 0;
    if (new_size > (uint64_t)SIZE_MAX - m->c.delta - s_os.granularity) return mb__fail(MB_EOVERFLOW, 0);
    uint64_t target = new_size ? m->c.delta + new_size : 0;
    int rc;
    if (target > m->lay.maplen) {
        rc = mb__fail(MB_ENOMEM, 0);
        if (mb__round_up(target, s_os.page) <= m->lay.reserved) rc = grow_to(m, &m->lay, target);
        /* Past the reservation, or its address range was lost (no
        ** placeholders): move. */
        if (rc != MB_OK) rc = move_view(m, new_size);
        if (rc != MB_OK) return rc;
        atomic_store_explicit(&m->c.size, new_size, memory_order_release);
    } else {
        /* Shrink: publish first, so new readers stop at the new end. */
        atomic_store_explicit(&m->c.size, new_size, memory_order_release);
        if (target < m->lay.maplen && (rc = shrink_to(m, &m->lay, target)) != MB_OK) return rc;
    }
    if (new_size != old_size) {
        __atomic_add_fetch(&m->c.remaps, 1, __ATOMIC_RELAXED);
        mb__stat_resized(old_size, new_size, old_all_reserved, m->c.all_reserved);
    }
    return MB_OK;
}

int mb_map_refresh(mb_map *m, uint64_t *new_size) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    uint64_t fsize = 0;
    int rc = mb__win_file_size(m->file, &fsize);
    if (rc != MB_OK) return rc;
    AcquireSRWLockExclusive(&m->lock);
    uint64_t old_size = atomic_load(&m->c.size);
    int changing = m->c.follow && fsize != atomic_load(&m->c.file_size);
    if (changing) atomic_fetch_add(&m->c.gen, 1); /* odd: changing */
    rc = apply_file_size(m, fsize, old_size);
    if (changing) atomic_fetch_add(&m->c.gen, 1); /* even: stable */
    publish_reserved(m);
    ReleaseSRWLockExclusive(&m->lock);
    if (new_size) *new_size = atomic_load(&m->c.size);
    return rc;
}

/* Windows will not cut a file that has a view (ERROR_USER_MAPPED_FILE):
** unmap them all -- the range stays reserved -- so the file can be cut,
** then apply_file_size() maps again. Views left behind by earlier moves go
** too: they would block the cut. Called with m->lock held, gen odd. */
static void unmap_for_cut(mb_map *m, uint64_t new_file_size, uint64_t old_size) {
    if (m->c.follow) {
        uint64_t s = new_file_size > m->c.offset ? new_file_size - m->c.offset : 0;
        if (s < old_size) atomic_store_explicit(&m->c.size, s, memory_order_release);
    }
    while (m->lay.nsegs) unmap_last(&m->lay);
    m->lay.maplen = 0;
    release_retired(m);
}

/* A change of the file's size under the map: the view is "changing" (gen
** odd) from cut_begin to cut_end, so readers wait in mb_map_read() instead
** of faulting on a range that is unmapped; views past a smaller size are
** unmapped first (Windows refuses to shrink a file with a mapped view).
** cut_end maps what the file now holds. */
static uint64_t cut_begin(mb_map *m, uint64_t new_file_size, uint64_t cur) {
    AcquireSRWLockExclusive(&m->lock);
    atomic_fetch_add(&m->c.gen, 1); /* odd: changing */
    uint64_t old_size = atomic_load(&m->c.size);
    if (new_file_size < cur) unmap_for_cut(m, new_file_size, old_size);
    return old_size;
}

static int cut_end(mb_map *m, uint64_t old_size) {
    uint64_t cur = 0;
    int rc = mb__win_file_size(m->file, &cur);
    if (rc == MB_OK) rc = apply_file_size(m, cur, old_size);
    atomic_fetch_add(&m->c.gen, 1); /* even: stable */
    publish_reserved(m);
    ReleaseSRWLockExclusive(&m->lock);
    return rc;
}

int mb_map_resize_file(mb_map *m, uint64_t new_file_size) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if (!m->c.writable || !m->file_writable) return mb__fail(MB_EREADONLY, 0);
    if (new_file_size > (uint64_t)INT64_MAX) return mb__fail(MB_EOVERFLOW, 0);
    if (!m->c.follow && m->c.offset + m->c.fixed_len > new_file_size) return mb__fail(MB_ERANGE, 0);
    uint64_t cur = 0;
    int rc = mb__win_file_size(m->file, &cur);
    if (rc != MB_OK) return rc;
    uint64_t old_size = cut_begin(m, new_file_size, cur);
    if (new_file_size != cur && !mb__win_set_file_size(m->file, new_file_size)) {
        DWORD e = GetLastError();
        /* back to what the file really is; ERROR_USER_MAPPED_FILE here:
        ** another map of this file (another mb_map_open, another process)
        ** still has a view */
        (void)cut_end(m, old_size);
        return mb__fail(mb__win_code_of_error(e) == MB_EOVERFLOW ? MB_EOVERFLOW : MB_EIO, (int)e);
    }
    return cut_end(m, old_size);
}

int mb_map_cut(mb_map *m, uint64_t new_file_size, mb_cut_fn cut, void *ctx) {
    if (!m || !cut) return mb__fail(MB_EINVAL, 0);
    uint64_t cur = 0;
    int rc = mb__win_file_size(m->file, &cur);
    if (rc != MB_OK) return rc;
    uint64_t old_size = cut_begin(m, new_file_size, cur);
    cut(ctx, new_file_size);
    return cut_end(m, old_size);
}

/* ---- advice, populate, flush ---- */

/* [off, off+len) of the view as page-aligned layout offsets [*lo, *hi)
** inside the mapped pages. Called with m->lock held. */
static int view_range(const mb_map *m, uint64_t off, uint64_t len, uint64_t *lo, uint64_t *hi) {
    return mb__view_range(m, off, len, m->lay.maplen, lo, hi);
}

typedef BOOL (*mb_seg_op)(mb_map *m, char *addr, size_t len);

/* Run op on each view's part of [lo, hi): calls such as FlushViewOfFile
** work on one view at a time. Called with m->lock held shared. */
static BOOL each_view(mb_map *m, uint64_t lo, uint64_t hi, mb_seg_op op) {
    const mb_layout *L = &m->lay;
    for (size_t i = 0; i < L->nsegs; i++) {
        uint64_t a = L->segs[i].from, b = mb__round_up(L->segs[i].to, s_os.page);
        if (a < lo) a = lo;
        if (b > hi) b = hi;
        if (a < b && !op(m, L->base + a, (size_t)(b - a))) return FALSE;
    }
    return TRUE;
}

static BOOL prefetch_op(mb_map *m, char *addr, size_t len) {
    (void)m;
    mb_range_entry r;
    r.addr = addr;
    r.len = len;
    return s_os.prefetch(GetCurrentProcess(), 1, &r, 0);
}

int mb_map_advise(mb_map *m, mb_advice a, uint64_t off, uint64_t len) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if (a != MB_ADV_NORMAL && a != MB_ADV_RANDOM && a != MB_ADV_SEQUENTIAL &&
        a != MB_ADV_WILLNEED && a != MB_ADV_DONTNEED)
        return mb__fail(MB_EINVAL, 0);
    AcquireSRWLockShared(&m->lock);
    uint64_t lo, hi;
    int rc = view_range(m, off, len, &lo, &hi);
    if (rc == MB_OK && a == MB_ADV_WILLNEED && s_os.prefetch && lo < hi) {
        /* A hint: a refusal is not an error. */
        (void)each_view(m, lo, hi, prefetch_op);
    }
    /* NORMAL/RANDOM/SEQUENTIAL: a view has no access-pattern hint on
    ** Windows (FILE_FLAG_RANDOM_ACCESS and friends steer the cache manager
    ** for ReadFile, not page faults of a view); the advice is remembered.
    ** DONTNEED: there is no call that drops a view's pages from the
    ** process without risk to file data (DiscardVirtualMemory and
    ** OfferVirtualMemory are for private memory), so it does nothing. */
    ReleaseSRWLockShared(&m->lock);
    if (rc != MB_OK) return rc;
    mb__map_note_advice(m, a, off, len);
    return MB_OK;
}

int mb_map_populate(mb_map *m, uint64_t off, uint64_t len, mb_populate how,
                    mb_populate *used) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    /* A populate promises no fault on first touch (mb_map.h).
    ** PrefetchVirtualMemory reads the range in with large I/Os but may do
    ** so asynchronously and maps nothing, so the synchronous methods follow
    ** it with a touch of every page; the asynchronous ones stop there. */
    int sync_touch = 0;
    switch (how) {
    case MB_POP_DEFAULT:
    case MB_POP_POPULATE_READ:
        sync_touch = 1;
        how = MB_POP_PREFETCH_VM;
        break;
    case MB_POP_WILLNEED:
    case MB_POP_PREFETCH_VM:
        how = MB_POP_PREFETCH_VM;
        break;
    case MB_POP_MAP_POPULATE: /* Linux only: the portable synchronous way */
        how = MB_POP_TOUCH;
        break;
    case MB_POP_NONE:
    case MB_POP_TOUCH:
        break;
    default:
        return mb__fail(MB_EINVAL, 0);
    }
    AcquireSRWLockShared(&m->lock);
    uint64_t lo, hi;
    int rc = view_range(m, off, len, &lo, &hi);
    if (rc == MB_OK && lo < hi) {
        if (how == MB_POP_PREFETCH_VM && (!s_os.prefetch || !each_view(m, lo, hi, prefetch_op)))
            how = MB_POP_TOUCH; /* Windows 7, or refused */
        if (how == MB_POP_TOUCH || sync_touch) {
            rc = mb__touch_pages(m->lay.base + lo, (size_t)(hi - lo));
            how = MB_POP_TOUCH; /* what made the promise good */
        }
    }
    ReleaseSRWLockShared(&m->lock);
    if (rc == MB_OK && used) *used = how;
    return rc;
}

/* Windows has no call that drops a mapped file's pages from the system
** cache (VirtualUnlock only trims the working set; the pages stay cached
** on the standby list), so drop-behind is not offered here. */
int mb_map_release(mb_map *m, uint64_t off, uint64_t len, mb_release how) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if ((unsigned)how > MB_REL_COLD) return mb__fail(MB_EINVAL, 0);
    uint64_t size = mb_map_size(m);
    if (off > size || (len && len > size - off)) return mb__fail(MB_ERANGE, 0);
    return mb__fail(MB_ENOTSUP, 0);
}

int mb_map_residency(mb_map *m, uint64_t off, uint64_t len, uint64_t *resident) {
    if (!m || !resident) return mb__fail(MB_EINVAL, 0);
    AcquireSRWLockShared(&m->lock);
    uint64_t lo, hi;
    int rc = view_range(m, off, len, &lo, &hi);
    ReleaseSRWLockShared(&m->lock);
    if (rc != MB_OK) return rc;
    /* Windows has no mincore: QueryWorkingSetEx tells whether a page is in
    ** this process's working set, not whether the file's page is cached
    ** (PrefetchVirtualMemory fills the cache, not the working set), so its
    ** answer would be wrong in exactly the case the scanner asks about. */
    return mb__fail(MB_ENOTSUP, 0);
}

int mb_map_huge_status(mb_map *m, mb_huge *status, uint64_t *huge_bytes) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    /* Nothing to measure: a view of a file is never in large pages. */
    if (status) *status = __atomic_load_n(&m->c.huge, __ATOMIC_RELAXED);
    if (huge_bytes) *huge_bytes = 0;
    return MB_OK;
}

static BOOL flush_op(mb_map *m, char *addr, size_t len) {
    (void)m;
    /* FlushViewOfFile fails with ERROR_LOCK_VIOLATION while the memory
    ** manager is writing the same pages; trying again succeeds. */
    for (int tries = 0; tries < 100; tries++) {
        if (FlushViewOfFile(addr, len)) return TRUE;
        if (GetLastError() != ERROR_LOCK_VIOLATION) return FALSE;
        Sleep(tries < 10 ? 0 : 1);
    }
    return FALSE;
}

int mb_map_flush(mb_map *m, uint64_t off, uint64_t len, int mode) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if (mode != MB_FLUSH_SYNC && mode != MB_FLUSH_ASYNC) return mb__fail(MB_EINVAL, 0);
    AcquireSRWLockShared(&m->lock);
    uint64_t lo, hi;
    int rc = view_range(m, off, len, &lo, &hi);
    if (rc == MB_OK && m->c.writable) {
        /* FlushViewOfFile starts the write of the dirty pages (and waits
        ** for it to be issued); FlushFileBuffers waits for it to reach the
        ** disk and commits the file's size and metadata. */
        if (lo < hi && !each_view(m, lo, hi, flush_op))
            rc = mb__fail(MB_EIO, (int)GetLastError());
        else if (mode == MB_FLUSH_SYNC && !FlushFileBuffers(m->file))
            rc = mb__fail(MB_EIO, (int)GetLastError());
    }
    ReleaseSRWLockShared(&m->lock);
    return rc;
}

int mb_map_pwrite(mb_map *m, uint64_t off, const void *buf, size_t n) {
    if (!m || (!buf && n)) return mb__fail(MB_EINVAL, 0);
    if (!m->c.writable) return mb__fail(MB_EREADONLY, 0);
    if (n == 0) return MB_OK;
    uint64_t size = mb_map_size(m);
    if (off > size || n > size - off) return mb__fail(MB_ERANGE, 0);
    const char *p = buf;
    uint64_t foff = m->c.offset + off;
    while (n > 0) {
        OVERLAPPED ov;
        DWORD want = n > 0x40000000u ? 0x40000000u : (DWORD)n, got = 0;
        memset(&ov, 0, sizeof ov);
        ov.Offset = (DWORD)foff;
        ov.OffsetHigh = (DWORD)(foff >> 32);
        if (!WriteFile(m->file, p, want, &got, &ov)) return mb__fail(MB_EIO, (int)GetLastError());
        if (got == 0) return mb__fail(MB_EIO, 0);
        p += got; foff += got; n -= got;
    }
    return MB_OK;
}

int mb_map_flush_ranges(mb_map *m, const uint64_t *aOff, const uint64_t *aLen,
                        size_t n) {
    if (!m || (n > 0 && (!aOff || !aLen))) return mb__fail(MB_EINVAL, 0);
    int rc = MB_OK;
    AcquireSRWLockShared(&m->lock);
    if (m->c.writable) {
        for (size_t i = 0; rc == MB_OK && i < n; i++) {
            uint64_t lo, hi;
            rc = view_range(m, aOff[i], aLen[i] ? aLen[i] : 1, &lo, &hi);
            if (rc == MB_OK && lo < hi && !each_view(m, lo, hi, flush_op))
                rc = mb__fail(MB_EIO, (int)GetLastError());
        }
        if (rc == MB_OK && !FlushFileBuffers(m->file))
            rc = mb__fail(MB_EIO, (int)GetLastError());
    }
    ReleaseSRWLockShared(&m->lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Hooks for the portable core files                                  */
/* ------------------------------------------------------------------ */
int mb__map_path(const mb_map *m, char **out, uint64_t *nlink) {
    BY_HANDLE_FILE_INFORMATION fi;
    if (!GetFileInformationByHandle(m->file, &fi)) return mb__fail(MB_EIO, (int)GetLastError());
    *nlink = fi.nNumberOfLinks;
    return mb__win_final_path(m->file, out);
}

int mb__map_file_id(const mb_map *m, mb_file_id *id) {
    return mb__win_file_id(m->file, id);
}

static BOOL make_writable_op(mb_map *m, char *addr, size_t len) {
    (void)m;
    DWORD old;
    return VirtualProtect(addr, len, PAGE_READWRITE, &old);
}

int mb__map_make_writable(mb_map *m) {
    if (m->c.writable) return MB_OK;
    if (!m->file_writable) return mb__fail(MB_EREADONLY, 0);
    /* The views were mapped FILE_MAP_WRITE and made read-only page by page
    ** (map_one), so writable is a protection change in place. */
    AcquireSRWLockExclusive(&m->lock);
    int rc = MB_OK;
    if (m->lay.maplen && !each_view(m, 0, mb__round_up(m->lay.maplen, s_os.page), make_writable_op))
        rc = mb__fail(MB_EIO, (int)GetLastError());
    if (rc == MB_OK) {
        m->c.writable = 1;
        m->c.flags |= MB_MAP_WRITE;
    }
    ReleaseSRWLockExclusive(&m->lock);
    return rc;
}

/* Windows keeps no idle maps by default, and a file with an open map is
** not deleted; a deleted-on-close file is not looked for here. */
int mb__map_unlinked(const mb_map *m) {
    (void)m;
    return 0;
}

/* Windows locks (LockFileEx) belong to handles: closing one drops no other
** handle's locks, so maps never need to borrow one. */
int mb__map_open_fd(const char *path, int fd, const mb_map_options *opt, mb_map **out) {
    (void)path; (void)fd; (void)opt; (void)out;
    return mb__fail(MB_ENOTSUP, 0);
}

int mb__map_borrows(const mb_map *m, int fd) {
    (void)m; (void)fd;
    return 0;
}

int mb__map_swap_fd(mb_map *m, int oldfd, int newfd) {
    (void)m; (void)oldfd; (void)newfd;
    return mb__fail(MB_EINVAL, 0);
}

/* Maps never borrow a handle on Windows (mb_map_open_fd is refused). */
int mb_map_own_fd(mb_map *m) {
    return m ? MB_OK : mb__fail(MB_EINVAL, 0);
}

void mb__yield(void) { SwitchToThread(); }

void mb__os_faults(uint64_t *minor, uint64_t *major) {
    /* Windows counts page faults without telling soft from hard ones. */
    PROCESS_MEMORY_COUNTERS pmc;
    if (K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
        *minor = pmc.PageFaultCount;
    else
        *minor = 0;
    *major = 0;
}

int mb_map_stamp(const mb_map *m, uint64_t *size, int64_t *mtime_ns) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    BY_HANDLE_FILE_INFORMATION fi;
    if (!GetFileInformationByHandle(m->file, &fi)) return mb__fail(MB_EIO, (int)GetLastError());
    if (size) *size = ((uint64_t)fi.nFileSizeHigh << 32) | fi.nFileSizeLow;
    if (mtime_ns) {
        /* FILETIME: 100 ns ticks since 1601-01-01 */
        uint64_t ticks = ((uint64_t)fi.ftLastWriteTime.dwHighDateTime << 32) |
                         fi.ftLastWriteTime.dwLowDateTime;
        const uint64_t epoch_1970 = 116444736000000000ull;
        *mtime_ns = (int64_t)(ticks - epoch_1970) * 100;
    }
    return MB_OK;
}

int mb_map_change_stamp(const mb_map *m, mb_stamp *out) {
    if (!m || !out) return mb__fail(MB_EINVAL, 0);
    BY_HANDLE_FILE_INFORMATION fi;
    FILE_BASIC_INFO bi;
    FILETIME now;
    const uint64_t epoch_1970 = 116444736000000000ull;
    if (!GetFileInformationByHandle(m->file, &fi)) return mb__fail(MB_EIO, (int)GetLastError());
    if (!GetFileInformationByHandleEx(m->file, FileBasicInfo, &bi, sizeof bi)) {
        return mb__fail(MB_EIO, (int)GetLastError());
    }
    GetSystemTimeAsFileTime(&now);
    out->dev = fi.dwVolumeSerialNumber;
    out->ino = ((uint64_t)fi.nFileIndexHigh << 32) | fi.nFileIndexLow;
    out->size = ((uint64_t)fi.nFileSizeHigh << 32) | fi.nFileSizeLow;
    out->mtime_ns = (int64_t)((uint64_t)bi.LastWriteTime.QuadPart - epoch_1970) * 100;
    out->ctime_ns = (int64_t)((uint64_t)bi.ChangeTime.QuadPart - epoch_1970) * 100;
    out->read_ns = (int64_t)((((uint64_t)now.dwHighDateTime << 32) | now.dwLowDateTime)
                             - epoch_1970) * 100;
    return MB_OK;
}

/* One byte, past any real data: a lock on it does not stop ReadFile or
** WriteFile of the file's bytes by others (Windows locks are mandatory). */
#define MB_WRITER_LOCK_BYTE 0x4000000000000000ULL

static int lock_byte(HANDLE h, uint64_t at, int eNew, int nowait) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)at;
    ov.OffsetHigh = (DWORD)(at >> 32);
    if (eNew == 0) {
        if (!UnlockFileEx(h, 0, 1, 0, &ov)) {
            DWORD e = GetLastError();
            return e == ERROR_NOT_LOCKED ? MB_OK : mb__fail(MB_EIO, (int)e);
        }
        return MB_OK;
    }
    DWORD flags = eNew == 2 ? LOCKFILE_EXCLUSIVE_LOCK : 0;
    if (nowait) flags |= LOCKFILE_FAIL_IMMEDIATELY;
    if (!LockFileEx(h, flags, 0, 1, 0, &ov)) {
        DWORD e = GetLastError();
        if (e == ERROR_LOCK_VIOLATION || e == ERROR_IO_PENDING) return mb__fail(MB_EBUSY, (int)e);
        return mb__fail(MB_EIO, (int)e);
    }
    return MB_OK;
}

int mb_map_lock(mb_map *m, int how) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    int mode = how & ~MB_LOCK_NOWAIT;
    if (mode == MB_LOCK_UNLOCK) return lock_byte(m->file, MB_WRITER_LOCK_BYTE, 0, 0);
    if (mode != MB_LOCK_SHARED && mode != MB_LOCK_EXCLUSIVE) return mb__fail(MB_EINVAL, 0);
    return lock_byte(m->file, MB_WRITER_LOCK_BYTE, mode == MB_LOCK_EXCLUSIVE ? 2 : 1,
                     (how & MB_LOCK_NOWAIT) != 0);
}

/* Windows cannot convert a lock or split a range: one byte at a time,
** and a conversion drops the old lock first (taking it back if the new one
** is refused). */
int mb__os_view_lock(mb_map *m, int op, int bShared) {
    int rc;
    switch (op) {
    case MB__VIEW_OS_SHARED:
        rc = lock_byte(m->file, MB_VIEW_PENDING_BYTE, 1, 1);
        if (rc != MB_OK) return rc;
        rc = lock_byte(m->file, MB_VIEW_LOCK_BYTE, 1, 1);
        (void)lock_byte(m->file, MB_VIEW_PENDING_BYTE, 0, 1);
        return rc;
    case MB__VIEW_OS_UNLOCK:
        return lock_byte(m->file, MB_VIEW_LOCK_BYTE, 0, 1);
    case MB__VIEW_OS_PENDING:
        return lock_byte(m->file, MB_VIEW_PENDING_BYTE, 2, 1);
    case MB__VIEW_OS_EXCL:
        if (bShared) {
            rc = lock_byte(m->file, MB_VIEW_LOCK_BYTE, 0, 1);
            if (rc != MB_OK) return rc;
        }
        rc = lock_byte(m->file, MB_VIEW_LOCK_BYTE, 2, 1);
        if (rc != MB_OK && bShared) (void)lock_byte(m->file, MB_VIEW_LOCK_BYTE, 1, 1);
        return rc;
    case MB__VIEW_OS_DONE:
        rc = lock_byte(m->file, MB_VIEW_LOCK_BYTE, 0, 1);
        if (rc == MB_OK && bShared) rc = lock_byte(m->file, MB_VIEW_LOCK_BYTE, 1, 1);
        (void)lock_byte(m->file, MB_VIEW_PENDING_BYTE, 0, 1);
        return rc;
    case MB__VIEW_OS_CANCEL:
        return lock_byte(m->file, MB_VIEW_PENDING_BYTE, 0, 1);
    default:
        return mb__fail(MB_EINVAL, 0);
    }
}


/* Soft faults are a POSIX signal-handler feature (mb_map.h). */
int mb_map_enable_soft_faults(mb_map *m) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    return mb__fail(MB_ENOTSUP, 0);
}
uint64_t mb_map_soft_faults(const mb_map *m) { (void)m; return 0; }

int mb_map_touch(mb_map *m) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    FILETIME now;
    GetSystemTimeAsFileTime(&now);
    if (!SetFileTime(m->file, NULL, NULL, &now)) return mb__fail(MB_EIO, (int)GetLastError());
    return MB_OK;
}
