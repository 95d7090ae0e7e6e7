/* kjt.c - see kjt.h. */
#define _XOPEN_SOURCE 700
#include "kjt.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KINERJA_BIN
#error "KINERJA_BIN must name the kinerja binary"
#endif

char *kjt_tmpdir(void) {
  char tmpl[] = "/tmp/kjt-client-XXXXXX";
  char *d = mkdtemp(tmpl);
  if (!d) {
    perror("mkdtemp");
    abort();
  }
  chmod(d, 0755);
  return strdup(d);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

void kjt_rmdir(char *dir) {
  if (!dir)
    return;
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

const char *kjt_path(const char *dir, const char *name) {
  static char bufs[8][4096];
  static int k;
  char *b = bufs[k++ % 8];
  snprintf(b, 4096, "%s/%s", dir, name);
  return b;
}

void kjt_write(const char *path, const char *data) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    abort();
  }
  fwrite(data, 1, strlen(data), f);
  fclose(f);
}

char *kjt_read(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  size_t got;
  while ((got = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (cap - n < 2)
      b = realloc(b, cap *= 2);
  }
  b[n] = 0;
  fclose(f);
  return b;
}

static const char **argv_of(const char *db, const char *const *args) {
  int n = 0;
  while (args[n])
    n++;
  const char **argv = calloc((size_t)n + 4, sizeof *argv);
  int k = 0;
  argv[k++] = KINERJA_BIN;
  if (db) {
    argv[k++] = "--db";
    argv[k++] = db;
  }
  for (int i = 0; i < n; i++)
    argv[k++] = args[i];
  return argv;
}

static int decode_status(int st) {
  if (WIFEXITED(st))
    return WEXITSTATUS(st);
  if (WIFSIGNALED(st))
    return 128 + WTERMSIG(st);
  return -1;
}

int kjt_kinerjav(kjt_run *r, const char *db, const kjt_opts *o, const char *const *args) {
  int po[2], pe[2];
  if (pipe(po) || pipe(pe))
    abort();
  const char **argv = argv_of(db, args);
  pid_t pid = fork();
  if (pid < 0)
    abort();
  if (pid == 0) {
    dup2(po[1], 1);
    dup2(pe[1], 2);
    close(po[0]);
    close(pe[0]);
    close(po[1]);
    close(pe[1]);
    unsetenv("KINERJA_DB");
    if (o && o->fsize_limit > 0) {
      struct rlimit rl = {(rlim_t)o->fsize_limit, (rlim_t)o->fsize_limit};
      signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG */
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    if (o && o->as_nobody && geteuid() == 0) {
      if (setgid(65534) || setuid(65534))
        _exit(126);
    }
    execv(KINERJA_BIN, (char *const *)argv);
    _exit(127);
  }
  free(argv);
  close(po[1]);
  close(pe[1]);
  size_t cap[2] = {4096, 4096}, len[2] = {0, 0};
  char *buf[2] = {malloc(4096), malloc(4096)};
  struct pollfd pf[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
  int open_ = 2;
  while (open_ > 0) {
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      abort();
    }
    for (int i = 0; i < 2; i++) {
      if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      if (cap[i] - len[i] < 1024)
        buf[i] = realloc(buf[i], cap[i] *= 2);
      ssize_t n = read(pf[i].fd, buf[i] + len[i], cap[i] - len[i] - 1);
      if (n <= 0) {
        close(pf[i].fd);
        pf[i].fd = -1;
        open_--;
      } else {
        len[i] += (size_t)n;
      }
    }
  }
  buf[0][len[0]] = 0;
  buf[1][len[1]] = 0;
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r->status = decode_status(st);
  r->out = buf[0];
  r->err = buf[1];
  return r->status;
}

int kjt_spawn(const char *db, const char *const *args, const char *errfile) {
  const char **argv = argv_of(db, args);
  pid_t pid = fork();
  if (pid < 0)
    abort();
  if (pid == 0) {
    int nul = open("/dev/null", O_WRONLY);
    dup2(nul, 1);
    int e = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (e >= 0)
      dup2(e, 2);
    unsetenv("KINERJA_DB");
    execv(KINERJA_BIN, (char *const *)argv);
    _exit(127);
  }
  free(argv);
  return (int)pid;
}

int kjt_wait(int pid) {
  int st = 0;
  while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR) {
  }
  return decode_status(st);
}

void kjt_run_release(kjt_run *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

int kjt_lines(const char *text) {
  int n = 0;
  for (; text && *text; text++)
    n += *text == '\n';
  return n;
}

int kjt_posix_modes(void) {
  const char *w = getenv("KJ_WINE_EXE");
  return !w || !*w;
}

const char *kjt_tls_host(void) {
  return kjt_posix_modes() ? "127.0.0.1" : "localhost";
}
