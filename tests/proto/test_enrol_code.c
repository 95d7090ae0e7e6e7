/* test_enrol_code.c - the enrolment code (proto/enrol.c) and the messages
 * of POST /v1/enrol (proto/msg.c): round trips, the lenient reading
 * Crockford's alphabet intends, every typo caught by the check symbol,
 * clear refusals, and the answer decoder's strictness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enrol.h"
#include "msg.h"

static const unsigned char k_secret[KJ_ENROL_SECRET_LEN] = {0x3f, 0x0c, 0x9a, 0x1b, 0x2e,
                                                            0x4d, 0x5c, 0x6b, 0x7a, 0x80};
static const unsigned char k_pin[KJ_ENROL_PIN_LEN] = {0xda, 0x04, 0x7f, 0x4a, 0xa9};

static void test_round_trip(void **state) {
  (void)state;
  char code[KJ_ENROL_CODE_SIZE];
  kj_enrol_code_format(k_secret, k_pin, code);
  assert_int_equal(strlen(code), 29);
  for (int i = 0; i < 29; i++)
    assert_true(i % 6 == 5 ? code[i] == '-' : (code[i] >= '0' && code[i] <= 'Z'));
  unsigned char s[KJ_ENROL_SECRET_LEN], p[KJ_ENROL_PIN_LEN];
  assert_int_equal(kj_enrol_code_parse(code, s, p, NULL), KJ_OK);
  assert_memory_equal(s, k_secret, sizeof s);
  assert_memory_equal(p, k_pin, sizeof p);
  /* lower case, spaces instead of hyphens, none at all */
  char loose[64];
  size_t n = 0;
  for (int i = 0; code[i]; i++)
    loose[n++] = code[i] == '-' ? ' ' : (char)(code[i] >= 'A' ? code[i] + 32 : code[i]);
  loose[n] = 0;
  assert_int_equal(kj_enrol_code_parse(loose, s, p, NULL), KJ_OK);
  assert_memory_equal(s, k_secret, sizeof s);
  /* O for 0 and I or L for 1, as Crockford reads them */
  unsigned char zero[KJ_ENROL_SECRET_LEN] = {0}, zpin[KJ_ENROL_PIN_LEN] = {0};
  kj_enrol_code_format(zero, zpin, code);
  assert_int_equal(strncmp(code, "00000-00000", 11), 0);
  memcpy(loose, code, sizeof code);
  loose[0] = 'O';
  loose[1] = 'o';
  assert_int_equal(kj_enrol_code_parse(loose, s, p, NULL), KJ_OK);
  unsigned char ones[KJ_ENROL_SECRET_LEN];
  memset(ones, 0x08, sizeof ones); /* 00001 00010 00... : symbols 1 and 2 */
  kj_enrol_code_format(ones, zpin, code);
  assert_int_equal(code[0], '1');
  code[0] = 'l';
  assert_int_equal(kj_enrol_code_parse(code, s, p, NULL), KJ_OK);
  code[0] = 'I';
  assert_int_equal(kj_enrol_code_parse(code, s, p, NULL), KJ_OK);
  assert_memory_equal(s, ones, sizeof s);
}

static void test_typos(void **state) {
  (void)state;
  char code[KJ_ENROL_CODE_SIZE];
  kj_enrol_code_format(k_secret, k_pin, code);
  static const char alpha[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  int caught = 0, total = 0;
  unsigned char s[KJ_ENROL_SECRET_LEN], p[KJ_ENROL_PIN_LEN];
  for (int i = 0; code[i]; i++) {
    if (code[i] == '-')
      continue;
    for (int a = 0; a < 32; a++) {
      if (alpha[a] == code[i])
        continue;
      char t[KJ_ENROL_CODE_SIZE];
      memcpy(t, code, sizeof t);
      t[i] = alpha[a];
      kj_err e;
      kj_err_clear(&e);
      total++;
      if (kj_enrol_code_parse(t, s, p, &e) == KJ_EINVAL) {
        caught++;
        assert_non_null(strstr(e.msg, "mistyped"));
      }
    }
  }
  /* 5 check bits: about 31 in 32 single-symbol typos are caught */
  assert_true(caught * 100 >= total * 93);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_enrol_code_parse("ABCDE-FGHJK", s, p, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "enrolment code: 10 letters and digits, expected 25 (5 groups of 5)");
  char longer[64];
  snprintf(longer, sizeof longer, "%s-A", code);
  assert_int_equal(kj_enrol_code_parse(longer, s, p, &e), KJ_EINVAL);
  assert_non_null(strstr(e.msg, "too long"));
  char bad[KJ_ENROL_CODE_SIZE];
  memcpy(bad, code, sizeof bad);
  bad[2] = 'U'; /* not in the alphabet */
  assert_int_equal(kj_enrol_code_parse(bad, s, p, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "enrolment code: 'U' is not a letter or digit of the code");
  bad[2] = '\x1b';
  assert_int_equal(kj_enrol_code_parse(bad, s, p, &e), KJ_EINVAL);
  assert_non_null(strstr(e.msg, "byte 0x1b"));
  assert_int_equal(kj_enrol_code_parse("", s, p, &e), KJ_EINVAL);
}

static void test_secret_hex(void **state) {
  (void)state;
  char hex[KJ_ENROL_HEX_SIZE];
  kj_enrol_secret_hex(k_secret, hex);
  assert_string_equal(hex, "3f0c9a1b2e4d5c6b7a80");
  unsigned char s[KJ_ENROL_SECRET_LEN];
  assert_int_equal(kj_enrol_secret_unhex("3F0C9A1B2E4D5C6B7A80", 20, s), KJ_OK);
  assert_memory_equal(s, k_secret, sizeof s);
  assert_int_equal(kj_enrol_secret_unhex("3f0c9a1b2e4d5c6b7a8", 19, s), KJ_EINVAL);
  assert_int_equal(kj_enrol_secret_unhex("3f0c9a1b2e4d5c6b7a8g", 20, s), KJ_EINVAL);
  char pin[64];
  unsigned char h[32];
  memset(h, 0, sizeof h);
  kj_pin_format(h, pin, sizeof pin);
  assert_string_equal(pin, "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  assert_int_equal(kj_cert_spki_sha256("no certificate", 14, h, NULL), KJ_EINVAL);
}

static void test_messages(void **state) {
  (void)state;
  kj_buf b;
  kj_buf_init(&b, 1 << 16);
  assert_int_equal(kj_enrol_request_encode(&b, 2, NULL), KJ_OK);
  int proto = 0;
  assert_int_equal(kj_enrol_request_decode(b.data, b.len, &proto, NULL), KJ_OK);
  assert_int_equal(proto, 2);
  assert_int_equal(kj_enrol_request_decode("", 0, &proto, NULL), KJ_OK);
  assert_int_equal(proto, 1);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_enrol_request_decode("[1]", 3, &proto, &e), KJ_EPROTO);
  assert_int_equal(kj_enrol_request_decode("{\"protocol\":-1}", 15, &proto, &e), KJ_EPROTO);
  assert_non_null(strstr(e.msg, "'protocol'"));
  kj_enrol_answer a, d;
  memset(&a, 0, sizeof a);
  snprintf(a.device, sizeof a.device, "dev-1a2b3c4d");
  snprintf(a.office, sizeof a.office, "36.73.01");
  snprintf(a.token, sizeof a.token, "%064d", 7);
  a.cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  kj_buf_reset(&b);
  assert_int_equal(kj_enrol_answer_encode(&b, &a, NULL), KJ_OK);
  assert_int_equal(kj_enrol_answer_decode(b.data, b.len, &d, NULL), KJ_OK);
  assert_string_equal(d.device, a.device);
  assert_string_equal(d.office, a.office);
  assert_string_equal(d.token, a.token);
  assert_string_equal(d.cert, a.cert);
  kj_enrol_answer_release(&d);
  /* what a hostile server could answer is refused, naming the key */
  static const char *const bad[][2] = {
      {"{\"device\":\"dev-1\",\"office\":\"36.73.01\",\"token\":\"a\\u001b[2J\","
       "\"cert\":\"-----BEGIN CERTIFICATE-----\"}",
       "'token'"},
      {"{\"device\":\"dev 1\",\"office\":\"36.73.01\",\"token\":\"ab\","
       "\"cert\":\"-----BEGIN CERTIFICATE-----\"}",
       "'device'"},
      {"{\"device\":\"dev-1\",\"token\":\"ab\",\"cert\":\"-----BEGIN CERTIFICATE-----\"}",
       "'office'"},
      {"{\"device\":\"dev-1\",\"office\":\"36.73.01\",\"token\":\"ab\",\"cert\":\"x\"}", "'cert'"},
      {"[]", "not a JSON object"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    kj_err_clear(&e);
    assert_int_equal(kj_enrol_answer_decode(bad[i][0], strlen(bad[i][0]), &d, &e), KJ_EPROTO);
    assert_non_null(strstr(e.msg, bad[i][1]));
    assert_null(d.cert);
  }
  kj_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_typos),
      cmocka_unit_test(test_secret_hex),
      cmocka_unit_test(test_messages),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
