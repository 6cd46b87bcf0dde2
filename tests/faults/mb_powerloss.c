/*
** mb_powerloss.c -- an LD_PRELOAD library that simulates a power loss at
** a chosen moment and writes out what the disk would hold afterwards, for
** tests/faults/test_powerloss.c.
**
** It watches the files whose path contains MB_POWERLOSS_PATTERN (the
** record file and its -mbjournal) and keeps, per file, its *durable*
** image, a model of what a disk that honours fsync holds:
**
**   fsync, fdatasync of a descriptor of the file   the whole current file
**                                                  (bytes and length)
**   msync(MS_SYNC) of a mapping of the file        the synced range's
**                                                  pages, and the length
**   fsync/fdatasync of a descriptor of the         the creation or the
**   file's directory                               unlink of the file
**
** A file that exists when it is first opened is taken as durable as it is
** (the driver writes it before the run). A file created later has an empty
** durable image and a directory entry that is not durable until its
** directory is synced; an unlinked file keeps its durable image until then.
**
** Events: every write, pwrite, ftruncate, fallocate, fsync, fdatasync,
** msync(MS_SYNC) on a watched file, every creation and unlink of one, and
** every sync of the directory of one. At event number MB_POWERLOSS_AT
** (from 1; before the call runs) the power fails: the library writes, into
** the directory MB_POWERLOSS_OUT, each watched file as the disk may hold
** it (below), then "crash" (the event, its number) and calls _exit(0).
** MB_POWERLOSS_AT unset or 0: count only; at exit "events" holds the count.
**
** The disk after the power loss, per file, with a generator seeded by
** MB_POWERLOSS_SEED and the event number:
**   - its length is the durable one or the current one, at random;
**   - each 4 KiB page whose durable and current bytes differ holds the one
**     or the other, at random (bytes past a source's end read as zeros);
**   - a file whose creation is not durable is absent or present, at
**     random; one whose unlink is not durable is present (its durable
**     image) or absent, at random.
** Stores through a shared mapping need no event: the current bytes are
** read from the file (the page cache) at the crash.
**
** MB_POWERLOSS_NOSYNC_JOURNAL=1 (the driver's self-test): syncs of a file
** whose name contains "-mbjournal" make nothing durable.
** MB_POWERLOSS_LOG=1: each event is appended to OUT/events.log.
** The real fsync, fdatasync and msync(MS_SYNC) are skipped (they return 0:
** the disk is simulated, and real syncs only slow the test down) unless
** MB_POWERLOSS_REALSYNC=1.
*/
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PL_PAGE 4096
#define PL_MAXFILE 16

typedef struct PlFile {
  char zPath[1024];
  unsigned char *aDur;     /* the durable bytes */
  size_t nDur;
  int bDurExists;          /* the directory entry is durable */
  int bNowExists;
  unsigned char *aGhost;   /* unlinked, not durably, then created again: */
  size_t nGhost;           /* the old file's durable bytes */
  int bGhost;
} PlFile;

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static int s_init;
static char s_pattern[1024], s_out[1024];
static long s_at, s_events;
static uint64_t s_seed;
static int s_nosyncJournal, s_log, s_realSync;
static PlFile s_files[PL_MAXFILE];
static int s_nFile;
static __thread int t_inLayer;   /* this thread is inside the layer */

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*fd_fn)(int);
typedef int (*trunc_fn)(int, off_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*msync_fn)(void *, size_t, int);
typedef int (*unlink_fn)(const char *);
typedef int (*unlinkat_fn)(int, const char *, int);
typedef int (*falloc_fn)(int, int, off_t, off_t);
typedef int (*pfalloc_fn)(int, off_t, off_t);

static void *real(const char *name) {
  void *p = dlsym(RTLD_NEXT, name);
  if (!p) {
    static const char msg[] = "mb_powerloss: a real function is missing\n";
    (void)!syscall(SYS_write, 2, msg, sizeof msg - 1);
    _exit(127);
  }
  return p;
}

#define REAL(type, name) \
  static type s_##name; \
  type fn = __atomic_load_n(&s_##name, __ATOMIC_ACQUIRE); \
  if (!fn) { *(void **)&fn = real(#name); __atomic_store_n(&s_##name, fn, __ATOMIC_RELEASE); }

static ssize_t real_write(int fd, const void *b, size_t n) {
  REAL(write_fn, write)
  return fn(fd, b, n);
}
static int real_open(const char *z, int flags, mode_t mode) {
  REAL(open_fn, open)
  return fn(z, flags, mode);
}

static void init(void) {
  const char *z;
  if (s_init) return;
  s_init = 1;
  z = getenv("MB_POWERLOSS_PATTERN");
  snprintf(s_pattern, sizeof s_pattern, "%s", z ? z : "");
  z = getenv("MB_POWERLOSS_OUT");
  snprintf(s_out, sizeof s_out, "%s", z ? z : "");
  z = getenv("MB_POWERLOSS_AT");
  s_at = z ? atol(z) : 0;
  z = getenv("MB_POWERLOSS_SEED");
  s_seed = z ? strtoull(z, 0, 10) : 1;
  z = getenv("MB_POWERLOSS_NOSYNC_JOURNAL");
  s_nosyncJournal = z && z[0] == '1';
  z = getenv("MB_POWERLOSS_REALSYNC");
  s_realSync = z && z[0] == '1';
  z = getenv("MB_POWERLOSS_LOG");
  s_log = z && z[0] == '1';
}

static int watched(const char *zPath) {
  return s_pattern[0] && zPath[0] && strstr(zPath, s_pattern) != 0;
}

/* ------------------------------------------------------------ files */

static void outPath(char *zOut, size_t n, const char *zName) {
  if (snprintf(zOut, n, "%s/%s", s_out, zName) >= (int)n) _exit(125);
}

static void writeWhole(const char *zPath, const unsigned char *a, size_t n) {
  int fd = real_open(zPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  size_t k = 0;
  if (fd < 0) _exit(120);
  while (k < n) {
    ssize_t w = real_write(fd, a + k, n - k);
    if (w <= 0) _exit(121);
    k += (size_t)w;
  }
  close(fd);
}

static void appendText(const char *zName, const char *zText) {
  char zPath[1200];
  int fd;
  outPath(zPath, sizeof zPath, zName);
  fd = real_open(zPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!real_write(fd, zText, strlen(zText));
  close(fd);
}

/* The current bytes of a path (malloc'd), or 0 with *pn = 0. */
static unsigned char *readWhole(const char *zPath, size_t *pn) {
  int fd = real_open(zPath, O_RDONLY | O_CLOEXEC, 0);
  struct stat st;
  unsigned char *a;
  size_t k = 0;
  *pn = 0;
  if (fd < 0) return 0;
  if (fstat(fd, &st) != 0) { close(fd); return 0; }
  a = malloc((size_t)st.st_size + 1);
  if (!a) _exit(122);
  while (k < (size_t)st.st_size) {
    ssize_t r = pread(fd, a + k, (size_t)st.st_size - k, (off_t)k);
    if (r <= 0) break;
    k += (size_t)r;
  }
  close(fd);
  *pn = k;
  return a;
}

static PlFile *findFile(const char *zPath) {
  for (int i = 0; i < s_nFile; i++)
    if (strcmp(s_files[i].zPath, zPath) == 0) return &s_files[i];
  return 0;
}

static PlFile *addFile(const char *zPath) {
  PlFile *f = findFile(zPath);
  if (f) return f;
  if (s_nFile == PL_MAXFILE) _exit(123);
  f = &s_files[s_nFile++];
  memset(f, 0, sizeof *f);
  snprintf(f->zPath, sizeof f->zPath, "%s", zPath);
  return f;
}

/* The path of a descriptor; "" when it has none or names a deleted file. */
static void fdPath(int fd, char *out, size_t n) {
  char link[64];
  ssize_t k;
  out[0] = 0;
  if (fd < 0) return;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  k = readlink(link, out, n - 1);
  out[k > 0 ? (size_t)k : 0] = 0;
  if (k > 10 && strcmp(out + k - 10, " (deleted)") == 0) out[0] = 0;
}

/* An absolute form of a path given to open or unlink. */
static void absPath(int dirfd, const char *z, char *out, size_t n) {
  char base[1024];
  if (z[0] == '/') { snprintf(out, n, "%s", z); return; }
  if (dirfd == AT_FDCWD) {
    if (!getcwd(base, sizeof base)) base[0] = 0;
  } else {
    fdPath(dirfd, base, sizeof base);
  }
  snprintf(out, n, "%s/%s", base, z);
}

static void dirOf(const char *zPath, char *out, size_t n) {
  const char *s = strrchr(zPath, '/');
  size_t k = s ? (size_t)(s - zPath) : 0;
  if (k >= n) k = n - 1;
  memcpy(out, zPath, k);
  out[k] = 0;
  if (k == 0 && s) snprintf(out, n, "/");
}

/* ---------------------------------------------------- the power loss */

static uint64_t s_rng;
static unsigned rnd(void) {
  /* splitmix64 */
  uint64_t z = (s_rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (unsigned)((z ^ (z >> 31)) >> 11);
}

/* The file the disk holds: length of one, pages of either at random. */
static unsigned char *mix(const unsigned char *aD, size_t nD, const unsigned char *aC,
                          size_t nC, size_t *pn) {
  size_t n = (rnd() & 1) ? nC : nD;
  unsigned char *a = calloc(1, n + 1);
  if (!a) _exit(124);
  for (size_t pg = 0; pg < n; pg += PL_PAGE) {
    size_t len = n - pg < PL_PAGE ? n - pg : PL_PAGE;
    int bSame = pg + len <= nD && pg + len <= nC && memcmp(aD + pg, aC + pg, len) == 0;
    int bCur = bSame ? 1 : (int)(rnd() & 1);
    const unsigned char *src = bCur ? aC : aD;
    size_t nSrc = bCur ? nC : nD;
    for (size_t i = pg; i < pg + len && i < nSrc; i++) a[i] = src[i];
  }
  *pn = n;
  return a;
}

static void crash(const char *zEvent, const char *zPath) {
  char zOut[1200], zLine[1400];
  s_rng = s_seed * 1000003ULL + (uint64_t)s_at;
  for (int i = 0; i < s_nFile; i++) {
    PlFile *f = &s_files[i];
    const char *zBase = strrchr(f->zPath, '/');
    unsigned char *aC = 0, *aOut = 0;
    size_t nC = 0, nOut = 0;
    int bPresent;
    zBase = zBase ? zBase + 1 : f->zPath;
    outPath(zOut, sizeof zOut, zBase);
    unlink(zOut);
    if (f->bNowExists) aC = readWhole(f->zPath, &nC);
    if (f->bNowExists && f->bDurExists) {
      aOut = mix(f->aDur, f->nDur, aC, nC, &nOut);
      bPresent = 1;
    } else if (f->bNowExists) {
      /* created, not durably: absent (or the old file), or the new one */
      bPresent = (int)(rnd() & 1);
      if (bPresent) {
        aOut = mix(f->aDur, f->nDur, aC, nC, &nOut);
      } else if (f->bGhost) {
        bPresent = 1;
        aOut = malloc(f->nGhost + 1);
        if (!aOut) _exit(124);
        memcpy(aOut, f->aGhost, f->nGhost);
        nOut = f->nGhost;
      }
    } else if (f->bDurExists) {
      /* unlinked, not durably */
      bPresent = (int)(rnd() & 1);
      if (bPresent) {
        aOut = malloc(f->nDur + 1);
        if (!aOut) _exit(124);
        memcpy(aOut, f->aDur, f->nDur);
        nOut = f->nDur;
      }
    } else {
      bPresent = 0;
    }
    if (bPresent) writeWhole(zOut, aOut, nOut);
    if (snprintf(zLine, sizeof zLine, "file %s %s %zu (durable %zu%s, current %zu%s)\n", zBase,
                 bPresent ? "present" : "absent", nOut, f->nDur,
                 f->bDurExists ? "" : " not linked", nC, f->bNowExists ? "" : " unlinked") < 0)
      zLine[0] = 0;
    appendText("crash", zLine);
    free(aC);
    free(aOut);
  }
  snprintf(zLine, sizeof zLine, "event %ld %s %s\n", s_at, zEvent, zPath);
  appendText("crash", zLine);
  _exit(0);
}

/* One event: count it, log it, and fail the power at the chosen one. */
static void event(const char *zEvent, const char *zPath) {
  s_events++;
  if (s_log) {
    char z[1400];
    snprintf(z, sizeof z, "%ld %s %s\n", s_events, zEvent, zPath);
    appendText("events.log", z);
  }
  if (s_at > 0 && s_events == s_at) crash(zEvent, zPath);
}

__attribute__((destructor)) static void atExit(void) {
  char z[64];
  if (!s_init || s_out[0] == 0 || s_at > 0) return;
  snprintf(z, sizeof z, "%ld\n", s_events);
  appendText("events", z);
}

/* Become durable: the whole current file. */
static void syncFile(PlFile *f) {
  size_t n;
  unsigned char *a;
  if (s_nosyncJournal && strstr(f->zPath, "-mbjournal")) return;
  a = readWhole(f->zPath, &n);
  if (!a) return;
  free(f->aDur);
  f->aDur = a;
  f->nDur = n;
}

/* Become durable: the pages of [off, off+len) and the length. */
static void syncRange(PlFile *f, uint64_t off, uint64_t len) {
  size_t n;
  unsigned char *a, *d;
  if (s_nosyncJournal && strstr(f->zPath, "-mbjournal")) return;
  a = readWhole(f->zPath, &n);
  if (!a) return;
  d = calloc(1, n + 1);
  if (!d) _exit(124);
  memcpy(d, f->aDur, f->nDur < n ? f->nDur : n);
  {
    uint64_t lo = off - off % PL_PAGE;
    uint64_t hi = off + len + (PL_PAGE - 1);
    hi -= hi % PL_PAGE;
    if (hi > n) hi = n;
    if (lo < hi) memcpy(d + lo, a + lo, (size_t)(hi - lo));
  }
  free(a);
  free(f->aDur);
  f->aDur = d;
  f->nDur = n;
}

/* A sync of a directory: the entries of its watched files. */
static int syncDir(const char *zDir) {
  int bAny = 0;
  char d[1024];
  for (int i = 0; i < s_nFile; i++) {
    dirOf(s_files[i].zPath, d, sizeof d);
    if (strcmp(d, zDir) != 0) continue;
    bAny = 1;
  }
  return bAny;
}

static void syncDirApply(const char *zDir) {
  char d[1024];
  for (int i = 0; i < s_nFile; i++) {
    PlFile *f = &s_files[i];
    dirOf(f->zPath, d, sizeof d);
    if (strcmp(d, zDir) != 0) continue;
    if (f->bNowExists && !f->bDurExists) f->bDurExists = 1;
    if (!f->bNowExists && f->bDurExists) {
      f->bDurExists = 0;
      free(f->aDur);
      f->aDur = 0;
      f->nDur = 0;
    }
    if (f->bGhost) {
      free(f->aGhost);
      f->aGhost = 0;
      f->nGhost = 0;
      f->bGhost = 0;
    }
  }
}

/* The layer's own calls (unlink of an output file, say) pass through. */
#define LOCKED(body) do { \
  if (!t_inLayer) { \
    int saved_ = errno; \
    t_inLayer = 1; \
    pthread_mutex_lock(&s_mu); \
    init(); \
    body; \
    pthread_mutex_unlock(&s_mu); \
    t_inLayer = 0; \
    errno = saved_; \
  } \
} while (0)

/* --------------------------------------------------------- open, unlink */

static void beforeOpen(int dirfd, const char *z, int flags, int *pbCreate, char *zAbs,
                       size_t n) {
  struct stat st;
  *pbCreate = 0;
  zAbs[0] = 0;
  if (!z) return;
  absPath(dirfd, z, zAbs, n);
  if (!watched(zAbs)) { zAbs[0] = 0; return; }
  if ((flags & O_CREAT) && stat(zAbs, &st) != 0) {
    *pbCreate = 1;
    event("create", zAbs);
  }
}

static void afterOpen(int fd, int bCreate, const char *zAbs) {
  PlFile *f;
  if (fd < 0 || !zAbs[0]) return;
  f = findFile(zAbs);
  if (bCreate) {
    if (!f) f = addFile(zAbs);
    if (!f->bNowExists && f->bDurExists) {
      /* the old file is still the one the directory durably names */
      free(f->aGhost);
      f->aGhost = f->aDur;
      f->nGhost = f->nDur;
      f->bGhost = 1;
      f->aDur = 0;
      f->nDur = 0;
      f->bDurExists = 0;
    } else {
      free(f->aDur);
      f->aDur = 0;
      f->nDur = 0;
    }
    f->bNowExists = 1;
  } else if (!f) {
    /* first sight of a file that was there: durable as it is */
    f = addFile(zAbs);
    f->aDur = readWhole(zAbs, &f->nDur);
    f->bDurExists = 1;
    f->bNowExists = 1;
  } else {
    f->bNowExists = 1;
  }
}

static int doOpen(int dirfd, const char *z, int flags, mode_t mode, int at) {
  int fd, bCreate = 0;
  char zAbs[1200];
  zAbs[0] = 0;
  LOCKED(beforeOpen(dirfd, z, flags, &bCreate, zAbs, sizeof zAbs));
  if (at) {
    REAL(openat_fn, openat)
    fd = fn(dirfd, z, flags, mode);
  } else {
    fd = real_open(z, flags, mode);
  }
  if (fd >= 0 && zAbs[0]) LOCKED(afterOpen(fd, bCreate, zAbs));
  return fd;
}

int open(const char *z, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  return doOpen(AT_FDCWD, z, flags, mode, 0);
}

int open64(const char *z, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  return doOpen(AT_FDCWD, z, flags, mode, 0);
}

int openat(int dirfd, const char *z, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  return doOpen(dirfd, z, flags, mode, 1);
}

int openat64(int dirfd, const char *z, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  return doOpen(dirfd, z, flags, mode, 1);
}

static void beforeUnlink(int dirfd, const char *z) {
  char zAbs[1200];
  PlFile *f;
  if (!z) return;
  absPath(dirfd, z, zAbs, sizeof zAbs);
  if (!watched(zAbs)) return;
  event("unlink", zAbs);
  f = findFile(zAbs);
  if (f) f->bNowExists = 0;
}

int unlink(const char *z) {
  REAL(unlink_fn, unlink)
  LOCKED(beforeUnlink(AT_FDCWD, z));
  return fn(z);
}

int unlinkat(int dirfd, const char *z, int flags) {
  REAL(unlinkat_fn, unlinkat)
  if (!(flags & AT_REMOVEDIR)) LOCKED(beforeUnlink(dirfd, z));
  return fn(dirfd, z, flags);
}

/* ------------------------------------------------ writes and syncs */

/* A change through a descriptor of a watched file: an event. */
static void fdEvent(int fd, const char *zEvent) {
  char z[1024];
  fdPath(fd, z, sizeof z);
  if (watched(z)) event(zEvent, z);
}

static void fdSync(int fd, const char *zEvent) {
  char z[1024];
  struct stat st;
  fdPath(fd, z, sizeof z);
  if (!z[0]) return;
  if (watched(z)) {
    PlFile *f;
    event(zEvent, z);
    f = findFile(z);
    if (f) syncFile(f);
  } else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && syncDir(z)) {
    event(zEvent[0] == 'f' && zEvent[1] == 's' ? "fsync dir" : "fdatasync dir", z);
    syncDirApply(z);
  }
}

/* The syncs themselves are skipped (the disk is simulated; a real fsync
** only makes the test slow) unless MB_POWERLOSS_REALSYNC=1. */
int fsync(int fd) {
  REAL(fd_fn, fsync)
  LOCKED(fdSync(fd, "fsync"));
  return s_realSync ? fn(fd) : 0;
}

int fdatasync(int fd) {
  REAL(fd_fn, fdatasync)
  LOCKED(fdSync(fd, "fdatasync"));
  return s_realSync ? fn(fd) : 0;
}

ssize_t write(int fd, const void *b, size_t n) {
  if (fd > 2) LOCKED(fdEvent(fd, "write"));
  return real_write(fd, b, n);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t o) {
  REAL(pwrite_fn, pwrite)
  LOCKED(fdEvent(fd, "pwrite"));
  return fn(fd, b, n, o);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t o) {
  REAL(pwrite_fn, pwrite64)
  LOCKED(fdEvent(fd, "pwrite"));
  return fn(fd, b, n, o);
}

int ftruncate(int fd, off_t n) {
  REAL(trunc_fn, ftruncate)
  LOCKED(fdEvent(fd, "ftruncate"));
  return fn(fd, n);
}

int ftruncate64(int fd, off_t n) {
  REAL(trunc_fn, ftruncate64)
  LOCKED(fdEvent(fd, "ftruncate"));
  return fn(fd, n);
}

int fallocate(int fd, int mode, off_t off, off_t len) {
  REAL(falloc_fn, fallocate)
  LOCKED(fdEvent(fd, "fallocate"));
  return fn(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len) {
  REAL(falloc_fn, fallocate64)
  LOCKED(fdEvent(fd, "fallocate"));
  return fn(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len) {
  REAL(pfalloc_fn, posix_fallocate)
  LOCKED(fdEvent(fd, "posix_fallocate"));
  return fn(fd, off, len);
}

int posix_fallocate64(int fd, off_t off, off_t len) {
  REAL(pfalloc_fn, posix_fallocate64)
  LOCKED(fdEvent(fd, "posix_fallocate"));
  return fn(fd, off, len);
}

/* The file mapped at addr and the file offset of addr, from
** /proc/self/maps (read with open and read: our open passes it through). */
static int mapOf(const void *addr, char *out, size_t n, uint64_t *pOff) {
  static char buf[1 << 16];
  int fd = real_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
  size_t have = 0;
  uintptr_t a = (uintptr_t)addr;
  out[0] = 0;
  if (fd < 0) return 0;
  for (;;) {
    ssize_t k = read(fd, buf + have, sizeof buf - 1 - have);
    char *line, *nl;
    if (k <= 0) break;
    have += (size_t)k;
    buf[have] = 0;
    line = buf;
    while ((nl = strchr(line, '\n')) != NULL) {
      uintmax_t lo = 0, hi = 0, off = 0;
      int pos = 0;
      *nl = 0;
      if (sscanf(line, "%jx-%jx %*s %jx %*s %*s %n", &lo, &hi, &off, &pos) >= 3 && a >= lo &&
          a < hi) {
        snprintf(out, n, "%s", pos > 0 ? line + pos : "");
        *pOff = (uint64_t)off + (a - lo);
        close(fd);
        return out[0] != 0;
      }
      line = nl + 1;
    }
    have = strlen(line);
    memmove(buf, line, have);
    if (have >= sizeof buf - 1) have = 0;
  }
  close(fd);
  return 0;
}

static void mSync(void *addr, size_t len, int flags) {
  char z[1024];
  uint64_t off = 0;
  PlFile *f;
  if (!(flags & MS_SYNC)) return;
  if (!mapOf(addr, z, sizeof z, &off) || !watched(z)) return;
  event("msync", z);
  f = findFile(z);
  if (f) syncRange(f, off, len);
}

int msync(void *addr, size_t len, int flags) {
  REAL(msync_fn, msync)
  LOCKED(mSync(addr, len, flags));
  return s_realSync || !(flags & MS_SYNC) ? fn(addr, len, flags) : 0;
}
