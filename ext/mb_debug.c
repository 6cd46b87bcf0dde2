/*
** mb_debug.c -- what to paste into a bug report: membase_debug().
**
**   SELECT membase_debug();
**
** returns one TEXT value, one `key: value` line per fact, in this order.
** The keys are stable (new ones are only ever added, at the end); the
** values are free text, "unknown" where a fact cannot be learnt.
**
**   membase_version   membase_version()
**   git_commit        the source tree's commit when CMake configured the
**                     build: `git rev-parse --short=12 HEAD`, "-dirty"
**                     appended if tracked files were modified; "unknown"
**                     outside git (cmake/MembaseBuildInfo.cmake)
**   build_date        when CMake configured the build, UTC, ISO 8601
**                     (SOURCE_DATE_EPOCH if set)
**   build_type        CMAKE_BUILD_TYPE (Release, RelWithDebInfo, Debug...)
**   compiler          gcc X.Y.Z, clang X.Y.Z (zig cc is clang), msvc N
**   optimized         yes | no (__OPTIMIZE__)
**   assertions        on | off (NDEBUG)
**   sanitizers        none | address,undefined | thread
**   linkage           module (loaded) | static (membase_static, SQLITE_CORE)
**   sqlite_compiled   SQLITE_VERSION of the sqlite3.h built against
**   sqlite_running    sqlite3_libversion() of the SQLite running now
**   sqlite_source_id  sqlite3_sourceid() of the SQLite running now
**   os                linux | macos | windows | freebsd | unknown
**   arch              x86_64 | aarch64 | x86 | arm | riscv64 | ppc64le |
**                     s390x | unknown
**   kernel            the kernel release (uname -r); "unknown" on Windows
**   libc              "glibc X.Y" (gnu_get_libc_version), or unknown
**   fault_handler     the SIGBUS/SIGSEGV handler of guarded copies and soft
**                     faults (Windows: the vectored exception handler):
**                     not installed (nothing guarded yet) | installed |
**                     failed
**   soft_faults       POSIX: "supported, N maps" (maps whose faults become
**                     zero pages now: the membase VFS's databases);
**                     Windows: "unsupported"
**   hugepages         "pmd_size=N" where the OS has huge pages (Linux:
**                     hpage_pmd_size), "unsupported" elsewhere; the
**                     outcome per mapping is membase_stats.hugepages
**   line_search       sse2 | scalar: the substring search membase_lines
**                     uses for LIKE and GLOB, as compiled (vtab/mb_find.c)
**   memory_source     the memory-pressure source in use now, as in
**                     membase_memory()'s "source": psi | cgroup-psi |
**                     cgroup-v1 | available | os | none
**   memory_cgroup     v2 | v1 | none: the memory cgroup found
**   memory_available  yes | no: whether the OS reports available memory
**                     (MemAvailable; Windows: GlobalMemoryStatusEx)
**   file_policy       unrestricted | "allowed directories" | no file
**                     access (membase_allowed_directories() has the list)
**
** Not deterministic, DIRECTONLY (it is process state, as membase_memory()
** is). From C: membase_debug_info() (ext/membase.h) returns the same text.
*/
#include <stdint.h>
#include <string.h>
#if !defined(_WIN32)
# include <sys/utsname.h>
#endif
#if defined(__GLIBC__)
# include <gnu/libc-version.h>
#endif
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "membase.h"
#include "mb_map.h"
#include "mb_debug.h"
#include "../vtab/mb_find.h"

/* The build facts CMake writes (cmake/MembaseBuildInfo.cmake); another
** build system gets "unknown" for them. */
#if defined(__has_include)
# if __has_include("mb_build_info.h")
#  include "mb_build_info.h"
# endif
#endif
#ifndef MB_BUILD_COMMIT
# define MB_BUILD_COMMIT     "unknown"
# define MB_BUILD_DATE       "unknown"
# define MB_BUILD_TYPE       "unknown"
# define MB_BUILD_SANITIZERS "unknown"
#endif

#define MB_STR_(x) #x
#define MB_STR(x)  MB_STR_(x)

#if defined(__clang__)
# define MB_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
# define MB_COMPILER "gcc " MB_STR(__GNUC__) "." MB_STR(__GNUC_MINOR__) "." \
                     MB_STR(__GNUC_PATCHLEVEL__)
#elif defined(_MSC_VER)
# define MB_COMPILER "msvc " MB_STR(_MSC_FULL_VER)
#else
# define MB_COMPILER "unknown"
#endif

#if defined(__linux__)
# define MB_OS "linux"
#elif defined(__APPLE__)
# define MB_OS "macos"
#elif defined(_WIN32)
# define MB_OS "windows"
#elif defined(__FreeBSD__)
# define MB_OS "freebsd"
#else
# define MB_OS "unknown"
#endif

/* The names `uname -m` gives on Linux (amd64 and arm64 elsewhere). */
#if defined(__x86_64__) || defined(_M_X64)
# define MB_ARCH "x86_64"
#elif defined(__aarch64__) || defined(_M_ARM64)
# define MB_ARCH "aarch64"
#elif defined(__i386__) || defined(_M_IX86)
# define MB_ARCH "x86"
#elif defined(__arm__) || defined(_M_ARM)
# define MB_ARCH "arm"
#elif defined(__riscv) && defined(__riscv_xlen) && __riscv_xlen == 64
# define MB_ARCH "riscv64"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
# define MB_ARCH "ppc64le"
#elif defined(__s390x__)
# define MB_ARCH "s390x"
#else
# define MB_ARCH "unknown"
#endif

#if defined(__OPTIMIZE__)
# define MB_OPTIMIZED "yes"
#else
# define MB_OPTIMIZED "no"
#endif
#if defined(NDEBUG)
# define MB_ASSERTIONS "off"
#else
# define MB_ASSERTIONS "on"
#endif
#if defined(SQLITE_CORE)
# define MB_LINKAGE "static"
#else
# define MB_LINKAGE "module"
#endif

/* The kernel release, as `uname -r` prints it. */
static void mbAppendKernel(sqlite3_str *p){
#if !defined(_WIN32)
  struct utsname u;
  if( uname(&u)==0 ){
    sqlite3_str_appendf(p, "kernel: %s\n", u.release);
    return;
  }
#endif
  sqlite3_str_appendf(p, "kernel: unknown\n");
}

static void mbAppendLibc(sqlite3_str *p){
#if defined(__GLIBC__)
  sqlite3_str_appendf(p, "libc: glibc %s\n", gnu_get_libc_version());
#else
  sqlite3_str_appendf(p, "libc: unknown\n");
#endif
}

/* The optional features and whether each is active now. */
static void mbAppendFeatures(sqlite3_str *p){
  unsigned nSoft = 0;
  size_t huge = mb_huge_page_size();
  mb_memory m;
  int policy = mb_policy_state();
  sqlite3_str_appendf(p, "fault_handler: %s\n",
                      mb_guard_state_name(mb_guard_status(&nSoft)));
#if defined(_WIN32)
  sqlite3_str_appendf(p, "soft_faults: unsupported\n");
#else
  sqlite3_str_appendf(p, "soft_faults: supported, %u maps\n", nSoft);
#endif
  if( huge ) sqlite3_str_appendf(p, "hugepages: pmd_size=%llu\n", (unsigned long long)huge);
  else sqlite3_str_appendf(p, "hugepages: unsupported\n");
  sqlite3_str_appendf(p, "line_search: %s\n", mb_find_path());
  /* The cached reading (at most MB_MEMORY_INTERVAL_MS old): asking must
  ** not change what the scans see. */
  memset(&m, 0, sizeof m);
  (void)mb_memory_sample(&m);
  sqlite3_str_appendf(p, "memory_source: %s\n", mb_pressure_source_name(m.source));
  if( m.cgroup_version ) sqlite3_str_appendf(p, "memory_cgroup: v%d\n", m.cgroup_version);
  else sqlite3_str_appendf(p, "memory_cgroup: none\n");
  sqlite3_str_appendf(p, "memory_available: %s\n", m.mem_available ? "yes" : "no");
  sqlite3_str_appendf(p, "file_policy: %s\n",
                      policy==MB_POLICY_OPEN ? "unrestricted" :
                      policy==MB_POLICY_DIRS ? "allowed directories" :
                      "no file access");
}

char *membase_debug_info(void){
  sqlite3_str *p = sqlite3_str_new(0);
  char *z;
  sqlite3_str_appendf(p,
      "membase_version: %s\n"
      "git_commit: %s\n"
      "build_date: %s\n"
      "build_type: %s\n"
      "compiler: %s\n"
      "optimized: %s\n"
      "assertions: %s\n"
      "sanitizers: %s\n"
      "linkage: %s\n"
      "sqlite_compiled: %s\n"
      "sqlite_running: %s\n"
      "sqlite_source_id: %s\n"
      "os: %s\n"
      "arch: %s\n",
      MEMBASE_VERSION, MB_BUILD_COMMIT, MB_BUILD_DATE, MB_BUILD_TYPE,
      MB_COMPILER, MB_OPTIMIZED, MB_ASSERTIONS, MB_BUILD_SANITIZERS,
      MB_LINKAGE, SQLITE_VERSION, sqlite3_libversion(), sqlite3_sourceid(),
      MB_OS, MB_ARCH);
  mbAppendKernel(p);
  mbAppendLibc(p);
  mbAppendFeatures(p);
  /* NULL, and the text freed, if any append ran out of memory. */
  z = sqlite3_str_finish(p);
  if( z ){
    size_t n = strlen(z);
    if( n>0 && z[n-1]=='\n' ) z[n-1] = 0;   /* no empty last line */
  }
  return z;
}

static void mbDebugFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  char *z;
  (void)argc;
  (void)argv;
  z = membase_debug_info();
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

int mb_debug_register(sqlite3 *db){
  return sqlite3_create_function(db, "membase_debug", 0,
                                 SQLITE_UTF8 | SQLITE_DIRECTONLY, 0,
                                 mbDebugFunc, 0, 0);
}
