/*
** mb_policy.c -- the process's file policy (mb_map.h): which files may be
** opened by name. Portable; the backends resolve paths (mb__os_realpath,
** mb__os_path_info).
**
** A path is checked twice. Before the open, its resolved name must lie
** inside an allowed directory: nothing outside is even opened. After the
** open, the name resolved again must still lie inside, and must name the
** very file that was opened (same identity): a symlink or directory
** swapped between the check and the open is caught there, whatever the
** race. "Inside" compares canonical names component by component; a name
** that is not inside by its text is still inside when one of its
** ancestors is an allowed directory by identity (the same directory
** reached through another mount of it).
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "mb_internal.h"
#include "mb_mutex.h"

typedef struct pdir {
    char *path;          /* canonical name (mb__os_realpath) */
    size_t len;
    mb_file_id id;       /* identity when it was set */
} pdir;

static mb_mutex s_mu = MB_MUTEX_INIT;      /* guards everything below */
static int s_state = MB_POLICY_OPEN;
static pdir *s_dirs;
static size_t s_ndirs;
static char s_source[128];                 /* who set the state */

static mb_mutex s_env_mu = MB_MUTEX_INIT;  /* mb_policy_from_env, once */
static int s_env_done, s_env_rc;
static char s_env_why[768];

static void say(char *why, size_t n, const char *fmt, ...) MB_PRINTF_LIKE(3, 4);
static void say(char *why, size_t n, const char *fmt, ...) {
    if (!why || n == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

static int is_sep(char c) {
#if defined(_WIN32)
    return c == '\\' || c == '/';
#else
    return c == '/';
#endif
}

static void free_dirs(pdir *d, size_t n) {
    for (size_t i = 0; i < n; i++) free(d[i].path);
    free(d);
}

/* ------------------------------------------------------------ describe */

/* The list "d1:d2" into buf; the length of the whole text. Lock held. */
static size_t describe_locked(char *buf, size_t n) {
    const char *fixed = s_state == MB_POLICY_OPEN ? "unrestricted"
                      : s_state == MB_POLICY_NONE ? "no file access" : NULL;
    size_t total = 0;
    if (fixed) {
        total = strlen(fixed);
        if (n) snprintf(buf, n, "%s", fixed);
        return total;
    }
    if (n) buf[0] = 0;
    for (size_t i = 0; i < s_ndirs; i++) {
        if (i) {
            if (total + 1 < n) { buf[total] = MB__LIST_SEP; buf[total + 1] = 0; }
            total++;
        }
        size_t l = s_dirs[i].len;
        if (total < n) {
            size_t room = n - total - 1;
            size_t c = l < room ? l : room;
            memcpy(buf + total, s_dirs[i].path, c);
            buf[total + c] = 0;
        }
        total += l;
    }
    return total;
}

size_t mb_policy_describe(char *buf, size_t n) {
    mb_mutex_enter(&s_mu);
    size_t r = describe_locked(buf, n);
    mb_mutex_leave(&s_mu);
    return r;
}

int mb_policy_state(void) {
    mb_mutex_enter(&s_mu);
    int s = s_state;
    mb_mutex_leave(&s_mu);
    return s;
}

/* "the allowed directories /a:/b (set by X)" or "file access is turned
** off (by X)", for messages. Lock held. */
static void phrase_locked(char *buf, size_t n) {
    if (s_state == MB_POLICY_NONE) {
        snprintf(buf, n, "file access is turned off (by %s)", s_source);
        return;
    }
    char list[512];
    size_t l = describe_locked(list, sizeof list);
    snprintf(buf, n, "the allowed directories %s%s (set by %s)", list,
             l >= sizeof list ? "..." : "", s_source);
}

size_t mb_policy_source(char *buf, size_t n) {
    mb_mutex_enter(&s_mu);
    size_t l = strlen(s_source);
    if (n) snprintf(buf, n, "%s", s_source);
    mb_mutex_leave(&s_mu);
    return l;
}

size_t mb_policy_phrase(char *buf, size_t n) {
    char tmp[1024];
    mb_mutex_enter(&s_mu);
    if (s_state == MB_POLICY_OPEN) snprintf(tmp, sizeof tmp, "no file policy");
    else phrase_locked(tmp, sizeof tmp);
    mb_mutex_leave(&s_mu);
    if (n) snprintf(buf, n, "%s", tmp);
    return strlen(tmp);
}

/* ---------------------------------------------------------- containment */

/* Is the canonical name r inside directory d by its text? */
static int inside_text(const pdir *d, const char *r, size_t rlen) {
    if (rlen < d->len || !mb__os_path_prefix_eq(r, d->path, d->len)) return 0;
    if (r[d->len] == 0 || is_sep(r[d->len])) return 1;
    return d->len > 0 && is_sep(d->path[d->len - 1]);   /* "/" or "C:\" */
}

/* Is r inside an allowed directory? By text first; failing that, is one
** of r's ancestors an allowed directory by identity (another mount of
** it)? Lock held. */
static int inside_locked(const char *r) {
    size_t rlen = strlen(r);
    for (size_t i = 0; i < s_ndirs; i++)
        if (inside_text(&s_dirs[i], r, rlen)) return 1;
    char *buf = malloc(rlen + 1);
    if (!buf) return 0;
    memcpy(buf, r, rlen + 1);
    size_t end = rlen;
    int found = 0;
    while (!found && end > 0) {
        mb_file_id id;
        uint64_t nlink;
        int is_dir;
        buf[end] = 0;
        if (mb__os_path_info(buf, &id, &nlink, &is_dir) == MB_OK && is_dir) {
            for (size_t i = 0; i < s_ndirs && !found; i++)
                found = s_dirs[i].id.dev == id.dev && s_dirs[i].id.ino == id.ino;
        }
        /* the parent: cut the last component, keep a root's separator */
        size_t k = end;
        while (k > 0 && !is_sep(buf[k - 1])) k--;
        if (k == 0) break;
        size_t parent = k - 1;
        if (parent == 0 || (parent == 2 && buf[1] == ':')) parent = k;
        if (parent >= end) break;
        end = parent;
    }
    free(buf);
    return found;
}

/* ------------------------------------------------------------ resolving */

/* "a/b" + sep + "c" into a new string; b may be NULL or empty. */
static char *join3(const char *a, size_t na, const char *b) {
    size_t nb = b ? strlen(b) : 0;
    char *j = malloc(na + nb + 2);
    if (!j) return NULL;
    memcpy(j, a, na);
    size_t n = na;
    if (nb) {
        if (n && !is_sep(j[n - 1])) j[n++] = MB__DIR_SEP;
        memcpy(j + n, b, nb);
        n += nb;
    }
    j[n] = 0;
    return j;
}

/*
** The canonical name of path, existing or not: a path that does not exist
** is resolved through its longest existing ancestor, the missing rest
** appended. A dangling symlink on the way is followed to its target (so a
** link inside that points to a missing file outside resolves outside: an
** O_CREAT through it would create the file there). A ".." in the missing
** rest cannot be resolved (MB_ENOENT). malloc'd into *out.
*/
static int resolve(const char *path, char **out) {
    char *cur = join3(path, strlen(path), NULL);   /* what is tried now */
    char *rest = join3("", 0, NULL);               /* the missing components */
    char *r = NULL;
    int rc = MB_ENOMEM, follows = 0;
    while (cur && rest) {
        /* no separator at the end of the name tried (a root excepted): with
        ** one, realpath and lstat look through a dangling symlink instead
        ** of at it, and the link would not be followed */
        size_t t = strlen(cur);
        while (t > 1 && is_sep(cur[t - 1]) && !(t == 3 && cur[1] == ':')) cur[--t] = 0;
        rc = mb__os_realpath(cur[0] ? cur : ".", &r);
        if (rc != MB_ENOENT) break;
        char *target = NULL;
        if (cur[0] && follows < 40 && mb__os_readlink(cur, &target) == MB_OK) {
            /* a dangling symlink: go on from its target */
            follows++;
            char *next;
            size_t k = strlen(cur);
            while (k > 0 && is_sep(cur[k - 1])) k--;
            while (k > 0 && !is_sep(cur[k - 1])) k--;
            int absolute = is_sep(target[0]) ||
                           (target[0] && target[1] == ':');   /* C:\ */
            next = absolute ? join3(target, strlen(target), NULL) : join3(cur, k, target);
            free(target);
            free(cur);
            cur = next;
            continue;
        }
        free(target);
        /* strip the last component of cur onto rest */
        size_t e = strlen(cur);
        while (e > 0 && is_sep(cur[e - 1])) e--;
        size_t b = e;
        while (b > 0 && !is_sep(cur[b - 1])) b--;
        if (e == 0) break;                      /* nothing left: MB_ENOENT */
        char *nrest = join3(cur + b, e - b, rest);
        free(rest);
        rest = nrest;
        cur[b] = 0;
    }
    free(cur);
    if (rc != MB_OK || !rest) {
        free(rest);
        free(r);
        return rc == MB_OK ? MB_ENOMEM : rc;
    }
    /* r + the missing components, "." dropped, ".." refused */
    size_t rl = strlen(r), nr = strlen(rest);
    char *j = malloc(rl + nr + 2);
    if (!j) { free(r); free(rest); return MB_ENOMEM; }
    memcpy(j, r, rl);
    size_t jl = rl;
    free(r);
    const char *p = rest;
    while (*p) {
        while (is_sep(*p)) p++;
        const char *s0 = p;
        while (*p && !is_sep(*p)) p++;
        size_t cl = (size_t)(p - s0);
        if (cl == 0 || (cl == 1 && s0[0] == '.')) continue;
        if (cl == 2 && s0[0] == '.' && s0[1] == '.') { free(j); free(rest); return MB_ENOENT; }
        if (jl == 0 || !is_sep(j[jl - 1])) j[jl++] = MB__DIR_SEP;
        memcpy(j + jl, s0, cl);
        jl += cl;
    }
    j[jl] = 0;
    free(rest);
    *out = j;
    return MB_OK;
}

/* -------------------------------------------------------------- setting */

int mb_policy_allow(const char *const *dirs, size_t n, const char *source,
                    char *why, size_t nwhy) {
    if (!dirs || n == 0) {
        say(why, nwhy, "no directory given");
        return mb__fail(MB_EINVAL, 0);
    }
    pdir *d = calloc(n, sizeof *d);
    if (!d) return mb__fail(MB_ENOMEM, 0);
    int rc = MB_OK;
    for (size_t i = 0; i < n && rc == MB_OK; i++) {
        uint64_t nlink;
        int is_dir = 0;
        if (!dirs[i] || !dirs[i][0]) {
            say(why, nwhy, "an empty directory name");
            rc = MB_EINVAL;
            break;
        }
        rc = mb__os_realpath(dirs[i], &d[i].path);
        if (rc == MB_OK) rc = mb__os_path_info(d[i].path, &d[i].id, &nlink, &is_dir);
        if (rc != MB_OK) {
            say(why, nwhy, "\"%s\": cannot resolve: %s", dirs[i], mb_strerror(rc));
            rc = MB_EINVAL;
        } else if (!is_dir) {
            say(why, nwhy, "\"%s\" (resolves to \"%s\") is not a directory", dirs[i], d[i].path);
            rc = MB_EINVAL;
        } else {
            d[i].len = strlen(d[i].path);
        }
    }
    if (rc != MB_OK) {
        free_dirs(d, n);
        return mb__fail(rc, 0);
    }
    mb_mutex_enter(&s_mu);
    char phrase[700];
    if (s_state == MB_POLICY_NONE) {
        say(why, nwhy, "file access was turned off by %s and cannot be turned on again in "
            "this process", s_source);
        rc = MB_EPOLICY;
    } else if (s_state == MB_POLICY_DIRS) {
        for (size_t i = 0; i < n && rc == MB_OK; i++) {
            if (!inside_locked(d[i].path)) {
                phrase_locked(phrase, sizeof phrase);
                say(why, nwhy, "\"%s\" (resolves to \"%s\") is outside %s: the policy can only narrow",
                    dirs[i], d[i].path, phrase);
                rc = MB_EPOLICY;
            }
        }
    }
    if (rc == MB_OK) {
        free_dirs(s_dirs, s_ndirs);
        s_dirs = d;
        s_ndirs = n;
        s_state = MB_POLICY_DIRS;
        snprintf(s_source, sizeof s_source, "%s", source ? source : "the application");
        d = NULL;
    }
    mb_mutex_leave(&s_mu);
    if (d) free_dirs(d, n);
    return rc == MB_OK ? MB_OK : mb__fail(rc, 0);
}

int mb_policy_allow_list(const char *list, const char *source, char *why, size_t nwhy) {
    if (!list) return mb__fail(MB_EINVAL, 0);
    size_t len = strlen(list), cap = 1;
    for (size_t i = 0; i < len; i++) cap += list[i] == MB__LIST_SEP;
    char *copy = malloc(len + 1);
    const char **v = malloc(cap * sizeof *v);
    if (!copy || !v) {
        free(copy);
        free(v);
        return mb__fail(MB_ENOMEM, 0);
    }
    memcpy(copy, list, len + 1);
    size_t n = 0;
    char *s = copy;
    for (;;) {
        char *e = strchr(s, MB__LIST_SEP);
        if (e) *e = 0;
        if (*s) v[n++] = s;
        if (!e) break;
        s = e + 1;
    }
    int rc;
    if (n == 0) {
        mb_policy_deny_all(source);
        rc = MB_OK;
    } else {
        rc = mb_policy_allow(v, n, source, why, nwhy);
    }
    free(v);
    free(copy);
    return rc;
}

void mb_policy_deny_all(const char *source) {
    mb_mutex_enter(&s_mu);
    if (s_state != MB_POLICY_NONE)
        snprintf(s_source, sizeof s_source, "%s", source ? source : "the application");
    free_dirs(s_dirs, s_ndirs);
    s_dirs = NULL;
    s_ndirs = 0;
    s_state = MB_POLICY_NONE;
    mb_mutex_leave(&s_mu);
}

int mb_policy_from_env(const char *var, char *why, size_t nwhy) {
    if (!var) return mb__fail(MB_EINVAL, 0);
    mb_mutex_enter(&s_env_mu);
    if (!s_env_done) {
        s_env_done = 1;
        const char *v = getenv(var);
        if (v) {
            char w[700] = "";
            s_env_rc = mb_policy_allow_list(v, var, w, sizeof w);
            if (s_env_rc != MB_OK) {
                snprintf(s_env_why, sizeof s_env_why, "%s: %s", var, w);
                mb_policy_deny_all(var);
            }
        }
    }
    int rc = s_env_rc;
    if (rc != MB_OK) say(why, nwhy, "%s", s_env_why);
    mb_mutex_leave(&s_env_mu);
    return rc;
}

/* ------------------------------------------------------------- checking */

/* mb_policy_check_path, also giving the resolved name (when a directories
** policy resolved it; else NULL) to *resolved (malloc'd). */
static int check_path_r(const char *path, char *why, size_t nwhy, char **resolved) {
    if (resolved) *resolved = NULL;
    if (!path) return mb__fail(MB_EINVAL, 0);
    char phrase[700];
    mb_mutex_enter(&s_mu);
    int st = s_state;
    if (st == MB_POLICY_NONE) {
        phrase_locked(phrase, sizeof phrase);
        say(why, nwhy, "\"%s\": %s", path, phrase);
    }
    mb_mutex_leave(&s_mu);
    if (st == MB_POLICY_OPEN) return MB_OK;
    if (st == MB_POLICY_NONE) return mb__fail(MB_EPOLICY, 0);

    char *r = NULL;
    int rc = resolve(path, &r);     /* outside the lock: it may block */
    mb_mutex_enter(&s_mu);
    phrase_locked(phrase, sizeof phrase);
    int ok = rc == MB_OK && s_state == MB_POLICY_DIRS && inside_locked(r);
    mb_mutex_leave(&s_mu);
    if (!ok) {
        if (rc != MB_OK) {
            say(why, nwhy, "\"%s\" cannot be resolved (%s), so it cannot be shown to lie inside %s",
                path, mb_strerror(rc), phrase);
        } else {
            say(why, nwhy, "\"%s\" resolves to \"%s\", outside %s", path, r, phrase);
        }
        free(r);
        return mb__fail(MB_EPOLICY, 0);
    }
    if (resolved) *resolved = r;
    else free(r);
    return MB_OK;
}

int mb_policy_check_path(const char *path, char *why, size_t nwhy) {
    return check_path_r(path, why, nwhy, NULL);
}

int mb_policy_check_map(const mb_map *m, const char *path, char *why, size_t nwhy) {
    if (!m || !path) return mb__fail(MB_EINVAL, 0);
    char phrase[700];
    mb_mutex_enter(&s_mu);
    int st = s_state;
    phrase_locked(phrase, sizeof phrase);
    mb_mutex_leave(&s_mu);
    if (st == MB_POLICY_OPEN) return MB_OK;
    if (st == MB_POLICY_NONE) {
        say(why, nwhy, "\"%s\": %s", path, phrase);
        return mb__fail(MB_EPOLICY, 0);
    }

    /* The name the system gives the open file itself: a symlink or a
    ** directory swapped after the open cannot change it. */
    char *r = NULL;
    uint64_t nlink = 0;
    int rc = mb__map_path(m, &r, &nlink);
    if (rc == MB_ENOTSUP) {
        /* No such name here: resolve the path again and require that it
        ** names the file opened. (A swap between this resolution and the
        ** identity check could still fool it: only on systems without a
        ** descriptor's name.) */
        mb_file_id opened, named;
        int is_dir;
        rc = mb__map_file_id(m, &opened);
        if (rc == MB_OK) rc = mb__os_realpath(path, &r);
        if (rc == MB_OK) rc = mb__os_path_info(r, &named, &nlink, &is_dir);
        if (rc == MB_OK && (named.dev != opened.dev || named.ino != opened.ino)) {
            say(why, nwhy, "\"%s\": the file opened is not the file it resolves to now "
                "(\"%s\"); it changed during the open: refused under %s", path, r, phrase);
            free(r);
            return mb__fail(MB_EPOLICY, 0);
        }
    }
    if (rc != MB_OK) {
        say(why, nwhy, "\"%s\": the name of the file opened cannot be read (%s): refused under %s",
            path, mb_strerror(rc), phrase);
        free(r);
        return mb__fail(MB_EPOLICY, 0);
    }
    /* The name as this process resolves it must be the file opened: a file
    ** reached through another mount namespace (/proc/PID/root/...) has a
    ** name there that means another file, or nothing, here. */
    mb_file_id opened, named;
    uint64_t nl2;
    int is_dir2;
    rc = mb__map_file_id(m, &opened);
    if (rc == MB_OK) rc = mb__os_path_info(r, &named, &nl2, &is_dir2);
    if (rc != MB_OK || named.dev != opened.dev || named.ino != opened.ino) {
        say(why, nwhy, "\"%s\": the file opened, named \"%s\" by the system, is not the file "
            "that name means in this process; it changed during the open, or lies in another "
            "mount namespace: refused under %s", path, r, phrase);
        free(r);
        return mb__fail(MB_EPOLICY, 0);
    }
    mb_mutex_enter(&s_mu);
    int inside = s_state == MB_POLICY_DIRS && inside_locked(r);
    mb_mutex_leave(&s_mu);
    if (!inside) {
        say(why, nwhy, "\"%s\": the file opened is \"%s\", outside %s; it changed during "
            "the open: refused", path, r, phrase);
        free(r);
        return mb__fail(MB_EPOLICY, 0);
    }
    free(r);
    if (nlink > 1) {
        say(why, nwhy, "\"%s\" has %llu hard links; under %s only files with one name are opened",
            path, (unsigned long long)nlink, phrase);
        return mb__fail(MB_EPOLICY, 0);
    }
    return MB_OK;
}

int mb_registry_acquire_checked(const char *path, unsigned flags, mb_map **out,
                                char *why, size_t nwhy) {
    if (why && nwhy) why[0] = 0;
    if (out) *out = NULL;
    char *r = NULL;
    int rc = check_path_r(path, why, nwhy, &r);
    if (rc != MB_OK) return rc;
    if (r && (flags & MB_MAP_CREATE)) {
        /* Under a directories policy, a file to create is created here,
        ** exclusively, in its checked directory and never through a symlink;
        ** the open below then creates nothing. (An O_CREAT open through a
        ** symlink swapped in after the check would create the file wherever
        ** the symlink points, even if the check after the open refused it.) */
        int crc = mb__os_create_excl(r);
        if (crc == MB_OK) {
            flags &= ~(unsigned)MB_MAP_CREATE;
        } else if (crc != MB_ENOTSUP && crc != MB_EPOLICY) {
            free(r);
            return crc;     /* no directory, no permission: as the open says */
        } else if (crc != MB_ENOTSUP) {
            char phrase[700];
            mb_policy_phrase(phrase, sizeof phrase);
            say(why, nwhy, "\"%s\": cannot create \"%s\" in its checked directory: it "
                "changed during the open: refused under %s", path, r, phrase);
            free(r);
            return mb__fail(MB_EPOLICY, 0);
        }
    }
    free(r);
    rc = mb_registry_acquire(path, flags, out);
    if (rc != MB_OK) return rc;
    rc = mb_policy_check_map(*out, path, why, nwhy);
    if (rc != MB_OK) {
        int os = mb_last_oserror();
        mb_registry_release(*out);
        *out = NULL;
        return mb__fail(rc, os);
    }
    return MB_OK;
}

void mb__policy_reset(void) {
    mb_mutex_enter(&s_mu);
    free_dirs(s_dirs, s_ndirs);
    s_dirs = NULL;
    s_ndirs = 0;
    s_state = MB_POLICY_OPEN;
    s_source[0] = 0;
    mb_mutex_leave(&s_mu);
    mb_mutex_enter(&s_env_mu);
    s_env_done = 0;
    s_env_rc = MB_OK;
    s_env_why[0] = 0;
    mb_mutex_leave(&s_env_mu);
}
