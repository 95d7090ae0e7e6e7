/* test_csvio.c - the CSV files: spreadsheet quirks, line numbers, header
 * errors, per-row problems, and write -> read round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvio.h"
#include "text.h"

#define UUID1 "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a01"
#define UUID2 "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a02"
#define NIP1 "198001012005011001"

#define MAXROWS 64

typedef struct row {
  long line;
  kj_record rec;
  char problems[1024]; /* "|"-joined */
  int nproblems;
} row;

typedef struct rows {
  row r[MAXROWS];
  int n;
  long total; /* rows seen, also past MAXROWS */
  long last_line;
  int stop_after; /* > 0: return 1 after this many rows */
  int lines_ok;   /* for the big file: line == expected */
} rows;

static int collect(void *ud, long line, kj_record *rec, const char *const *problems, int n) {
  rows *rs = ud;
  rs->total++;
  rs->last_line = line;
  if (rs->n < MAXROWS) {
    row *r = &rs->r[rs->n++];
    r->line = line;
    assert_int_equal(kj_record_copy(&r->rec, rec), KJ_OK);
    r->problems[0] = '\0';
    r->nproblems = n;
    for (int i = 0; i < n; i++) {
      size_t len = strlen(r->problems);
      snprintf(r->problems + len, sizeof(r->problems) - len, "%s%s", i ? "|" : "", problems[i]);
    }
  }
  return rs->stop_after > 0 && rs->total >= rs->stop_after;
}

static void rows_release(rows *rs) {
  for (int i = 0; i < rs->n; i++)
    kj_record_release(&rs->r[i].rec);
  memset(rs, 0, sizeof(*rs));
}

/* Read text (len bytes, may hold NULs) as a CSV of type tname. */
static kj_code read_text(const char *text, size_t len, const char *tname, const char *office,
                         rows *rs, kj_err *err) {
  FILE *f = fmemopen((void *)text, len, "rb");
  assert_non_null(f);
  kj_err_clear(err);
  kj_code rc = kj_csv_read(f, "s.csv", kj_type_by_name(tname), office, collect, rs, err);
  fclose(f);
  return rc;
}

#define READ(text, tname, office, rs, err) read_text(text, sizeof(text) - 1, tname, office, rs, err)

static const char *val(const row *r, const char *name) {
  const char *v = kj_record_get(&r->rec, name);
  return v ? v : "(absent)";
}

#define SURVEY_HDR                                                                                 \
  "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment"
#define GOOD ",2026-01-05,KTP-el,4,4,4,4,4,4,4,4,4"

static void test_spreadsheet_file(void **state) {
  (void)state;
  /* a UTF-8 BOM, CRLF line ends, quoted commas, quotes and line breaks */
  static const char text[] =
      "\xef\xbb\xbf" SURVEY_HDR "\r\n" UUID1 ",36.73.04" GOOD
      ",30,L,SMA,\"Petani, nelayan\",\"Cepat \"\"sekali\"\"\r\nterima kasih\"\r\n"
      "," GOOD ",,P,,,\"a\nb\nc\"\r\n"
      "\r\n"
      ",36.73.04,2026-02-29,KTP-el,0,4,4,4,4,4,4,4,5,9,X,,,\r\n"
      ",,,,,,,,,,,,,,,,,\r\n"
      ",36.73.04" GOOD ",,,,,last row has no line end";
  rows rs = {0};
  kj_err e;
  assert_int_equal(READ(text, "surveys", "36.73.09", &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 4);

  assert_int_equal(rs.r[0].line, 2);
  assert_string_equal(rs.r[0].rec.id, UUID1);
  assert_string_equal(val(&rs.r[0], "occupation"), "Petani, nelayan");
  assert_string_equal(val(&rs.r[0], "comment"),
                      "Cepat \"sekali\"\nterima kasih"); /* CRLF in a cell: LF */
  assert_string_equal(val(&rs.r[0], "age"), "30");
  assert_int_equal(rs.r[0].nproblems, 0);

  /* rows 2-3 of the file were one record; its office is the default */
  assert_int_equal(rs.r[1].line, 4);
  assert_string_equal(rs.r[1].rec.id, "");
  assert_string_equal(val(&rs.r[1], "office"), "36.73.09");
  assert_string_equal(val(&rs.r[1], "comment"), "a\nb\nc");
  assert_string_equal(val(&rs.r[1], "age"), "(absent)");
  assert_string_equal(rs.r[1].problems, "");

  /* line 7 was blank; every problem of the row is there, in field order */
  assert_int_equal(rs.r[2].line, 8);
  assert_int_equal(rs.r[2].nproblems, 5);
  assert_string_equal(rs.r[2].problems, "field 'date': must be a date YYYY-MM-DD|"
                                        "field 'u1': must be an integer from 1 to 4|"
                                        "field 'u9': must be an integer from 1 to 4|"
                                        "field 'age': must be an integer from 10 to 120|"
                                        "field 'sex': must be one of L, P");
  /* line 9 had only empty cells: skipped */
  assert_int_equal(rs.r[3].line, 10);
  assert_string_equal(val(&rs.r[3], "comment"), "last row has no line end");
  assert_int_equal(rs.r[3].nproblems, 0);
  rows_release(&rs);
}

static void test_line_numbers_lf_and_cr(void **state) {
  (void)state;
  /* LF only, with line breaks inside quotes, blank lines, and old Mac CRs */
  static const char lf[] = "id,name,unit\n"
                           "A,\"one\ntwo\nthree\",x\n"
                           "\n"
                           "\n"
                           "B,b,\"\r\n\"\n"
                           "C,c,c\rD,d,d\r\n"
                           "E,\"\r\r\",e\n";
  rows rs = {0};
  kj_err e;
  assert_int_equal(READ(lf, "indicator", NULL, &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 5);
  static const long want[] = {2, 7, 9, 10, 11};
  static const char *const ids[] = {"A", "B", "C", "D", "E"};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(rs.r[i].line, want[i]);
    assert_string_equal(rs.r[i].rec.id, ids[i]);
  }
  rows_release(&rs);
}

static void test_header_errors(void **state) {
  (void)state;
  rows rs = {0};
  kj_err e;
  static const char unknown[] = "id,office,date,bogus\n,x,2026-01-01,1\n";
  assert_int_equal(READ(unknown, "survey", NULL, &rs, &e), KJ_EINVAL);
  /* the message lists the columns the file may have */
  assert_string_equal(e.msg, "s.csv:1: unknown column 'bogus'; the columns of surveys.csv are "
                             "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,"
                             "education,occupation,comment");
  assert_int_equal(rs.n, 0);
  static const char dup[] = "id,office,date,office\n";
  assert_int_equal(READ(dup, "survey", NULL, &rs, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "s.csv:1: duplicate column 'office'");
  static const char dupid[] = "nip,name,nip\n";
  assert_int_equal(READ(dupid, "employees", NULL, &rs, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "s.csv:1: duplicate column 'nip'");
  static const char noname[] = "id,,date\n";
  assert_int_equal(READ(noname, "survey", NULL, &rs, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "s.csv:1: column 2 has no name");
  /* another type's id column is unknown here */
  static const char wrongid[] = "code,name\n";
  assert_int_equal(READ(wrongid, "indicators", NULL, &rs, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "s.csv:1: unknown column 'code'; the columns of indicators.csv are "
                             "id,name,unit");
  /* a near miss is named */
  static const char typo[] = "id,nama,unit\n";
  assert_int_equal(READ(typo, "indicators", NULL, &rs, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "s.csv:1: unknown column 'nama' (did you mean 'name'?); the columns "
                             "of indicators.csv are id,name,unit");
  static const char blank[] = "\n\n";
  assert_int_equal(READ(blank, "indicators", NULL, &rs, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "s.csv:1: no header row");
  /* a header alone is an empty, valid file */
  static const char hdr[] = "\xef\xbb\xbfid,name,unit\r\n";
  assert_int_equal(READ(hdr, "indicators", NULL, &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 0);
  /* the quoted header of some spreadsheets */
  static const char quoted[] = "\xef\xbb\xbf\"id\",\"name\",\"unit\"\r\nDOC,Dokumen,dokumen\r\n";
  assert_int_equal(READ(quoted, "indicators", NULL, &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 1);
  assert_string_equal(val(&rs.r[0], "unit"), "dokumen");
  rows_release(&rs);
}

static void test_columns_any_order_and_missing(void **state) {
  (void)state;
  static const char text[] = "quantity,nip,date,indicator\n"
                             "2.5," NIP1 ",2026-01-05,DOC\n";
  rows rs = {0};
  kj_err e;
  assert_int_equal(READ(text, "activities", "36.73.04", &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 1);
  assert_string_equal(val(&rs.r[0], "quantity"), "2.5");
  assert_string_equal(val(&rs.r[0], "nip"), NIP1);
  assert_string_equal(val(&rs.r[0], "office"), "36.73.04");
  assert_string_equal(rs.r[0].problems, "");
  rows_release(&rs);

  /* no office column and no default office; no quantity column */
  static const char miss[] = "nip,date,indicator\n" NIP1 ",2026-01-05,DOC\n";
  assert_int_equal(READ(miss, "activity", NULL, &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 1);
  assert_string_equal(rs.r[0].problems,
                      "field 'office': is required|field 'quantity': is required");
  rows_release(&rs);
}

static void test_ids(void **state) {
  (void)state;
  static const char text[] =
      "id,office,received\n"
      ",X,2026-01-01\n"
      "not-a-uuid,X,2026-01-01\n"
      "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0123456,X,2026-01-01\n" UUID2 ",X,2026-01-01\n";
  rows rs = {0};
  kj_err e;
  assert_int_equal(READ(text, "complaints", NULL, &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 4);
  assert_string_equal(rs.r[0].rec.id, "");
  assert_string_equal(rs.r[0].problems, "");
  assert_string_equal(rs.r[1].problems, "field 'id': must be a UUID");
  assert_string_equal(rs.r[2].problems, "field 'id': must be a UUID"); /* once */
  assert_string_equal(rs.r[3].rec.id, UUID2);
  assert_string_equal(rs.r[3].problems, "");
  rows_release(&rs);

  /* master data: the key is required */
  static const char emp[] = "nip,name,office\n,Budi,36.73.04\n" NIP1 ",Siti,\n";
  assert_int_equal(READ(emp, "employees", "36.73.04", &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 2);
  assert_string_equal(rs.r[0].problems, "field 'nip': is required");
  assert_string_equal(rs.r[1].rec.id, NIP1);
  assert_string_equal(val(&rs.r[1], "office"), "36.73.04"); /* the default office */
  rows_release(&rs);
}

static void test_cells(void **state) {
  (void)state;
  rows rs = {0};
  kj_err e;
  /* extra empty cells are fine, extra values are not, short rows are fine */
  static const char text[] = "id,name,unit\n"
                             "A,a,u,,\n"
                             "B,b,u,x\n"
                             "C\n"
                             "  D  ,\"  spaced  \", u \n";
  assert_int_equal(READ(text, "indicators", NULL, &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 4);
  assert_string_equal(rs.r[0].problems, "");
  assert_string_equal(rs.r[1].problems, "row has 4 cells, the header 3");
  assert_string_equal(rs.r[2].problems, "");
  assert_string_equal(val(&rs.r[2], "name"), "(absent)");
  /* unquoted cells are trimmed, quoted ones kept */
  assert_string_equal(rs.r[3].rec.id, "D");
  assert_string_equal(val(&rs.r[3], "name"), "  spaced  ");
  assert_string_equal(val(&rs.r[3], "unit"), "u");
  rows_release(&rs);

  /* a NUL byte inside a cell */
  static const char nul[] = "id,name,unit\nA,a\0b,u\n";
  assert_int_equal(READ(nul, "indicators", NULL, &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 1);
  assert_string_equal(rs.r[0].problems, "field 'name': must not contain a NUL byte");
  rows_release(&rs);
}

static void test_bad_quoting_and_stop(void **state) {
  (void)state;
  rows rs = {0};
  kj_err e;
  static const char bad[] = "id,name,unit\nA,a,u\nB,\"b\"x,u\nC,c,c\n";
  assert_int_equal(READ(bad, "indicators", NULL, &rs, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "s.csv:3: bad quoting: a quoted cell must end with '\"' before the "
                             "next ',' or line end");
  assert_int_equal(rs.n, 1); /* the rows before were delivered */
  rows_release(&rs);

  static const char open[] = "id,name,unit\nA,a,u\n\nB,\"never closed\n,u\n";
  assert_int_equal(READ(open, "indicators", NULL, &rs, &e), KJ_EINVAL);
  assert_non_null(strstr(e.msg, "s.csv:4: bad quoting"));
  rows_release(&rs);

  static const char three[] = "id,name,unit\nA,a,u\nB,b,u\nC,c,c\n";
  rs.stop_after = 2;
  assert_int_equal(READ(three, "indicators", NULL, &rs, &e), KJ_EINTR);
  assert_int_equal(rs.total, 2);
  rows_release(&rs);
}

/* ---- files on disk ------------------------------------------------------ */

static char g_dir[64];

static int setup_dir(void **state) {
  (void)state;
  strcpy(g_dir, "/tmp/kj-csvio-XXXXXX");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown_dir(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void path_in_dir(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", g_dir, name);
}

static void test_round_trip(void **state) {
  (void)state;
  static const char *const values[][4] = {
      /* service, occupation, comment, sex */
      {"KTP-el", NULL, NULL, "L"},
      {"Akta, kelahiran", "\"guru\"", "baris 1\nbaris 2\n\nbaris 3", NULL},
      {"  spasi di depan", "di tengah ", "\tawal dan akhir dengan tab\t", "P"},
      {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", ",", "\"", NULL},
      {"a\"b\"c", "=HYPERLINK(\"http://x\")", "koma,\"kutip\",\nbaris", NULL},
  };
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  char path[128];
  path_in_dir(path, sizeof(path), "surveys.csv");
  kj_record in[5];
  for (int pass = 0; pass < 2; pass++) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(kj_csv_write_header(f, t), KJ_OK);
    for (int i = 0; i < 5; i++) {
      if (pass == 0) {
        kj_record_init(&in[i], KJ_T_SURVEY);
        snprintf(in[i].id, sizeof(in[i].id), "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0%d", i);
        kj_record_set_named(&in[i], "office", "36.73.04", NULL);
        kj_record_set_named(&in[i], "date", "2026-01-05", NULL);
        for (int u = 1; u <= 9; u++) {
          char n[4];
          snprintf(n, sizeof(n), "u%d", u);
          kj_record_set_named(&in[i], n, u % 2 ? "4" : "3", NULL);
        }
        kj_record_set_named(&in[i], "service", values[i][0], NULL);
        kj_record_set_named(&in[i], "occupation", values[i][1], NULL);
        kj_record_set_named(&in[i], "comment", values[i][2], NULL);
        kj_record_set_named(&in[i], "sex", values[i][3], NULL);
        assert_int_equal(kj_record_validate(&in[i], NULL), KJ_OK);
      }
      assert_int_equal(kj_csv_write_record(f, &in[i]), KJ_OK);
    }
    assert_int_equal(fclose(f), 0);

    f = fopen(path, "rb");
    rows rs = {0};
    kj_err e;
    assert_int_equal(kj_csv_read(f, "surveys.csv", t, "XX", collect, &rs, &e), KJ_OK);
    fclose(f);
    assert_int_equal(rs.n, 5);
    for (int i = 0; i < 5; i++) {
      assert_string_equal(rs.r[i].problems, "");
      assert_string_equal(rs.r[i].rec.id, in[i].id);
      for (int k = 0; k < t->nfields; k++) {
        if (!in[i].v[k])
          assert_null(rs.r[i].rec.v[k]);
        else
          assert_string_equal(rs.r[i].rec.v[k], in[i].v[k]);
      }
    }
    /* the second pass writes what was read back in: the same file */
    if (pass == 0)
      for (int i = 0; i < 5; i++) {
        kj_record_release(&in[i]);
        assert_int_equal(kj_record_copy(&in[i], &rs.r[i].rec), KJ_OK);
      }
    rows_release(&rs);
  }
  for (int i = 0; i < 5; i++)
    kj_record_release(&in[i]);

  /* plain cells are written plain, others quoted */
  FILE *f = fopen(path, "w+b");
  kj_record r;
  kj_record_init(&r, KJ_T_INDICATOR);
  strcpy(r.id, "DOC");
  kj_record_set_named(&r, "name", "Dokumen, \"surat\"", NULL);
  assert_int_equal(kj_csv_write_header(f, kj_type(KJ_T_INDICATOR)), KJ_OK);
  assert_int_equal(kj_csv_write_record(f, &r), KJ_OK);
  kj_record_release(&r);
  rewind(f);
  char buf[256];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  assert_string_equal(buf, "id,name,unit\nDOC,\"Dokumen, \"\"surat\"\"\",\n");
}

typedef struct line_check {
  const long *want;
  long i, bad, n;
} line_check;

static int check_line(void *ud, long line, kj_record *rec, const char *const *problems, int n) {
  line_check *c = ud;
  char id[16];
  snprintf(id, sizeof(id), "I%ld", c->i);
  /* the rows with a line break in their name have that one problem */
  int want_n = c->i % 7 == 0;
  if (c->i >= c->n || line != c->want[c->i] || n != want_n || strcmp(rec->id, id) != 0 ||
      (n && strcmp(problems[0], "field 'name': must not contain control characters") != 0)) {
    if (c->bad++ < 5)
      print_error("row %ld: line %ld, want %ld; id %s; %s\n", c->i, line,
                  c->i < c->n ? c->want[c->i] : -1, rec->id, n ? problems[0] : "");
  }
  c->i++;
  return 0;
}

static void test_big_file_lines(void **state) {
  (void)state;
  /* many rows across many read chunks, every 7th with a line break inside a
   * quoted cell: the reported line of every row stays right */
  enum { N = 20000 };
  char path[128];
  path_in_dir(path, sizeof(path), "big.csv");
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("\xef\xbb\xbfid,name,unit\r\n", f);
  long line = 2;
  long *want = malloc(sizeof(long) * N);
  assert_non_null(want);
  for (int i = 0; i < N; i++) {
    want[i] = line;
    if (i % 7 == 0) {
      fprintf(f, "I%d,\"nama\r\nbaris %d\",unit\r\n", i, i);
      line += 2;
    } else if (i % 11 == 0) {
      fprintf(f, "I%d,nama %d,unit\r\n\r\n", i, i); /* and a blank line */
      line += 2;
    } else {
      fprintf(f, "I%d,nama %d,unit\r\n", i, i);
      line += 1;
    }
  }
  fclose(f);

  line_check c = {want, 0, 0, N};
  kj_err e;
  f = fopen(path, "rb");
  assert_int_equal(kj_csv_read(f, "big.csv", kj_type(KJ_T_INDICATOR), NULL, check_line, &c, &e),
                   KJ_OK);
  fclose(f);
  assert_int_equal(c.i, N);
  assert_int_equal(c.bad, 0);
  free(want);

  /* a cell over 1 MiB is refused, not buffered without bound */
  f = fopen(path, "wb");
  fputs("id,name,unit\nA,\"", f);
  for (int i = 0; i < (1 << 20) + 100; i += 10)
    fputs("0123456789", f);
  fputs("\",u\n", f);
  fclose(f);
  rows rs = {0};
  f = fopen(path, "rb");
  assert_int_equal(kj_csv_read(f, "big.csv", kj_type(KJ_T_INDICATOR), NULL, collect, &rs, &e),
                   KJ_ETOOBIG);
  fclose(f);
  assert_string_equal(e.msg, "big.csv:2: a cell is longer than 1048576 bytes");
  assert_int_equal(rs.n, 0);
}

/* Write one indicator (id, name, unit) and read it back; the file text in
 * out (when not NULL). */
static void indicator_trip(const char *id, const char *name, const char *unit, char *out,
                           size_t size, rows *rs) {
  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  assert_non_null(f);
  kj_record r;
  kj_record_init(&r, KJ_T_INDICATOR);
  snprintf(r.id, sizeof r.id, "%s", id);
  assert_int_equal(kj_record_set_named(&r, "name", name, NULL), KJ_OK);
  assert_int_equal(kj_record_set_named(&r, "unit", unit, NULL), KJ_OK);
  assert_int_equal(kj_csv_write_header(f, kj_type(KJ_T_INDICATOR)), KJ_OK);
  assert_int_equal(kj_csv_write_record(f, &r), KJ_OK);
  kj_record_release(&r);
  assert_int_equal(fclose(f), 0);
  if (out)
    snprintf(out, size, "%s", mem);
  kj_err e;
  assert_int_equal(read_text(mem, len, "indicators", NULL, rs, &e), KJ_OK);
  free(mem);
  assert_int_equal(rs->n, 1);
}

/* OWASP CSV injection: every trigger is written with a leading quote, so no
 * cell of the file starts with one, and read back to the exact value. */
static void test_formula_guard(void **state) {
  (void)state;
  static const struct {
    const char *value, *cell; /* the value and how it is written */
  } cases[] = {
      {"=1+1", "'=1+1"},
      {"+62 812 3456", "'+62 812 3456"},
      {"-5", "'-5"},
      {"@SUM(A1:A9)", "'@SUM(A1:A9)"},
      {"\tcmd", "'\tcmd"},
      {"\rcmd", "\"'\rcmd\""},
      {"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
      {"=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""},
      /* a value that really starts with quotes before a trigger: one more quote */
      {"'=1+1", "''=1+1"},
      {"''-5", "'''-5"},
      /* an apostrophe not before a trigger, and triggers not at the start: as is */
      {"'abc", "'abc"},
      {"'", "'"},
      {"a=b", "a=b"},
      {"1-2", "1-2"},
      {" =x", "\" =x\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[256], want[256];
    rows rs = {0};
    indicator_trip("DOC", cases[i].value, "u", text, sizeof text, &rs);
    snprintf(want, sizeof want, "id,name,unit\nDOC,%s,u\n", cases[i].cell);
    if (strcmp(text, want) != 0)
      fail_msg("case %zu: wrote \"%s\", want \"%s\"", i, text, want);
    assert_string_equal(val(&rs.r[0], "name"), cases[i].value);
    rows_release(&rs);
  }
  /* the id column is guarded too (an indicator id may start with '-') */
  rows rs = {0};
  char text[256];
  indicator_trip("-DOC", "x", "@u", text, sizeof text, &rs);
  assert_string_equal(text, "id,name,unit\n'-DOC,x,'@u\n");
  assert_string_equal(rs.r[0].rec.id, "-DOC");
  assert_string_equal(val(&rs.r[0], "unit"), "@u");
  assert_string_equal(rs.r[0].problems, "");
  rows_release(&rs);
  /* the two halves */
  assert_true(kj_csv_guard_needed("=x"));
  assert_true(kj_csv_guard_needed("'''@x"));
  assert_false(kj_csv_guard_needed("'x"));
  assert_false(kj_csv_guard_needed(""));
  assert_false(kj_csv_guard_needed(NULL));
  assert_string_equal(kj_csv_unguard("'=x"), "=x");
  assert_string_equal(kj_csv_unguard("''=x"), "'=x");
  assert_string_equal(kj_csv_unguard("'x"), "'x");
  assert_string_equal(kj_csv_unguard("=x"), "=x");
}

/* Property: for random values over an alphabet dense in quotes, triggers,
 * separators and UTF-8, write -> read gives the value back and no written
 * cell starts with a trigger. */
static void test_formula_guard_property(void **state) {
  (void)state;
  static const char *const pieces[] = {"'", "=",  "+", "-",  "@",  "\t",          "\r",   "\n",
                                       ",", "\"", " ", "a",  "1",  "\xc3\xa9",    "\x1b", ";",
                                       "|", "!",  "(", "\\", "''", "\xe2\x82\xac"};
  const size_t np = sizeof pieces / sizeof *pieces;
  unsigned seed = 20261130u;
  char value[128];
  for (int iter = 0; iter < 20000; iter++) {
    size_t len = 0;
    int n = 1 + (int)(rand_r(&seed) % 12);
    value[0] = '\0';
    for (int k = 0; k < n; k++) {
      const char *p = pieces[(size_t)rand_r(&seed) % np]; /* rand_r is in [0, RAND_MAX] */
      size_t pl = strlen(p);
      memcpy(value + len, p, pl + 1);
      len += pl;
    }
    /* the value as the writer writes it */
    char cell[140];
    snprintf(cell, sizeof cell, "%s%s", kj_csv_guard_needed(value) ? "'" : "", value);
    assert_false(kj_csv_formula_trigger(cell));
    assert_string_equal(kj_csv_unguard(cell), value);
    /* and through the file */
    rows rs = {0};
    char text[512];
    indicator_trip("DOC", value, "u", text, sizeof text, &rs);
    if (strcmp(val(&rs.r[0], "name"), value) != 0)
      fail_msg("iteration %d: wrote \"%s\", read back \"%s\"", iter, text, val(&rs.r[0], "name"));
    /* the cell after "DOC," (past an opening quote) never starts a formula */
    const char *c = text + strlen("id,name,unit\nDOC,");
    if (*c == '"')
      c++;
    assert_false(kj_csv_formula_trigger(c));
    rows_release(&rs);
  }
}

/* A CRLF inside a multi-line cell (comment, description, summary) is read as
 * LF; any other CR, and any line break in a single-line field, is a problem
 * of that row (domain.md "Records": no control characters). */
static void test_line_breaks_in_cells(void **state) {
  (void)state;
  static const char text[] = SURVEY_HDR "\n"
                                        "," GOOD ",,,,,\"a\r\nb\r\nc\"\n"
                                        "," GOOD ",,,,,\"a\rb\"\n"
                                        "," GOOD ",,,,\"x\r\ny\",\n";
  rows rs = {0};
  kj_err e;
  assert_int_equal(READ(text, "surveys", "36.73.09", &rs, &e), KJ_OK);
  assert_int_equal(rs.n, 3);
  assert_string_equal(val(&rs.r[0], "comment"), "a\nb\nc");
  assert_string_equal(rs.r[0].problems, "");
  assert_string_equal(rs.r[1].problems, "field 'comment': must not contain control characters "
                                        "(newline and tab are allowed)");
  assert_string_equal(rs.r[2].problems, "field 'occupation': must not contain control characters");
  rows_release(&rs);
}

/* Read text with info. */
static kj_code read_info(const char *text, size_t len, const char *tname, const char *office,
                         rows *rs, kj_csv_info *info, kj_err *err) {
  FILE *f = fmemopen((void *)text, len, "rb");
  assert_non_null(f);
  kj_err_clear(err);
  kj_code rc = kj_csv_read_info(f, "s.csv", kj_type_by_name(tname), office, rs ? collect : NULL, rs,
                                info, err);
  fclose(f);
  return rc;
}
#define READ_INFO(text, tname, office, rs, info, err)                                              \
  read_info(text, sizeof(text) - 1, tname, office, rs, info, err)

static const char *describe(const kj_csv_info *info) {
  static char buf[200];
  return kj_csv_info_describe(info, buf, sizeof buf);
}

/* domain.md "CSV files": a spreadsheet set to Indonesian writes ';',
 * DD/MM/YYYY and decimal commas; each is read, and only where its field
 * type allows it. */
static void test_variant_semicolon_dates_commas(void **state) {
  (void)state;
  static const char text[] =
      "\xef\xbb\xbfId;Office;NIP;Tanggal;Indicator;Quantity;Description\r\n"
      ";36.73.04;" NIP1 ";05/01/2026;DOC;2,5;\"Rapat; notulen 1,5 jam, 03/02/2026\"\r\n"
      ";36.73.04;" NIP1 ";5/1/2026;DOC;0,25;\r\n";
  rows rs = {0};
  kj_csv_info info;
  kj_err e;
  /* 'Tanggal' is not a column: the header names the columns */
  assert_int_equal(READ_INFO(text, "activities", NULL, &rs, &info, &e), KJ_EINVAL);
  assert_non_null(strstr(e.msg, "s.csv:1: unknown column 'tanggal'"));
  rows_release(&rs);

  static const char ok[] =
      "\xef\xbb\xbfID;OFFICE;NIP;Date;Indicator;Quantity;Description\r\n"
      ";36.73.04;" NIP1 ";05/01/2026;DOC;2,5;\"Rapat; notulen 1,5 jam, 03/02/2026\"\r\n"
      ";36.73.04;" NIP1 ";5/1/2026;DOC;0,25;\r\n"
      ";36.73.04;" NIP1 ";2026-01-07;DOC;3;\r\n";
  assert_int_equal(READ_INFO(ok, "activities", NULL, &rs, &info, &e), KJ_OK);
  assert_int_equal(rs.n, 3);
  assert_string_equal(rs.r[0].problems, "");
  assert_string_equal(val(&rs.r[0], "date"), "2026-01-05"); /* day first */
  assert_string_equal(val(&rs.r[0], "quantity"), "2.5");
  /* text is kept as written: its ';', ',' and '/' are not numbers or dates */
  assert_string_equal(val(&rs.r[0], "description"), "Rapat; notulen 1,5 jam, 03/02/2026");
  assert_string_equal(val(&rs.r[1], "date"), "2026-01-05"); /* D/M/YYYY */
  assert_string_equal(val(&rs.r[1], "quantity"), "0.25");
  assert_string_equal(rs.r[1].problems, "");
  assert_string_equal(val(&rs.r[2], "date"), "2026-01-07"); /* ISO in the same file */
  assert_int_equal(info.sep, ';');
  assert_int_equal(info.header_case, 1);
  assert_int_equal(info.dates_dmy, 2);
  assert_int_equal(info.decimal_comma, 2);
  assert_int_equal(info.rows, 3);
  assert_string_equal(describe(&info), "';'-separated, dates DD/MM/YYYY, decimal commas, "
                                       "column names in any letter case");
  rows_release(&rs);
}

static void test_variant_each_alone(void **state) {
  (void)state;
  rows rs = {0};
  kj_csv_info info;
  kj_err e;
  /* the canonical form: nothing to say */
  static const char plain[] = "id,name,unit\nDOC,Dokumen,dokumen\n";
  assert_int_equal(READ_INFO(plain, "indicators", NULL, &rs, &info, &e), KJ_OK);
  assert_int_equal(info.sep, ',');
  assert_string_equal(describe(&info), "");
  rows_release(&rs);
  /* ';' alone (a ',' inside a quoted header cell does not count) */
  static const char semi[] = "id;\"name\";unit\nDOC;Dokumen, arsip;dokumen\n";
  assert_int_equal(READ_INFO(semi, "indicators", NULL, &rs, &info, &e), KJ_OK);
  assert_int_equal(rs.n, 1);
  assert_string_equal(val(&rs.r[0], "name"), "Dokumen, arsip");
  assert_string_equal(describe(&info), "';'-separated");
  rows_release(&rs);
  /* the header line decides, also after blank lines; ',' in data is data */
  static const char late[] = "\r\n\nid;name;unit\nDOC;a,b,c,d;u\n";
  assert_int_equal(READ_INFO(late, "indicators", NULL, &rs, &info, &e), KJ_OK);
  assert_int_equal(info.sep, ';');
  assert_int_equal(rs.n, 1);
  assert_int_equal(rs.r[0].line, 4);
  assert_string_equal(val(&rs.r[0], "name"), "a,b,c,d");
  rows_release(&rs);
  /* dates alone, in a ','-file; complaint resolved/received both converted */
  static const char dates[] = "id,office,received,resolved\n,X,28/02/2026,02/03/2026\n";
  assert_int_equal(READ_INFO(dates, "complaints", NULL, &rs, &info, &e), KJ_OK);
  assert_string_equal(val(&rs.r[0], "received"), "2026-02-28");
  assert_string_equal(val(&rs.r[0], "resolved"), "2026-03-02");
  assert_string_equal(rs.r[0].problems, "");
  assert_string_equal(describe(&info), "dates DD/MM/YYYY");
  rows_release(&rs);
  /* a decimal comma alone: quoted in a ','-file; weight and target are NUM */
  static const char num[] = "id,office,nip,indicator,period,target,weight\n"
                            ",X," NIP1 ",DOC,2026,\"12,5\",\"0,5\"\n";
  assert_int_equal(READ_INFO(num, "targets", NULL, &rs, &info, &e), KJ_OK);
  assert_string_equal(val(&rs.r[0], "target"), "12.5");
  assert_string_equal(val(&rs.r[0], "weight"), "0.5");
  assert_string_equal(rs.r[0].problems, "");
  assert_string_equal(describe(&info), "decimal commas");
  rows_release(&rs);
  /* header case alone */
  static const char hc[] = "ID,Name,UNIT\nDOC,Dokumen,dokumen\n";
  assert_int_equal(READ_INFO(hc, "indicators", NULL, &rs, &info, &e), KJ_OK);
  assert_string_equal(rs.r[0].rec.id, "DOC");
  assert_string_equal(describe(&info), "column names in any letter case");
  rows_release(&rs);
}

/* A variant is read only where its field type allows it; anything else is
 * the field's usual problem, or one that names the variant. */
static void test_variant_bounds(void **state) {
  (void)state;
  rows rs = {0};
  kj_csv_info info;
  kj_err e;
  static const char text[] = "id;office;date;service;u1;u2;u3;u4;u5;u6;u7;u8;u9;age;comment\n"
                             /* a decimal comma in an INT field is not a number */
                             ";X;05/01/2026;KTP-el;4;4;4;4;4;4;4;4;4;3,0;ok\n"
                             /* month first (US) is not a real date, day first */
                             ";X;01/25/2026;KTP-el;4;4;4;4;4;4;4;4;4;;\n"
                             /* a two-digit year, 31 February */
                             ";X;5/1/26;KTP-el;4;4;4;4;4;4;4;4;4;;\n"
                             ";X;31/02/2026;KTP-el;4;4;4;4;4;4;4;4;4;;\n"
                             /* text with a comma stays text */
                             ";X;2026-01-05;KTP-el;4;4;4;4;4;4;4;4;4;;0,5\n";
  assert_int_equal(READ_INFO(text, "surveys", NULL, &rs, &info, &e), KJ_OK);
  assert_int_equal(rs.n, 5);
  assert_string_equal(rs.r[0].problems, "field 'age': must be an integer from 10 to 120");
  assert_string_equal(rs.r[1].problems,
                      "field 'date': must be a date DD/MM/YYYY (day first) or YYYY-MM-DD");
  assert_string_equal(rs.r[2].problems,
                      "field 'date': must be a date DD/MM/YYYY (day first) or YYYY-MM-DD");
  assert_string_equal(rs.r[3].problems,
                      "field 'date': must be a date DD/MM/YYYY (day first) or YYYY-MM-DD");
  assert_string_equal(val(&rs.r[4], "comment"), "0,5");
  assert_int_equal(info.dates_dmy, 1);
  assert_int_equal(info.decimal_comma, 0);
  rows_release(&rs);

  /* a NUM with both a point and a comma (a thousands separator) is refused */
  static const char th[] = "nip,date,indicator,quantity\n" NIP1 ",2026-01-05,DOC,\"1.234,5\"\n";
  assert_int_equal(READ_INFO(th, "activities", "X", &rs, &info, &e), KJ_OK);
  assert_string_equal(rs.r[0].problems,
                      "field 'quantity': '1.234,5' has a comma: write a decimal with a point "
                      "(1.5) and a thousand without a separator (1500)");
  rows_release(&rs);
}

/* A NIP (or any number) that a spreadsheet turned into scientific notation
 * lost its digits: an error that says so, the field's own rule not repeated. */
static void test_scientific_notation(void **state) {
  (void)state;
  rows rs = {0};
  kj_csv_info info;
  kj_err e;
  static const char emp[] = "nip;name;office;supervisor\n"
                            "1,98001E+17;Budi;36.73.04;\n" NIP1 ";Siti;36.73.04;1.98E+17\n";
  assert_int_equal(READ_INFO(emp, "employees", NULL, &rs, &info, &e), KJ_OK);
  assert_int_equal(rs.n, 2);
  assert_int_equal(rs.r[0].nproblems, 1);
  assert_string_equal(rs.r[0].problems,
                      "field 'nip': 1,98001E+17 is not a NIP: the spreadsheet turned the NIP into "
                      "a number and lost its last digits; format the column as text and type the "
                      "NIPs again");
  assert_int_equal(rs.r[1].nproblems, 1);
  assert_string_equal(rs.r[1].problems,
                      "field 'supervisor': 1.98E+17 is not a NIP: the spreadsheet turned the NIP "
                      "into a number and lost its last digits; format the column as text and type "
                      "the NIPs again");
  rows_release(&rs);
  /* an activity's NIP (a required field): one message, not the NIP rule too */
  static const char act1[] = "nip,date,indicator,quantity\n1.98501E+17,2026-01-05,DOC,1\n";
  assert_int_equal(READ_INFO(act1, "activities", "X", &rs, &info, &e), KJ_OK);
  assert_int_equal(rs.r[0].nproblems, 1);
  assert_string_equal(rs.r[0].problems,
                      "field 'nip': 1.98501E+17 is not a NIP: the spreadsheet turned the NIP into "
                      "a number and lost its last digits; format the column as text and type the "
                      "NIPs again");
  rows_release(&rs);
  static const char act[] =
      "nip,date,indicator,quantity,minutes\n" NIP1 ",2026-01-05,DOC,1E+05,2e2\n";
  assert_int_equal(READ_INFO(act, "activities", "X", &rs, &info, &e), KJ_OK);
  assert_int_equal(rs.r[0].nproblems, 2);
  assert_non_null(strstr(rs.r[0].problems, "field 'quantity': 1E+05 is a number in scientific"));
  assert_non_null(strstr(rs.r[0].problems, "|field 'minutes': 2e2 is a number in scientific"));
  rows_release(&rs);
  /* a code or text that looks like it is left alone */
  static const char ind[] = "id,name,unit\n1E5,2E+3,u\n";
  assert_int_equal(READ_INFO(ind, "indicators", NULL, &rs, &info, &e), KJ_OK);
  assert_string_equal(rs.r[0].problems, "");
  assert_string_equal(rs.r[0].rec.id, "1E5");
  rows_release(&rs);
}

/* The digest names the rows, not the bytes: the same rows in any variant
 * and column order are the same; another row, value or default office is not. */
static void test_digest(void **state) {
  (void)state;
  kj_csv_info a, b, c, d, scan;
  kj_err e;
  rows rs = {0};
  static const char canon[] = "id,office,nip,date,indicator,quantity\n"
                              ","
                              "36.73.04," NIP1 ",2026-01-05,DOC,2.5\n"
                              ","
                              "," NIP1 ",2026-01-06,DOC,1\n";
  static const char sheet[] = "\xef\xbb\xbfQUANTITY;Date;NIP;Indicator;Office;Id\r\n"
                              "2,5;05/01/2026;" NIP1 ";DOC;36.73.04;\r\n"
                              "1;06/01/2026;" NIP1 ";DOC;;\r\n";
  static const char other[] = "id,office,nip,date,indicator,quantity\n"
                              ","
                              "36.73.04," NIP1 ",2026-01-05,DOC,2.5\n"
                              ","
                              "," NIP1 ",2026-01-06,DOC,2\n";
  assert_int_equal(READ_INFO(canon, "activities", "36.73.04", &rs, &a, &e), KJ_OK);
  rows_release(&rs);
  assert_int_equal(READ_INFO(sheet, "activities", "36.73.04", &rs, &b, &e), KJ_OK);
  rows_release(&rs);
  assert_int_equal(READ_INFO(other, "activities", "36.73.04", &rs, &c, &e), KJ_OK);
  rows_release(&rs);
  assert_int_equal(READ_INFO(canon, "activities", "36.73.05", &rs, &d, &e), KJ_OK);
  rows_release(&rs);
  assert_int_equal(strlen(a.digest), 64);
  assert_string_equal(a.digest, b.digest);
  assert_string_not_equal(a.digest, c.digest);
  assert_string_not_equal(a.digest, d.digest);
  assert_int_equal(a.rows, 2);
  /* a scan (no callback) gives the same digest and variants */
  assert_int_equal(READ_INFO(sheet, "activities", "36.73.04", NULL, &scan, &e), KJ_OK);
  assert_string_equal(scan.digest, b.digest);
  assert_int_equal(scan.rows, 2);
  assert_int_equal(scan.dates_dmy, 2);
  assert_int_equal(scan.sep, ';');
}

/* Export stays canonical: what a variant file held is written with ',',
 * ISO dates and a decimal point, and read back the same. */
static void test_variant_export_canonical(void **state) {
  (void)state;
  static const char sheet[] = "nip;date;indicator;quantity\n" NIP1 ";05/01/2026;DOC;2,5\n";
  rows rs = {0};
  kj_csv_info info;
  kj_err e;
  assert_int_equal(READ_INFO(sheet, "activities", "36.73.04", &rs, &info, &e), KJ_OK);
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  strcpy(rs.r[0].rec.id, UUID1);
  assert_int_equal(kj_csv_write_header(f, kj_type(KJ_T_ACTIVITY)), KJ_OK);
  assert_int_equal(kj_csv_write_record(f, &rs.r[0].rec), KJ_OK);
  fclose(f);
  assert_string_equal(out,
                      "id,office,nip,date,indicator,quantity,minutes,description,evidence,"
                      "status,reviewed_by\n" UUID1 ",36.73.04," NIP1 ",2026-01-05,DOC,2.5,,,,,\n");
  free(out);
  rows_release(&rs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spreadsheet_file),
      cmocka_unit_test(test_line_numbers_lf_and_cr),
      cmocka_unit_test(test_header_errors),
      cmocka_unit_test(test_columns_any_order_and_missing),
      cmocka_unit_test(test_ids),
      cmocka_unit_test(test_cells),
      cmocka_unit_test(test_bad_quoting_and_stop),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_formula_guard),
      cmocka_unit_test(test_line_breaks_in_cells),
      cmocka_unit_test(test_formula_guard_property),
      cmocka_unit_test(test_big_file_lines),
      cmocka_unit_test(test_variant_semicolon_dates_commas),
      cmocka_unit_test(test_variant_each_alone),
      cmocka_unit_test(test_variant_bounds),
      cmocka_unit_test(test_scientific_notation),
      cmocka_unit_test(test_digest),
      cmocka_unit_test(test_variant_export_canonical),
  };
  return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
