/*
** test_powerloss.c -- power loss at every moment of a series of record-
** table transactions, simulated by mb_powerloss.so (LD_PRELOAD), and the
** table recovered from what the disk would hold.
**
** The workload ("transfers", in a child process under the library): a
** table of NACC accounts (id i64, bal i64, seq i64) in a raw file and in a
** .npy file; transaction t moves an amount between two accounts, sets
** record 0's seq to t and appends a record (so the file grows; the .npy
** shape changes). After each COMMIT returns, the child appends "commit t"
** to a report file before it goes on.
**
** The driver:
**   1. runs the workload without a power loss, keeping the file after each
**      COMMIT (the states 0..T) and the number K of watched events;
**   2. for every event N in 1..K and every seed, runs the workload with the
**      power failing at event N, puts the disk image the library wrote in
**      place of the files, opens the table (recovery) and checks:
**        - the table opens and reads;
**        - the journal is gone;
**        - the file is, byte for byte, state c or state c+1, where c is the
**          number of COMMITs that returned before the power failed: every
**          commit before the crashed transaction is there (the sum of the
**          balances and the sequence number with it), the crashed one is
**          all there or not at all, and one whose COMMIT returned is
**          durable;
**      and, where that disk has a journal (first-loss seeds 1, --long 1-4),
**      loses the power again at every event of the recovery (run in a
**      child under the library) and checks the disk after that the same way;
**   3. self-test: the same sweep with journal syncs made no-ops
**      (MB_POWERLOSS_NOSYNC_JOURNAL=1) must find violations, and a state
**      with one byte changed must be refused by the checker.
**
**   test_powerloss            quick: T=4 transactions, seeds 1-3
**   test_powerloss --long     T=8, seeds 1-16
** MB_REPORT_DIR set: "points.<workload>", "losses.<workload>" (points x
** seeds) and "failures" lines are appended to $MB_REPORT_DIR/powerloss.tsv
** (tests/scripts/hardening_report.sh).
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include "membase.h"
#include "../mb_sqltest.h"

static int nFail = 0, nCheck = 0;
#define CHECK(cond, ...) do{ nCheck++; if(!(cond)){ nFail++; \
  fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
  fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } }while(0)

#define NACC 600
#define REC 24
#define MAXT 32

/* ------------------------------------------------------------ images */

typedef struct Img { unsigned char *a; size_t n; int bExists; } Img;

static void imgFree(Img *p){ free(p->a); memset(p, 0, sizeof(*p)); }

static Img imgRead(const char *zPath){
  Img m = {0, 0, 0};
  FILE *f = fopen(zPath, "rb");
  struct stat st;
  if( f==0 ) return m;
  m.bExists = 1;
  if( fstat(fileno(f), &st)!=0 ) exit(2);
  m.a = malloc((size_t)st.st_size + 1);
  if( m.a==0 ) exit(2);
  m.n = fread(m.a, 1, (size_t)st.st_size, f);
  fclose(f);
  return m;
}

static void imgWrite(const char *zPath, const unsigned char *a, size_t n){
  FILE *f = fopen(zPath, "wb");
  if( f==0 || (n && fwrite(a, 1, n, f)!=n) || fclose(f)!=0 ){
    perror(zPath);
    exit(2);
  }
}

static int imgEq(const Img *p, const Img *q){
  return p->bExists==q->bExists && p->n==q->n && (p->n==0 || memcmp(p->a, q->a, p->n)==0);
}

static void put64(unsigned char *p, uint64_t v){
  for(int k=0; k<8; k++) p[k] = (unsigned char)(v>>(8*k));
}
static int64_t get64(const unsigned char *p){
  uint64_t v = 0;
  for(int k=0; k<8; k++) v |= (uint64_t)p[k]<<(8*k);
  return (int64_t)v;
}

/* ---------------------------------------------------------- workloads */

typedef struct Workload {
  const char *zName;
  int bNpy;
} Workload;
static const Workload aWork[] = { { "raw", 0 }, { "npy", 1 } };

static char gDir[PATH_MAX], gPattern[PATH_MAX+64], gOut[PATH_MAX+64];
static char gFile[PATH_MAX+128], gJrn[PATH_MAX+160];
static int gT;   /* transactions per run */

static void setFiles(const Workload *w){
  snprintf(gFile, sizeof(gFile), "%s%s", gPattern, w->bNpy ? "rec.npy" : "rec.bin");
  snprintf(gJrn, sizeof(gJrn), "%s-mbjournal", gFile);
}

/* The file before the first transaction. */
static Img initialImage(const Workload *w){
  Img m = {0, 0, 1};
  size_t nHdr = 0;
  m.a = calloc(1, 256 + (size_t)NACC*REC);
  if( m.a==0 ) exit(2);
  if( w->bNpy ){
    char zDict[256];
    int nDict = snprintf(zDict, sizeof(zDict), "{'descr': [('id', '<i8'), ('bal', '<i8'), "
                         "('seq', '<i8')], 'fortran_order': False, 'shape': (%d,), }", NACC);
    int nPad = 64 - (10 + nDict + 1) % 64;
    if( nPad==64 ) nPad = 0;
    memcpy(m.a, "\x93NUMPY\x01\x00", 8);
    m.a[8] = (unsigned char)((nDict+nPad+1) & 0xff);
    m.a[9] = (unsigned char)((nDict+nPad+1) >> 8);
    memset(m.a+10, ' ', (size_t)(nDict+nPad));
    memcpy(m.a+10, zDict, (size_t)nDict);
    m.a[10+nDict+nPad] = '\n';
    nHdr = 10 + (size_t)(nDict+nPad+1);
  }
  for(int i=0; i<NACC; i++){
    put64(m.a+nHdr+(size_t)i*REC, (uint64_t)i);
    put64(m.a+nHdr+(size_t)i*REC+8, 1000);
    put64(m.a+nHdr+(size_t)i*REC+16, 0);
  }
  m.n = nHdr + (size_t)NACC*REC;
  return m;
}

static size_t headerSize(const Img *m){
  if( m->n>=10 && memcmp(m->a, "\x93NUMPY", 6)==0 ) return 10 + (size_t)(m->a[8] | m->a[9]<<8);
  return 0;
}

/* The invariants of state t: NACC+t records, the sum of balances, record
** 0's seq. 0 when they hold, else a description. */
static const char *invariants(const Img *m, int t, char *zBuf, size_t nBuf){
  size_t nHdr = headerSize(m);
  int64_t sum = 0, n;
  if( !m->bExists ) return "the file is missing";
  if( m->n<nHdr || (m->n-nHdr)%REC ) return "a length that is not a whole number of records";
  n = (int64_t)((m->n-nHdr)/REC);
  for(int64_t i=0; i<n; i++) sum += get64(m->a+nHdr+(size_t)i*REC+8);
  if( n!=NACC+t || sum!=(int64_t)NACC*1000 || get64(m->a+nHdr+16)!=t ){
    snprintf(zBuf, nBuf, "%lld records (want %d), sum %lld (want %d), seq %lld (want %d)",
             (long long)n, NACC+t, (long long)sum, NACC*1000, (long long)get64(m->a+nHdr+16), t);
    return zBuf;
  }
  return 0;
}

static const char *gReport;

/* The child: T transfers, each reported once its COMMIT has returned. */
static int childMain(const Workload *w, int T, const char *zRefs){
  sqlite3 *db = 0;
  char *zSql;
  int rc;
  if( membase_register()!=SQLITE_OK ) return 3;
  if( sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, 0) ) return 3;
  zSql = w->bNpy
    ? sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q')", gFile)
    : sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q',"
                      " layout='id i64, bal i64, seq i64')", gFile);
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK && T==0 ) (void)mbtInt(db, "SELECT count(*) FROM r", &rc);
  if( rc ){ fprintf(stderr, "child: %s\n", sqlite3_errmsg(db)); return 3; }
  for(int t=1; t<=T; t++){
    int a = (t*37) % NACC, b = (t*211 + 7) % NACC, x = t*3 + 1;
    char zLine[64];
    int fd;
    if( a==b ) b = (b+1) % NACC;
    zSql = sqlite3_mprintf("BEGIN; UPDATE r SET bal=bal-%d WHERE rowid=%d;"
                           " UPDATE r SET bal=bal+%d WHERE rowid=%d;"
                           " UPDATE r SET seq=%d WHERE rowid=0;"
                           " INSERT INTO r(id, bal, seq) VALUES(%d, 0, %d); COMMIT;",
                           x, a, x, b, t, NACC+t-1, t);
    rc = sqlite3_exec(db, zSql, 0, 0, 0);
    sqlite3_free(zSql);
    if( rc ){
      fprintf(stderr, "child: transaction %d: %s\n", t, sqlite3_errmsg(db));
      return 3;
    }
    /* the report file is not watched: no event, and it reaches the disk
    ** in any case (the parent reads it; only the watched files "lose
    ** power") */
    snprintf(zLine, sizeof(zLine), "commit %d\n", t);
    fd = open(gReport, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0644);
    if( fd<0 || write(fd, zLine, strlen(zLine))!=(ssize_t)strlen(zLine) ) return 3;
    close(fd);
    if( zRefs ){
      char zRef[PATH_MAX+200];
      Img m = imgRead(gFile);
      snprintf(zRef, sizeof(zRef), "%s/ref.%d", zRefs, t);
      imgWrite(zRef, m.a, m.n);
      imgFree(&m);
    }
  }
  sqlite3_close(db);
  return 0;
}

/* ------------------------------------------------------------- driver */

static char gSelf[PATH_MAX];
static char gPreload[PATH_MAX*2];

static void rmOut(void){
  DIR *d = opendir(gOut);
  struct dirent *e;
  if( d==0 ) return;
  while( (e = readdir(d))!=0 ){
    char z[PATH_MAX+300];
    if( e->d_name[0]=='.' ) continue;
    if( snprintf(z, sizeof(z), "%s/%s", gOut, e->d_name)>=(int)sizeof(z) ) continue;
    unlink(z);
  }
  closedir(d);
}

/* Run the workload in a child under the library; 0: it exited 0. */
static int runChild(const Workload *w, int T, long at, unsigned seed, int bNoSyncJournal,
                    int bRefs){
  pid_t pid;
  int st;
  char zAt[32], zSeed[32], zT[16];
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if( pid<0 ){ perror("fork"); exit(2); }
  if( pid==0 ){
    snprintf(zAt, sizeof(zAt), "%ld", at);
    snprintf(zSeed, sizeof(zSeed), "%u", seed);
    snprintf(zT, sizeof(zT), "%d", T);
    setenv("LD_PRELOAD", gPreload, 1);
    setenv("MB_POWERLOSS_PATTERN", gPattern, 1);
    setenv("MB_POWERLOSS_OUT", gOut, 1);
    setenv("MB_POWERLOSS_AT", zAt, 1);
    setenv("MB_POWERLOSS_SEED", zSeed, 1);
    if( bNoSyncJournal ) setenv("MB_POWERLOSS_NOSYNC_JOURNAL", "1", 1);
    else unsetenv("MB_POWERLOSS_NOSYNC_JOURNAL");
    execl(gSelf, gSelf, "--child", w->zName, zT, bRefs ? gOut : "-", gPattern, gOut,
          (char*)0);
    _exit(127);
  }
  if( waitpid(pid, &st, 0)<0 ){ perror("waitpid"); exit(2); }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int reportedCommits(void){
  char z[PATH_MAX+100], zLine[64];
  FILE *f;
  int n = 0;
  snprintf(z, sizeof(z), "%s/report", gOut);
  f = fopen(z, "r");
  if( f==0 ) return 0;
  while( fgets(zLine, sizeof(zLine), f) ) if( strncmp(zLine, "commit ", 7)==0 ) n++;
  fclose(f);
  return n;
}

static char *crashText(void){
  char z[PATH_MAX+100];
  Img m;
  char *zOut;
  snprintf(z, sizeof(z), "%s/crash", gOut);
  m = imgRead(z);
  if( !m.bExists ) return 0;
  zOut = sqlite3_mprintf("%.*s", (int)m.n, (const char*)m.a);
  imgFree(&m);
  return zOut;
}

/* Put the disk image in place of the files (the record file keeps its
** inode, as on the disk that lost power). */
static void install(void){
  const char *az[2] = { gFile, gJrn };
  for(int i=0; i<2; i++){
    const char *zBase = strrchr(az[i], '/') + 1;
    char z[PATH_MAX+300];
    Img m;
    snprintf(z, sizeof(z), "%s/%s", gOut, zBase);
    m = imgRead(z);
    /* in place: the journal names the file by device and inode */
    if( m.bExists ) imgWrite(az[i], m.a, m.n);
    else unlink(az[i]);
    imgFree(&m);
  }
}

/* Recover the installed files and check them against states c and c+1.
** 0 when right, else a description (sqlite3_mprintf). */
static char *recoverAndCheck(const Workload *w, Img *aRef, int c){
  sqlite3 *db = 0;
  char *zSql, *zErr = 0;
  int rc;
  sqlite3_int64 n = -1;
  Img m;
  struct stat st;
  char zInv[200];
  if( sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, 0) ) exit(2);
  zSql = w->bNpy
    ? sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q')", gFile)
    : sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q',"
                      " layout='id i64, bal i64, seq i64')", gFile);
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ) n = mbtInt(db, "SELECT count(*) + 0*sum(bal) FROM r", &rc);
  if( rc!=SQLITE_OK ){
    zErr = sqlite3_mprintf("the table does not open: %s (%d)", sqlite3_errmsg(db),
                           sqlite3_extended_errcode(db));
  }
  sqlite3_close(db);
  if( zErr ) return zErr;
  if( stat(gJrn, &st)==0 ) return sqlite3_mprintf("the journal is still there after recovery");
  m = imgRead(gFile);
  if( imgEq(&m, &aRef[c]) || (c<gT && imgEq(&m, &aRef[c+1])) ){
    imgFree(&m);
    if( n<NACC+c || n>NACC+c+1 ) return sqlite3_mprintf("the table reads %lld records", n);
    return 0;
  }
  {
    const char *zA = invariants(&m, c, zInv, sizeof(zInv));
    zErr = sqlite3_mprintf("%d COMMITs returned; the file is neither state %d nor state %d "
                           "(%lld bytes; state %d: %lld; as state %d: %s)", c, c, c+1,
                           (long long)m.n, c, (long long)aRef[c].n, c, zA ? zA : "invariants hold, other bytes differ");
  }
  imgFree(&m);
  return zErr;
}

/* The states 0..T and the number of events. */
static long referenceRun(const Workload *w, Img *aRef){
  char z[PATH_MAX+100];
  Img e;
  long K;
  char zInv[200];
  rmOut();
  unlink(gJrn);
  aRef[0] = initialImage(w);
  imgWrite(gFile, aRef[0].a, aRef[0].n);
  if( runChild(w, gT, 0, 1, 0, 1)!=0 ){
    fprintf(stderr, "%s: the workload fails without a power loss\n", w->zName);
    exit(2);
  }
  for(int t=1; t<=gT; t++){
    const char *zBad;
    snprintf(z, sizeof(z), "%s/ref.%d", gOut, t);
    aRef[t] = imgRead(z);
    zBad = invariants(&aRef[t], t, zInv, sizeof(zInv));
    CHECK(zBad==0, "%s: state %d after a run without a power loss: %s", w->zName, t, zBad);
  }
  {
    Img last = imgRead(gFile);
    CHECK(imgEq(&last, &aRef[gT]), "%s: the file after the run is not state %d", w->zName, gT);
    imgFree(&last);
  }
  snprintf(z, sizeof(z), "%s/events", gOut);
  e = imgRead(z);
  K = e.bExists ? atol((const char*)e.a) : 0;
  imgFree(&e);
  return K;
}

/* The installed disk has a journal: lose the power again at every event
** of its recovery (in a child under the library), then recover that disk
** and check it as the first one. The installed files are put back after. */
static unsigned gSeedsRecovery;   /* first-loss seeds whose recovery is crashed too */
static long nRecoveryLosses, nRecoveryBad;
static void recoveryLosses(const Workload *w, Img *aRef, int c, long at, unsigned seed){
  Img f = imgRead(gFile), j = imgRead(gJrn);
  char z[PATH_MAX+100];
  Img e;
  long K2;
  if( !j.bExists ){ imgFree(&f); return; }
  rmOut();
  if( runChild(w, 0, 0, seed, 0, 0)!=0 ) goto done;   /* recovery fails: reported below */
  snprintf(z, sizeof(z), "%s/events", gOut);
  e = imgRead(z);
  K2 = e.bExists ? atol((const char*)e.a) : 0;
  imgFree(&e);
  for(long at2=1; at2<=K2; at2++){
    char *zCrash, *zProblem;
    imgWrite(gFile, f.a, f.n);
    imgWrite(gJrn, j.a, j.n);
    rmOut();
    if( runChild(w, 0, at2, seed*7919u + (unsigned)at2, 0, 0)!=0 ) continue;
    zCrash = crashText();
    if( zCrash==0 ) continue;
    install();
    nRecoveryLosses++;
    zProblem = recoverAndCheck(w, aRef, c);
    if( zProblem ){
      nRecoveryBad++;
      if( nRecoveryBad<=5 ){
        CHECK(0, "%s: power lost at event %ld, seed %u, then in its recovery at event %ld: "
              "%s\n  the disk after the second loss:\n%s", w->zName, at, seed, at2, zProblem,
              zCrash);
      }else{
        nCheck++;
        nFail++;
        fprintf(stderr, "FAIL %s: power lost at event %ld, seed %u, then at %ld: %.160s\n",
                w->zName, at, seed, at2, zProblem);
      }
    }
    sqlite3_free(zProblem);
    sqlite3_free(zCrash);
  }
done:
  imgWrite(gFile, f.a, f.n);
  imgWrite(gJrn, j.a, j.n);
  imgFree(&f);
  imgFree(&j);
}

/* Power loss at every event, for each seed. Returns the violations. */
static long gStride = 1;   /* every gStride-th crash point (valgrind: 4) */

static int sweep(const Workload *w, Img *aRef, long K, unsigned nSeed, int bNoSyncJournal,
                 int bQuiet, long *pnRuns){
  int nBad = 0;
  for(unsigned seed=1; seed<=nSeed; seed++){
    for(long at=1; at<=K; at+=gStride){
      int rcChild, c;
      char *zCrash, *zProblem;
      rmOut();
      unlink(gJrn);
      unlink(gFile);
      imgWrite(gFile, aRef[0].a, aRef[0].n);
      rcChild = runChild(w, gT, at, seed, bNoSyncJournal, 0);
      (*pnRuns)++;
      c = reportedCommits();
      zCrash = crashText();
      if( !bQuiet ){
        CHECK(rcChild==0, "%s at %ld seed %u: the child exited %d", w->zName, at, seed, rcChild);
        CHECK(zCrash!=0, "%s at %ld seed %u: the power did not fail (%d commits)", w->zName,
              at, seed, c);
      }
      if( rcChild!=0 || zCrash==0 ){ sqlite3_free(zCrash); continue; }
      install();
      if( !bQuiet && seed<=gSeedsRecovery ) recoveryLosses(w, aRef, c, at, seed);
      zProblem = recoverAndCheck(w, aRef, c);
      if( zProblem ){
        nBad++;
        if( !bQuiet && nBad>5 ){
          /* the first five in full, the others in a line */
          nCheck++;
          nFail++;
          fprintf(stderr, "FAIL %s: power lost at event %ld, seed %u: %.160s\n", w->zName, at,
                  seed, zProblem);
        }else if( !bQuiet ){
          char *z = strstr(zCrash, "event ");
          if( z && strchr(z, '\n') ) *strchr(z, '\n') = 0;
          CHECK(0, "%s: power lost at event %ld, seed %u (%s): %s\n  the disk:\n%s",
                w->zName, at, seed, z ? z : "?", zProblem, zCrash);
        }
      }
      sqlite3_free(zProblem);
      sqlite3_free(zCrash);
    }
  }
  return nBad;
}

static void reportTsv(const char *zKey, long n){
  const char *zDir = getenv("MB_REPORT_DIR");
  char zPath[4096];
  FILE *f;
  if( zDir==0 || zDir[0]==0 ) return;
  snprintf(zPath, sizeof(zPath), "%s/powerloss.tsv", zDir);
  f = fopen(zPath, "a");
  if( f==0 ) return;
  fprintf(f, "%s\t%ld\n", zKey, n);
  fclose(f);
}

int main(int argc, char **argv){
  const char *z;
  int bLong = 0;
  unsigned nSeed;
  Img aRef[MAXT+1];
  ssize_t k;

  if( argc==7 && strcmp(argv[1], "--child")==0 ){
    const Workload *w = strcmp(argv[2], "npy")==0 ? &aWork[1] : &aWork[0];
    char zRep[PATH_MAX+100];
    snprintf(gPattern, sizeof(gPattern), "%s", argv[5]);
    snprintf(gOut, sizeof(gOut), "%s", argv[6]);
    snprintf(zRep, sizeof(zRep), "%s/report", gOut);
    gReport = zRep;
    setFiles(w);
    return childMain(w, atoi(argv[3]), strcmp(argv[4], "-")==0 ? 0 : argv[4]);
  }
  for(int i=1; i<argc; i++){
    if( strcmp(argv[i], "--long")==0 ) bLong = 1;
    else{ fprintf(stderr, "usage: %s [--long]\n", argv[0]); return 2; }
  }
  gT = bLong ? 8 : 4;
  nSeed = bLong ? 16 : 3;
  gSeedsRecovery = bLong ? 4 : 1;
  if( getenv("MB_UNDER_VALGRIND") ){
    /* every child runs under valgrind too: a quarter of the points, one
    ** seed, no second power loss in the recovery */
    nSeed = 1;
    gSeedsRecovery = 0;
    gStride = 4;
    printf("under valgrind: seed 1, every 4th crash point, no power loss in "
           "the recovery\n");
  }

  k = readlink("/proc/self/exe", gSelf, sizeof(gSelf)-1);
  if( k<=0 ){ perror("/proc/self/exe"); return 2; }
  gSelf[k] = 0;
  {
    /* under ASan the sanitizer's runtime must come first */
    const char *zAsan = "";
    void *pAsan = dlsym(RTLD_DEFAULT, "__asan_init");
    Dl_info info;
    if( pAsan && dladdr(pAsan, &info) && info.dli_fname ) zAsan = info.dli_fname;
    snprintf(gPreload, sizeof(gPreload), "%s%s%s", zAsan, zAsan[0] ? ":" : "",
             MB_POWERLOSS_PATH);
  }
  z = getenv("MB_TEST_TMPDIR");
  if( realpath(z ? z : "/tmp", gDir)==0 ){ perror(z ? z : "/tmp"); return 2; }
  snprintf(gPattern, sizeof(gPattern), "%s/plwork-%d-", gDir, (int)getpid());
  snprintf(gOut, sizeof(gOut), "%s/plimg-%d", gDir, (int)getpid());
  mkdir(gOut, 0755);
  snprintf(gOut+strlen(gOut), sizeof(gOut)-strlen(gOut), "%s", "");
  if( membase_register()!=SQLITE_OK ){ fprintf(stderr, "membase_register failed\n"); return 2; }
  {
    static char zRep[PATH_MAX+100];
    snprintf(zRep, sizeof(zRep), "%s/report", gOut);
    gReport = zRep;
  }

  printf("power loss at every watched event: %d transfers per run, seeds 1-%u%s\n", gT, nSeed,
         bLong ? " (--long)" : "");
  for(int iw=0; iw<2; iw++){
    const Workload *w = &aWork[iw];
    long K, nRuns = 0;
    int nBad;
    char zKey[64];
    setFiles(w);
    K = referenceRun(w, aRef);
    CHECK(K>0, "%s: no watched event", w->zName);
    nBad = sweep(w, aRef, K, nSeed, 0, 0, &nRuns);
    printf("  %-4s %4ld crash points x %u seeds = %4ld power losses, %d violations\n",
           w->zName, K, nSeed, nRuns, nBad);
    printf("  %-4s power lost again in the recovery (every event, first-loss seeds 1-%u): "
           "%ld losses, %ld violations\n", w->zName, gSeedsRecovery, nRecoveryLosses,
           nRecoveryBad);
    snprintf(zKey, sizeof(zKey), "losses.%s-recovery", w->zName);
    reportTsv(zKey, nRecoveryLosses);
    nRecoveryLosses = nRecoveryBad = 0;
    snprintf(zKey, sizeof(zKey), "points.%s", w->zName);
    reportTsv(zKey, K);
    snprintf(zKey, sizeof(zKey), "losses.%s", w->zName);
    reportTsv(zKey, nRuns);

    /* self-test: the checker catches what it is there to catch */
    {
      long nRuns2 = 0;
      int nBad2 = sweep(w, aRef, K, nSeed, 1, 1, &nRuns2);
      char zInv[200];
      Img m = {0, 0, 1};
      char *zProblem;
      printf("  %-4s self-test: journal syncs as no-ops: %d of %ld power losses caught\n",
             w->zName, nBad2, nRuns2);
      CHECK(nBad2>0, "%s self-test: with the journal never synced no power loss broke the "
            "file: the check cannot see a torn commit", w->zName);
      /* state 1 with one balance moved to another record: the invariants
      ** hold, the bytes are not state 0 or 1 */
      m.n = aRef[1].n;
      m.a = malloc(m.n);
      memcpy(m.a, aRef[1].a, m.n);
      {
        size_t o = headerSize(&m) + 5*REC + 8;
        put64(m.a+o, (uint64_t)(get64(m.a+o)+1));
        o += REC;
        put64(m.a+o, (uint64_t)(get64(m.a+o)-1));
      }
      unlink(gJrn);
      imgWrite(gFile, m.a, m.n);
      zProblem = recoverAndCheck(w, aRef, 0);
      CHECK(zProblem!=0, "%s self-test: a changed state passes the check", w->zName);
      printf("  %-4s self-test: a state with a moved balance: %s\n", w->zName,
             zProblem ? "refused" : "ACCEPTED");
      sqlite3_free(zProblem);
      CHECK(invariants(&m, 1, zInv, sizeof(zInv))==0, "self-test: invariants");
      imgFree(&m);
    }
    for(int t=0; t<=gT; t++) imgFree(&aRef[t]);
    unlink(gFile);
    unlink(gJrn);
  }
  rmOut();
  rmdir(gOut);
  reportTsv("failures", nFail);
  printf("test_powerloss: %d checks, %d failures\n", nCheck, nFail);
  return nFail ? 1 : 0;
}
