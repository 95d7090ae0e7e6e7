/* kjt.h - helpers for the client tests: temp dirs, files, and running the
 * real `kinerja` binary (KINERJA_BIN) with its output captured. */
#ifndef KJT_H
#define KJT_H

#include <stddef.h>
#include <stdint.h>

typedef struct kjt_run {
  int status; /* exit code, or 128 + signal */
  char *out;  /* stdout, NUL-terminated (owned) */
  char *err;  /* stderr */
} kjt_run;

typedef struct kjt_opts {
  long long fsize_limit; /* RLIMIT_FSIZE in bytes for the child, 0 = none */
  int as_nobody;         /* run as uid/gid 65534 (when we are root) */
} kjt_opts;

/* A fresh temp dir (mode 0755), removed with everything in it by kjt_rmdir. */
char *kjt_tmpdir(void);
void kjt_rmdir(char *dir); /* frees dir */
/* dir/name in a static rotating buffer. */
const char *kjt_path(const char *dir, const char *name);

void kjt_write(const char *path, const char *data);
char *kjt_read(const char *path); /* NULL when missing; caller frees */

/* Run KINERJA_BIN --db DB ARGS (a NULL-terminated array); db may be NULL. */
int kjt_kinerjav(kjt_run *r, const char *db, const kjt_opts *o, const char *const *args);
/* Start it without waiting (stdout to /dev/null, stderr to errfile);
 * returns the pid. */
int kjt_spawn(const char *db, const char *const *args, const char *errfile);
int kjt_wait(int pid); /* exit status like kjt_run.status */
void kjt_run_release(kjt_run *r);
/* KJT(&r, db, "list", "survey"): kjt_kinerjav with the arguments as an array. */
#define KJT(r, db, ...) kjt_kinerjav((r), (db), NULL, (const char *const[]){__VA_ARGS__, NULL})

/* 1 when the kinerja under test keeps POSIX file modes, 0 when it is
 * kinerja.exe under Wine (tests/windows: $KJ_WINE_EXE set), where a
 * private file is an ACL and Wine's mode for it says little. */
int kjt_posix_modes(void);

/* The host name for the test server's URLs: "127.0.0.1", or "localhost"
 * for kinerja.exe under Wine, whose curl 7.88 with Schannel matches a
 * certificate's DNS names only, not its IP addresses. */
const char *kjt_tls_host(void);

/* How many lines of text (count of '\n'). */
int kjt_lines(const char *text);

#endif
