/* test_report.c - the report documents of proto/ (reportdoc.h, report.h):
 * encode(decode(doc)) for every vector document, decode errors naming the
 * key, unknown keys ignored, nulls round-tripping, the pull's scores
 * entries, and the printers' terminal escaping and CSV formula guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "reportdoc.h"

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  if (b)
    b[n] = 0;
  fclose(f);
  return b;
}

static const char *data_dir(void) {
  const char *d = getenv("KJ_TEST_DATA");
  return d && *d ? d : KJ_TEST_DATA_DIR;
}

/* decode text as an offices (1) or employees (0) document, encode it */
static kj_code roundtrip(const char *text, int offices, kj_buf *out, kj_err *e) {
  kj_code rc;
  if (offices) {
    kj_report_offices d;
    rc = kj_report_offices_decode(text, strlen(text), &d, e);
    if (!rc)
      rc = kj_report_offices_encode(&d, out, e);
    kj_report_offices_release(&d);
  } else {
    kj_report_employees d;
    rc = kj_report_employees_decode(text, strlen(text), &d, e);
    if (!rc)
      rc = kj_report_employees_encode(&d, out, e);
    kj_report_employees_release(&d);
  }
  return rc;
}

/* Every expected document of tests/data/vectors: decode -> encode gives the
 * same document (as numbers: the vectors are pretty-printed by another
 * implementation, "120.0" where the server writes "120.00"), and that
 * encoding is a fixed point byte for byte: encode(decode(E)) == E.  (The
 * scores tests check E against the server's own bytes.) */
static void test_vectors_roundtrip(void **state) {
  (void)state;
  int ndocs = 0;
  for (int set = 1; set <= 3; set++) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/vectors/set%d/expected", data_dir(), set);
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    struct dirent *de;
    while ((de = readdir(dp))) {
      if (!strstr(de->d_name, ".json"))
        continue;
      char path[2048];
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      char *text = read_file(path);
      assert_non_null(text);
      int offices = !strncmp(de->d_name, "offices", 7);
      kj_buf e1, e2;
      kj_buf_init(&e1, KJ_BUF_UNLIMITED);
      kj_buf_init(&e2, KJ_BUF_UNLIMITED);
      kj_err e;
      kj_err_clear(&e);
      if (roundtrip(text, offices, &e1, &e))
        fail_msg("%s: %s", path, e.msg);
      cJSON *want = cJSON_Parse(text), *got = cJSON_Parse(kj_buf_str(&e1));
      assert_non_null(got);
      if (!cJSON_Compare(want, got, 1))
        fail_msg("%s: decode/encode changed the document:\n%s", path, kj_buf_str(&e1));
      assert_int_equal(roundtrip(kj_buf_str(&e1), offices, &e2, &e), 0);
      assert_string_equal(kj_buf_str(&e1), kj_buf_str(&e2));
      /* one line, as the server sends it */
      assert_ptr_equal(strchr(kj_buf_str(&e1), '\n'), kj_buf_str(&e1) + e1.len - 1);
      cJSON_Delete(want);
      cJSON_Delete(got);
      kj_buf_release(&e1);
      kj_buf_release(&e2);
      free(text);
      ndocs++;
    }
    closedir(dp);
  }
  assert_true(ndocs >= 36);
}

#define OFFICE_OK                                                                                  \
  "{\"office\":\"36.73.04\",\"name\":\"Kecamatan Kasemen\",\"rank\":1,\"ikk\":81.23,"              \
  "\"ikm\":{\"n\":120,\"value\":82.35,\"mutu\":\"B\",\"kinerja\":\"Baik\",\"nrr\":[3.10,3.25,"     \
  "3.40,3.33,3.50,3.21,3.29,3.15,3.40],\"sample_min\":278,\"sample_ok\":false},"                   \
  "\"services\":[{\"service\":\"KTP-el\",\"n\":50,\"ikm\":83.10,\"mutu\":\"B\"}],"                 \
  "\"complaints\":{\"received\":10,\"resolved\":8,\"on_time\":6,\"on_time_rate\":60.00,"           \
  "\"median_days\":3.50},\"compliance\":87.50,\"employees\":{\"count\":12,\"capaian_mean\":95.12," \
  "\"predikat\":{\"Sangat Baik\":1,\"Baik\":7,\"Butuh Perbaikan\":1,\"Kurang\":0,"                 \
  "\"Sangat Kurang\":1}}}"
#define OFFICES_OK "{\"period\":\"2026-Q1\",\"as_of\":\"2026-03-31\",\"offices\":[" OFFICE_OK "]}\n"
#define EMPLOYEE_OK                                                                                \
  "{\"nip\":\"198001012005011001\",\"name\":\"Satu\",\"capaian\":97.50,"                           \
  "\"rating_hasil_kerja\":\"sesuai\",\"perilaku\":3.60,\"rating_perilaku\":\"diatas\","            \
  "\"predikat\":\"Baik\",\"targets\":[{\"indicator\":\"DOC\",\"target\":100,"                      \
  "\"realisasi\":97.5,\"capaian\":97.50},{\"indicator\":\"LYN\",\"target\":0.000001,"              \
  "\"realisasi\":99999.9999,\"capaian\":120.00}]}"
#define EMPLOYEES_OK                                                                               \
  "{\"period\":\"2026\",\"office\":\"36.73.04\",\"employees\":[" EMPLOYEE_OK "]}\n"

/* domain.md's own examples round-trip byte for byte, exact decimals too */
static void test_examples_exact(void **state) {
  (void)state;
  kj_buf b;
  kj_err e = {0};
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(roundtrip(OFFICES_OK, 1, &b, &e), 0);
  assert_string_equal(kj_buf_str(&b), OFFICES_OK);
  kj_buf_reset(&b);
  assert_int_equal(roundtrip(EMPLOYEES_OK, 0, &b, &e), 0);
  assert_string_equal(kj_buf_str(&b), EMPLOYEES_OK);
  kj_report_employees d;
  assert_int_equal(kj_report_employees_decode(EMPLOYEES_OK, strlen(EMPLOYEES_OK), &d, &e), 0);
  assert_true(d.employees[0].targets[1].target == 1);
  assert_true(d.employees[0].targets[1].realisasi == (kj_micro)99999999900LL);
  assert_int_equal(d.employees[0].capaian, 9750);
  assert_int_equal(d.employees[0].perilaku, 360);
  kj_report_employees_release(&d);
  /* an exact sum far beyond a double's 53 bits is printed exactly */
  kj_report_employee em;
  kj_report_employee_init(&em);
  kj_report_target t = {"DOC", (kj_micro)1000000000000000000LL * 100000 + 123456, 0, 12000};
  em.nip = "1";
  em.targets = &t;
  em.ntargets = 1;
  kj_report_employees doc = {"2026", "X", &em, 1};
  kj_buf_reset(&b);
  assert_int_equal(kj_report_employees_encode(&doc, &b, &e), 0);
  assert_non_null(strstr(kj_buf_str(&b), "\"target\":100000000000000000.123456,\"realisasi\":0,"));
  kj_buf_release(&b);
}

static void expect_error(const char *doc, int offices, const char *msg) {
  kj_buf b;
  kj_err e = {0};
  kj_err_clear(&e);
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_code rc = roundtrip(doc, offices, &b, &e);
  if (rc == KJ_OK || !strstr(e.msg, msg))
    fail_msg("%s: got rc %d '%s', want '%s'", doc, rc, e.msg, msg);
  assert_int_equal(rc, KJ_EPROTO);
  kj_buf_release(&b);
}

/* A value of the wrong type is refused with the path of its key. */
static void test_decode_errors(void **state) {
  (void)state;
  expect_error("{\"period\":\"2026\",\"as_of\":\"2026-01-01\",\"offices\":[" OFFICE_OK "," OFFICE_OK
               ",{\"office\":\"X\",\"ikm\":{\"n\":1,\"nrr\":[1,2,3,4,\"5\",6,7,8,9]}}]}",
               1, "report: 'offices[2].ikm.nrr[4]': expected a number");
  expect_error("{\"period\":\"2026\",\"as_of\":\"2026-01-01\",\"offices\":[{\"office\":7}]}", 1,
               "'offices[0].office': expected a string");
  expect_error("{\"period\":\"2026\",\"as_of\":\"2026-01-01\",\"offices\":[{\"office\":\"X\","
               "\"ikm\":{\"n\":1.5}}]}",
               1, "'offices[0].ikm.n': expected an integer");
  expect_error("{\"period\":\"2026\",\"as_of\":\"2026-01-01\",\"offices\":{}}", 1,
               "'offices': expected an array");
  expect_error("{\"as_of\":\"2026-01-01\",\"offices\":[]}", 1, "'period': expected a string");
  expect_error("{\"period\":\"2026\",\"office\":\"X\",\"employees\":[" EMPLOYEE_OK
               ",{\"nip\":\"2\",\"targets\":[{\"indicator\":\"A\",\"target\":\"x\"}]}]}",
               0, "'employees[1].targets[0].target': expected a number");
  expect_error("{\"period\":\"2026\",\"office\":\"X\",\"employees\":[{\"nip\":\"2\","
               "\"capaian\":true,\"targets\":[]}]}",
               0, "'employees[0].capaian': expected a number or null");
  expect_error("{\"period\":\"2026\",\"office\":\"X\",\"employees\":[{\"nip\":\"2\"}]}", 0,
               "'employees[0].targets': expected an array");
  expect_error("[1,2]", 1, "report: not a JSON object");
  expect_error("{\"period\":", 0, "report: not a JSON document");
}

/* Keys a newer server adds are ignored at every level. */
static void test_unknown_keys(void **state) {
  (void)state;
  const char *newer =
      "{\"period\":\"2026-Q1\",\"version\":3,\"as_of\":\"2026-03-31\",\"offices\":[{\"office\":"
      "\"36.73.04\",\"trend\":{\"ikk\":[1,2]},\"name\":\"Kecamatan Kasemen\",\"rank\":1,\"ikk\":"
      "81.23,\"ikm\":{\"n\":120,\"value\":82.35,\"ci95\":[80,84],\"mutu\":\"B\",\"kinerja\":"
      "\"Baik\",\"nrr\":[3.10,3.25,3.40,3.33,3.50,3.21,3.29,3.15,3.40],\"sample_min\":278,"
      "\"sample_ok\":false},\"services\":[{\"service\":\"KTP-el\",\"x\":null,\"n\":50,\"ikm\":"
      "83.10,\"mutu\":\"B\"}],\"complaints\":{\"received\":10,\"resolved\":8,\"on_time\":6,"
      "\"on_time_rate\":60.00,\"median_days\":3.50,\"p90_days\":9},\"compliance\":87.50,"
      "\"employees\":{\"count\":12,\"capaian_mean\":95.12,\"predikat\":{\"Sangat Baik\":1,"
      "\"Baik\":7,\"Butuh Perbaikan\":1,\"Kurang\":0,\"Sangat Kurang\":1,\"Istimewa\":0}}}],"
      "\"footer\":\"x\"}";
  kj_buf b;
  kj_err e = {0};
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(roundtrip(newer, 1, &b, &e), 0);
  assert_string_equal(kj_buf_str(&b), OFFICES_OK);
  kj_buf_reset(&b);
  const char *newer_emp =
      "{\"period\":\"2026\",\"office\":\"36.73.04\",\"employees\":[{\"nip\":\"198001012005011001\","
      "\"unit\":\"Seksi\",\"name\":\"Satu\",\"capaian\":97.50,\"rating_hasil_kerja\":\"sesuai\","
      "\"perilaku\":3.60,\"rating_perilaku\":\"diatas\",\"predikat\":\"Baik\",\"targets\":[{"
      "\"indicator\":\"DOC\",\"unit\":\"dokumen\",\"target\":100,\"realisasi\":97.5,\"capaian\":"
      "97.50},{\"indicator\":\"LYN\",\"target\":0.000001,\"realisasi\":99999.9999,\"capaian\":"
      "120.00}]}]}";
  assert_int_equal(roundtrip(newer_emp, 0, &b, &e), 0);
  assert_string_equal(kj_buf_str(&b), EMPLOYEES_OK);
  kj_buf_release(&b);
}

/* What cannot be computed is null, and stays null. */
static void test_nulls(void **state) {
  (void)state;
  const char *doc =
      "{\"period\":\"2026\",\"as_of\":\"2026-01-31\",\"offices\":[{\"office\":\"X\",\"name\":null,"
      "\"rank\":1,\"ikk\":null,\"ikm\":{\"n\":0,\"value\":null,\"mutu\":null,\"kinerja\":null,"
      "\"nrr\":null,\"sample_min\":null,\"sample_ok\":null},\"services\":[],\"complaints\":{"
      "\"received\":0,\"resolved\":0,\"on_time\":0,\"on_time_rate\":null,\"median_days\":null},"
      "\"compliance\":null,\"employees\":{\"count\":0,\"capaian_mean\":null,\"predikat\":{"
      "\"Sangat Baik\":0,\"Baik\":0,\"Butuh Perbaikan\":0,\"Kurang\":0,\"Sangat Kurang\":0}}}]}\n";
  kj_report_offices d;
  kj_err e = {0};
  assert_int_equal(kj_report_offices_decode(doc, strlen(doc), &d, &e), 0);
  assert_int_equal(d.n, 1);
  const kj_report_office *o = &d.offices[0];
  assert_null(o->name);
  assert_true(o->ikk == KJ_RNULL && o->ikm.value == KJ_RNULL && o->compliance == KJ_RNULL);
  assert_true(o->ikm.sample_min == KJ_RNULL && o->employees.capaian_mean == KJ_RNULL);
  assert_int_equal(o->ikm.sample_ok, -1);
  assert_int_equal(o->ikm.has_nrr, 0);
  assert_null(o->ikm.mutu);
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_report_offices_encode(&d, &b, &e), 0);
  assert_string_equal(kj_buf_str(&b), doc);
  kj_report_offices_release(&d);
  /* a missing key where null is allowed reads as null */
  assert_int_equal(roundtrip("{\"period\":\"2026\",\"office\":\"X\",\"employees\":[{\"nip\":\"1\","
                             "\"targets\":[]}]}",
                             0, &b, &e),
                   0);
  assert_non_null(strstr(kj_buf_str(&b), "{\"nip\":\"1\",\"name\":null,\"capaian\":null,"
                                         "\"rating_hasil_kerja\":null,\"perilaku\":null,"));
  kj_buf_release(&b);
}

/* The pull's scores array: one entry per period, office row or null. */
static void test_scores_entries(void **state) {
  (void)state;
  kj_report_offices od;
  kj_report_employees ed;
  kj_err e = {0};
  assert_int_equal(kj_report_offices_decode(OFFICES_OK, strlen(OFFICES_OK), &od, &e), 0);
  assert_int_equal(kj_report_employees_decode(EMPLOYEES_OK, strlen(EMPLOYEES_OK), &ed, &e), 0);
  kj_report_scores en[2];
  kj_report_scores_init(&en[0]);
  kj_report_scores_init(&en[1]);
  en[0].period = "2026";
  en[0].as_of = "2026-03-31";
  en[0].has_office = 1;
  en[0].office = od.offices[0];
  en[0].employees = ed.employees;
  en[0].n = ed.n;
  en[1].period = "2026-03";
  en[1].as_of = "2026-03-31";
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_report_scores_encode(en, 2, &b, &e), 0);
  const char *want = "[{\"period\":\"2026\",\"as_of\":\"2026-03-31\",\"office\":" OFFICE_OK
                     ",\"employees\":[" EMPLOYEE_OK "]},{\"period\":\"2026-03\",\"as_of\":"
                     "\"2026-03-31\",\"office\":null,\"employees\":[]}]";
  assert_string_equal(kj_buf_str(&b), want);
  kj_report_offices_release(&od);
  kj_report_employees_release(&ed);
  /* each element decodes back (the client stores them one by one) */
  cJSON *arr = cJSON_Parse(kj_buf_str(&b));
  for (int i = 0; i < 2; i++) {
    char *t = cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, i));
    kj_report_scores sc;
    assert_int_equal(kj_report_scores_decode(t, strlen(t), &sc, &e), 0);
    assert_int_equal(sc.has_office, i == 0);
    kj_buf b2;
    kj_buf_init(&b2, KJ_BUF_UNLIMITED);
    assert_int_equal(kj_report_scores_encode(&sc, 1, &b2, &e), 0);
    cJSON *one = cJSON_CreateArray();
    cJSON_AddItemToArray(one, cJSON_Duplicate(cJSON_GetArrayItem(arr, i), 1));
    cJSON *back = cJSON_Parse(kj_buf_str(&b2));
    assert_true(cJSON_Compare(one, back, 1));
    cJSON_Delete(one);
    cJSON_Delete(back);
    kj_buf_release(&b2);
    kj_report_scores_release(&sc);
    free(t);
  }
  cJSON_Delete(arr);
  kj_buf_release(&b);
  /* an entry with a mistyped office names it */
  const char *bad = "{\"period\":\"2026\",\"as_of\":\"2026-01-01\",\"office\":{\"office\":\"X\","
                    "\"ikm\":[]},\"employees\":[]}";
  kj_report_scores sc;
  assert_int_equal(kj_report_scores_decode(bad, strlen(bad), &sc, &e), KJ_EPROTO);
  assert_non_null(strstr(e.msg, "'office.ikm': expected an object"));
}

static char *print_to_string(int offices, const char *doc, const char *format) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  kj_err e = {0};
  assert_int_equal(kj_report_format(doc, format, f, &e), 0);
  fclose(f);
  (void)offices;
  /* a copy: gcc 12 takes a pointer into the memstream's buffer for one to
   * the local 'buf' itself (-Wdangling-pointer) once this is inlined */
  char *out = strdup(buf);
  free(buf);
  assert_non_null(out);
  return out;
}

#define HOSTILE_OFFICES                                                                            \
  "{\"period\":\"2026\",\"as_of\":\"2026-01-31\",\"offices\":[{\"office\":\"X1\",\"name\":"        \
  "\"\\u001b[2J=cmd\",\"rank\":1,\"ikk\":50.00,\"ikm\":{\"n\":0,\"value\":null,\"mutu\":null,"     \
  "\"kinerja\":null,\"nrr\":null,\"sample_min\":null,\"sample_ok\":null},\"services\":[],"         \
  "\"complaints\":{\"received\":0,\"resolved\":0,\"on_time\":0,\"on_time_rate\":null,"             \
  "\"median_days\":null},\"compliance\":null,\"employees\":{\"count\":0,\"capaian_mean\":null,"    \
  "\"predikat\":{\"Sangat Baik\":0,\"Baik\":0,\"Butuh Perbaikan\":0,\"Kurang\":0,"                 \
  "\"Sangat Kurang\":0}}},{\"office\":\"=X2\",\"name\":\"=cmd|' /C calc'!A0\",\"rank\":2,"         \
  "\"ikk\":null,\"ikm\":{\"n\":0,\"value\":null,\"mutu\":null,\"kinerja\":null,\"nrr\":null,"      \
  "\"sample_min\":null,\"sample_ok\":null},\"services\":[],\"complaints\":{\"received\":0,"        \
  "\"resolved\":0,\"on_time\":0,\"on_time_rate\":null,\"median_days\":null},\"compliance\":null,"  \
  "\"employees\":{\"count\":0,\"capaian_mean\":null,\"predikat\":{\"Sangat Baik\":0,\"Baik\":0,"   \
  "\"Butuh Perbaikan\":0,\"Kurang\":0,\"Sangat Kurang\":0}}}]}"

/* An office named "\x1b[2J=cmd": the table shows it escaped (no ESC byte
 * reaches the terminal) with every column still aligned; the CSV guards
 * the cells that would run as formulas. */
static void test_print_hostile_office(void **state) {
  (void)state;
  char *t = print_to_string(1, HOSTILE_OFFICES, "table");
  assert_null(strchr(t, 0x1b));
  assert_non_null(strstr(t, "\\e[2J=cmd"));
  /* every row's last column starts where its header does */
  char *hdr = strstr(t, "rank"), *r1 = strchr(hdr, '\n') + 1, *r2 = strchr(r1, '\n') + 1;
  long col = strstr(hdr, "SB/B/BP/K/SK") - hdr;
  assert_int_equal(strstr(r1, "0/0/0/0/0") - r1, col);
  assert_int_equal(strstr(r2, "0/0/0/0/0") - r2, col);
  free(t);
  char *c = print_to_string(1, HOSTILE_OFFICES, "csv");
  assert_non_null(strstr(c, "\n1,X1,\x1b[2J=cmd,50.00,"));
  assert_non_null(strstr(c, "\n2,'=X2,'=cmd|' /C calc'!A0,,0,"));
  free(c);
  /* employees: a name of control characters is clipped after escaping */
  const char *emp =
      "{\"period\":\"2026\",\"office\":\"\\u001b]0;x\\u0007\",\"employees\":[{"
      "\"nip\":\"@1\",\"name\":\"\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001"
      "\\u0001\\u0001\",\"capaian\":null,\"rating_hasil_kerja\":null,\"perilaku\":null,"
      "\"rating_perilaku\":null,\"predikat\":\"-Baik\",\"targets\":[]}]}";
  t = print_to_string(0, emp, "table");
  for (const char *p = t; *p; p++)
    assert_true((unsigned char)*p >= 0x20 || *p == '\n');
  assert_non_null(strstr(t, "Employees of \\e]0;x\\x07, period 2026"));
  hdr = strstr(t, "nip");
  r1 = strchr(hdr, '\n') + 1;
  assert_int_equal(strstr(r1, "-Baik") - r1, strstr(hdr, "predikat") - hdr);
  free(t);
  c = print_to_string(0, emp, "csv");
  assert_non_null(strstr(c, "\n'@1,"));
  assert_non_null(strstr(c, ",'-Baik,0\n"));
  free(c);
}

/* An employee without a predikat: the table says why (no target: capaian
 * null; no atasan rating: perilaku null; both), the CSV keeps an empty cell. */
static void test_print_no_predikat(void **state) {
  (void)state;
  const char *emp =
      "{\"period\":\"2026\",\"office\":\"36.73.01\",\"employees\":["
      "{\"nip\":\"1\",\"name\":\"A\",\"capaian\":null,\"rating_hasil_kerja\":null,"
      "\"perilaku\":3.50,\"rating_perilaku\":\"sesuai\",\"predikat\":null,\"targets\":[]},"
      "{\"nip\":\"2\",\"name\":\"B\",\"capaian\":95.00,\"rating_hasil_kerja\":\"sesuai\","
      "\"perilaku\":null,\"rating_perilaku\":null,\"predikat\":null,\"targets\":[]},"
      "{\"nip\":\"3\",\"name\":\"C\",\"capaian\":null,\"rating_hasil_kerja\":null,"
      "\"perilaku\":null,\"rating_perilaku\":null,\"predikat\":null,\"targets\":[]}]}";
  char *t = print_to_string(0, emp, "table");
  /* each row (from its '\n' to the next) ends with its own reason */
  const char *key[3] = {"\n1 ", "\n2 ", "\n3 "},
             *want[3] = {" no target", " no atasan rating", " no target, no atasan rating"};
  for (int i = 0; i < 3; i++) {
    const char *row = strstr(t, key[i]);
    assert_non_null(row);
    const char *end = strchr(row + 1, '\n');
    size_t n = strlen(want[i]);
    assert_non_null(end);
    assert_true((size_t)(end - row) > n);
    assert_memory_equal(end - n, want[i], n);
  }
  free(t);
  char *v = print_to_string(0, emp, "csv");
  assert_null(strstr(v, "no target"));
  free(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors_roundtrip),
      cmocka_unit_test(test_examples_exact),
      cmocka_unit_test(test_decode_errors),
      cmocka_unit_test(test_unknown_keys),
      cmocka_unit_test(test_nulls),
      cmocka_unit_test(test_scores_entries),
      cmocka_unit_test(test_print_hostile_office),
      cmocka_unit_test(test_print_no_predikat),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
