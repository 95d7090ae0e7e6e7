/* test_log.c - levels, the line format, $KJ_LOG. stderr goes to a temp file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char captured[8192];

/* Run fn with stderr sent to a temp file; the text lands in captured. */
static void capture(void (*fn)(void)) {
  char path[] = "/tmp/kj-test-log-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  assert_true(saved >= 0);
  assert_int_equal(dup2(fd, 2), 2);
  fn();
  fflush(stderr);
  assert_int_equal(dup2(saved, 2), 2);
  close(saved);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(captured, 1, sizeof(captured) - 1, f);
  captured[n] = '\0';
  fclose(f);
  close(fd);
  unlink(path);
}

static void log_some(void) {
  KJ_DEBUG("debug %d", 1);
  KJ_INFO("info %s", "two");
  KJ_WARN("warn");
  KJ_ERROR("error '%s'", "x.db");
}

static void test_levels(void **state) {
  (void)state;
  kj_log_init("kjtest");
  kj_log_set_level(KJ_LOG_INFO);
  capture(log_some);
  assert_null(strstr(captured, "debug 1"));
  assert_non_null(strstr(captured, " kjtest info: info two\n"));
  assert_non_null(strstr(captured, " kjtest warn: warn\n"));
  assert_non_null(strstr(captured, " kjtest error: error 'x.db'\n"));

  kj_log_set_level(KJ_LOG_ERROR);
  capture(log_some);
  assert_null(strstr(captured, "info two"));
  assert_null(strstr(captured, "warn"));
  assert_non_null(strstr(captured, "error 'x.db'"));

  kj_log_set_level(KJ_LOG_OFF);
  capture(log_some);
  assert_string_equal(captured, "");
}

static void test_format(void **state) {
  (void)state;
  kj_log_init("kjtest");
  kj_log_set_level(KJ_LOG_DEBUG);
  capture(log_some);
  /* each line starts with an ISO 8601 UTC time with milliseconds */
  int lines = 0;
  for (char *l = captured; *l; lines++) {
    assert_true(strlen(l) > 25);
    assert_true(l[4] == '-' && l[7] == '-' && l[10] == 'T' && l[19] == '.' && l[23] == 'Z');
    char *nl = strchr(l, '\n');
    assert_non_null(nl);
    l = nl + 1;
  }
  assert_int_equal(lines, 4);
}

static void test_parse_and_env(void **state) {
  (void)state;
  kj_log_level l = KJ_LOG_INFO;
  assert_int_equal(kj_log_parse_level("debug", &l), KJ_OK);
  assert_int_equal(l, KJ_LOG_DEBUG);
  assert_int_equal(kj_log_parse_level("warn", &l), KJ_OK);
  assert_int_equal(l, KJ_LOG_WARN);
  assert_int_equal(kj_log_parse_level("off", &l), KJ_OK);
  assert_int_equal(l, KJ_LOG_OFF);
  assert_int_equal(kj_log_parse_level("loud", &l), KJ_EINVAL);
  assert_int_equal(kj_log_parse_level(NULL, &l), KJ_EINVAL);
  assert_int_equal(l, KJ_LOG_OFF); /* untouched on failure */
  kj_log_set_level(KJ_LOG_INFO);
  setenv("KJ_LOG", "error", 1);
  kj_log_init("kjtest");
  assert_int_equal(kj_log_get_level(), KJ_LOG_ERROR);
  setenv("KJ_LOG", "nonsense", 1);
  kj_log_init("kjtest");
  assert_int_equal(kj_log_get_level(), KJ_LOG_ERROR); /* unchanged */
  unsetenv("KJ_LOG");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_levels),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_parse_and_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
