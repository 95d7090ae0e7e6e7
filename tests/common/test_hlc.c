/* test_hlc.c - the hybrid logical clock: monotonic when the wall clock goes
 * back, receiving remote stamps, the skew offset, and the text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hlc.h"

#define T0 1767225600000ull /* 2026-01-01T00:00:00Z in ms */

static void test_tick(void **state) {
  (void)state;
  kj_hlc_clock c;
  kj_hlc_init(&c, 0, 0);
  kj_hlc a = kj_hlc_tick(&c, T0);
  assert_true(a == KJ_HLC_MAKE(T0, 0));
  assert_true(KJ_HLC_MS(a) == T0);
  assert_int_equal(KJ_HLC_COUNT(a), 0);
  /* same millisecond: the counter moves */
  kj_hlc b = kj_hlc_tick(&c, T0);
  assert_true(b == KJ_HLC_MAKE(T0, 1));
  /* the wall clock goes back an hour: still increasing, ms held */
  kj_hlc prev = b;
  for (int i = 0; i < 1000; i++) {
    kj_hlc h = kj_hlc_tick(&c, T0 - 3600000 + (uint64_t)i);
    assert_true(h > prev);
    assert_true(KJ_HLC_MS(h) == T0);
    prev = h;
  }
  /* the wall clock catches up: back to wall time, counter 0 */
  kj_hlc d = kj_hlc_tick(&c, T0 + 10);
  assert_true(d == KJ_HLC_MAKE(T0 + 10, 0));
  assert_true(c.last == d);
  /* a counter overflow carries into the ms, still monotonic */
  kj_hlc_init(&c, KJ_HLC_MAKE(T0, 0xffff), 0);
  kj_hlc e = kj_hlc_tick(&c, T0);
  assert_true(e > KJ_HLC_MAKE(T0, 0xffff));
  /* kj_hlc_now follows the real clock */
  kj_hlc_init(&c, 0, 0);
  uint64_t before = kj_wall_ms();
  kj_hlc n1 = kj_hlc_now(&c), n2 = kj_hlc_now(&c);
  assert_true(n2 > n1);
  assert_true(KJ_HLC_MS(n1) >= before && KJ_HLC_MS(n1) <= kj_wall_ms());
}

static void test_recv(void **state) {
  (void)state;
  kj_hlc_clock c;
  kj_hlc_init(&c, 0, 0);
  kj_hlc_tick(&c, T0);
  /* a remote stamp ahead of us: the next local stamp is after it */
  kj_hlc remote = KJ_HLC_MAKE(T0 + 5000, 7);
  kj_hlc r = kj_hlc_recv(&c, remote, T0 + 1);
  assert_true(r > remote);
  assert_true(r == KJ_HLC_MAKE(T0 + 5000, 8));
  assert_true(kj_hlc_tick(&c, T0 + 2) > r);
  /* a remote stamp behind us changes nothing but the counter */
  kj_hlc last = c.last;
  r = kj_hlc_recv(&c, KJ_HLC_MAKE(T0, 3), T0 + 3);
  assert_true(r == last + 1);
  /* the wall clock ahead of both: wall time */
  r = kj_hlc_recv(&c, KJ_HLC_MAKE(T0 + 6000, 1), T0 + 9000);
  assert_true(r == KJ_HLC_MAKE(T0 + 9000, 0));
}

static void test_offset(void **state) {
  (void)state;
  kj_hlc_clock c;
  /* the server is 5 s ahead of this PC */
  kj_hlc_init(&c, 0, 5000);
  assert_true(kj_hlc_tick(&c, T0) == KJ_HLC_MAKE(T0 + 5000, 0));
  /* and behind */
  kj_hlc_init(&c, 0, -2000);
  assert_true(kj_hlc_tick(&c, T0) == KJ_HLC_MAKE(T0 - 2000, 0));
  /* an offset larger than the clock clamps at 0 */
  kj_hlc_init(&c, 0, -(int64_t)T0 - 1);
  kj_hlc h = kj_hlc_tick(&c, T0);
  assert_true(KJ_HLC_MS(h) == 0);
  /* a restored clock never goes below its last stamp */
  kj_hlc_init(&c, KJ_HLC_MAKE(T0 + 100000, 0), -50000);
  assert_true(kj_hlc_tick(&c, T0) > KJ_HLC_MAKE(T0 + 100000, 0));
  assert_true(kj_hlc_recv(&c, 1, T0) > KJ_HLC_MAKE(T0 + 100000, 0));
}

static void test_text(void **state) {
  (void)state;
  char buf[KJ_HLC_STRMAX];
  kj_hlc h;
  kj_hlc_format(0, buf);
  assert_string_equal(buf, "0");
  kj_hlc_format(UINT64_MAX, buf);
  assert_string_equal(buf, "18446744073709551615");
  assert_int_equal(kj_hlc_parse(buf, &h), 0);
  assert_true(h == UINT64_MAX);
  kj_hlc x = KJ_HLC_MAKE(T0, 42);
  kj_hlc_format(x, buf);
  assert_int_equal(kj_hlc_parse(buf, &h), 0);
  assert_true(h == x);
  assert_int_equal(kj_hlc_parse("0", &h), 0);
  assert_true(h == 0);
  static const char *const bad[] = {
      "", "-1", "+1", " 1", "1 ", "12a", "0x10", "1.5", "18446744073709551616"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(kj_hlc_parse(bad[i], &h), KJ_EINVAL);
  assert_int_equal(kj_hlc_parse(NULL, &h), KJ_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tick),
      cmocka_unit_test(test_recv),
      cmocka_unit_test(test_offset),
      cmocka_unit_test(test_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
