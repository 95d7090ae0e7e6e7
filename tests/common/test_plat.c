/* test_plat.c - common/plat.h on the system it is built for: on Linux as
 * ctest test_plat, and cross-built as test_plat.exe (the Windows build,
 * `make windows`) run under Wine as ctest wine_test_plat
 * (tests/windows/CMakeLists.txt).  Plain C, no cmocka: the Windows build
 * has no cmocka.  Its files are kjt-plat-RANDOM-* in the working directory
 * (the build tree), removed at the end; exit 0 when every check holds, 1
 * with the failed checks listed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hlc.h"
#include "plat.h"
#include "text.h"
#include "uuid.h"

static int failed;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                       \
      failed++;                                                                                    \
    }                                                                                              \
  } while (0)

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static char *read_text(const char *path) {
  static char buf[256];
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return buf;
}

static void t_random(void) {
  unsigned char a[64], b[64], zero[64] = {0};
  CHECK(kj_random_bytes(a, sizeof a) == KJ_OK);
  CHECK(kj_random_bytes(b, sizeof b) == KJ_OK);
  CHECK(memcmp(a, b, sizeof a) != 0);
  CHECK(memcmp(a, zero, sizeof a) != 0);
}

static void t_private_and_replace(const char *pre) {
  char a[512], b[512];
  snprintf(a, sizeof a, "%sa.txt", pre);
  snprintf(b, sizeof b, "%sb.txt", pre);
  int fd = kj_file_create_private(a);
  CHECK(fd >= 0);
  if (fd >= 0) {
    CHECK(write(fd, "new", 3) == 3);
    CHECK(kj_fd_sync(fd) == 0);
    close(fd);
  }
  errno = 0;
  int again = kj_file_create_private(a);
  CHECK(again < 0 && errno == EEXIST); /* never opens an existing file */
  struct stat sb;
  CHECK(stat(a, &sb) == 0 && (kj_file_mode(&sb) & 077) == 0);
  CHECK(kj_file_is_mine(&sb));
  kj_err err;
  CHECK(kj_file_sync(a, &err) == KJ_OK);
  /* replacing an existing file: rename(2) does, Windows' rename does not */
  write_text(b, "old");
  CHECK(kj_file_replace(a, b, &err) == KJ_OK);
  const char *t = read_text(b);
  CHECK(t && strcmp(t, "new") == 0);
  CHECK(access(a, F_OK) != 0);
  CHECK(kj_dir_sync(".", &err) == KJ_OK);
  CHECK(kj_file_replace(a, b, &err) == KJ_EIO && strstr(err.msg, "a.txt"));
  CHECK(kj_file_sync(a, &err) == KJ_EIO && strstr(err.msg, "a.txt"));
  CHECK(kj_file_make_private(b, &err) == KJ_OK);
  fd = kj_file_create_mode(b, 0644); /* truncates */
  CHECK(fd >= 0);
  if (fd >= 0)
    close(fd);
  t = read_text(b);
  CHECK(t && !*t);
  fd = kj_open_read(b);
  CHECK(fd >= 0);
  if (fd >= 0)
    close(fd);
  remove(b);
}

static void t_paths(void) {
  char abs[4096];
  kj_err err;
  CHECK(kj_path_absolute(".", abs, sizeof abs, &err) == KJ_OK);
  CHECK(abs[0] == '/' || abs[1] == ':' || abs[0] == '\\'); /* /tmp/.., C:\.., \\server\.. */
  CHECK(strlen(abs) > 1);
  CHECK(kj_path_absolute("no-such-file.kj", abs, sizeof abs, &err) == KJ_ENOENT);
  CHECK(strstr(err.msg, "no-such-file.kj") != NULL);
  CHECK(kj_path_absolute(".", abs, 2, &err) == KJ_ETOOBIG);
  const char *db = kj_default_db();
  size_t n = strlen(db);
  CHECK(n >= 10 && strcmp(db + n - 10, "kinerja.db") == 0);
}

/* kj_tmp_dir: $TMPDIR when set and not empty, else /tmp */
static void t_tmp_dir(void) {
  const char *was = getenv("TMPDIR");
  if (!was || !*was)
    CHECK(strcmp(kj_tmp_dir(), "/tmp") == 0);
  kj_env_default("TMPDIR", "kjt-plat-tmp"); /* sets it only where unset */
  const char *now = getenv("TMPDIR");
  if (now && *now)
    CHECK(strcmp(kj_tmp_dir(), now) == 0);
}

static void t_time(void) {
  struct tm tm;
  CHECK(kj_time_utc(0, &tm) == &tm && tm.tm_year == 70 && tm.tm_mon == 0 && tm.tm_mday == 1);
  /* past 2038: a 64-bit time on both systems */
  CHECK(kj_time_utc(4102444800LL, &tm) == &tm && tm.tm_year == 200 && tm.tm_mon == 0 &&
        tm.tm_mday == 1 && tm.tm_hour == 0);
  CHECK(kj_time_utc(1764460800LL + 3661, &tm) && tm.tm_year == 125 && tm.tm_mon == 10 &&
        tm.tm_mday == 30 && tm.tm_hour == 1 && tm.tm_min == 1 && tm.tm_sec == 1);
}

/* kj_cpu_ms counts this process's CPU, not the wall: a sleep adds
 * (almost) nothing, a busy loop adds its time (C's clock() on Windows
 * counts the wall, hence kj_cpu_ms). */
static void t_cpu(void) {
  int64_t c0 = kj_cpu_ms();
  CHECK(c0 >= 0);
  kj_sleep_ms(300);
  int64_t c1 = kj_cpu_ms();
  CHECK(c1 >= c0 && c1 - c0 < 150);
  uint64_t w0 = kj_wall_ms();
  volatile uint64_t x = 0;
  while (kj_cpu_ms() - c1 < 50 && kj_wall_ms() - w0 < 10000)
    x++;
  CHECK(kj_cpu_ms() - c1 >= 50);
}

static void t_sleep(void) {
  static volatile int stop;
  kj_on_interrupt(&stop);
  uint64_t t0 = kj_wall_ms();
  kj_sleep_ms(60);
  uint64_t t1 = kj_wall_ms();
  CHECK(t1 - t0 >= 50);
  stop = 1; /* what Ctrl-C does: a sleep returns at once */
  kj_sleep_ms(10000);
  CHECK(kj_wall_ms() - t1 < 2000);
}

static void t_text(void) {
  char *s = kj_strndup("abcdef", 3);
  CHECK(s && strcmp(s, "abc") == 0);
  free(s);
  s = kj_strndup("ab", 10);
  CHECK(s && strcmp(s, "ab") == 0);
  free(s);
}

int main(void) {
  kj_plat_init();
  char pre[64];
  unsigned char r[4];
  kj_random_bytes(r, sizeof r);
  snprintf(pre, sizeof pre, "kjt-plat-%02x%02x%02x%02x-", r[0], r[1], r[2], r[3]);
  t_random();
  t_private_and_replace(pre);
  t_paths();
  t_tmp_dir();
  t_time();
  t_cpu();
  t_sleep();
  t_text();
  printf("%s: %d failed\n", failed ? "FAIL" : "ok", failed);
  return failed ? 1 : 0;
}
