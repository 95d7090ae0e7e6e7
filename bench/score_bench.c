/* score_bench.c - the scores module under load (issue "Scores", item 4).
 *
 *   score_bench DIR [SURVEYS ACTIVITIES]     (defaults 1000000 200000)
 *
 * Makes DIR/kinerja.db with the server's store: 50 offices, 500 employees,
 * SURVEYS surveys and ACTIVITIES activities over 2025 (plus complaints,
 * ratings, targets), written straight into `records` and scored with
 * kjs_score_sqlite_rebuild.  Then prints, median of 5 runs each:
 *   - the offices report for the year 2025 (and for one month);
 *   - a 1,000-record push (800 surveys, 200 activities) through
 *     kjs_txn_apply, which includes the scores upkeep, and the upkeep alone
 *     (kjs_score_update for the same records, rolled back), as a share of
 *     the push without it.
 * Not a ctest: run it by hand or from scripts/bench.sh.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "score.h"
#include "score_sqlite.h"
#include "store.h"
#include "wire.h"

#define NOFF 50
#define NEMP 500

static unsigned long long g_rng = 42;
static unsigned rnd(unsigned n) {
  g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)((g_rng >> 33) % n);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *msg) {
  fprintf(stderr, "score_bench: %s: %s\n", what, msg);
  exit(1);
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double median5(double v[5]) {
  qsort(v, 5, sizeof v[0], cmp_d);
  return v[2];
}

static void office_code(char *out, unsigned i) {
  snprintf(out, 16, "36.%02u.01", i + 1);
}
static void emp_nip(char *out, unsigned i) {
  snprintf(out, 19, "19%02u%02u%02u2020111%03u", 60 + i / 336, 1 + (i / 28) % 12, 1 + i % 28,
           1 + i % 999);
}
static void rand_date(char *out) {
  kj_day d = kj_day_from_civil(2025, 1, 1) + (kj_day)rnd(365);
  kj_date_format(d, out);
}

static void setf(kj_record *r, const char *name, const char *v) {
  kj_err e;
  if (kj_record_set_named(r, name, v, &e))
    die(name, e.msg);
}
static void setu(kj_record *r, const char *name, unsigned v) {
  char b[16];
  snprintf(b, sizeof b, "%u", v);
  setf(r, name, b);
}

static long g_n;

static void make(kj_record *r, kj_rtype t) {
  char b[40];
  kj_record_init(r, t);
  snprintf(r->id, sizeof r->id, "00000000-0000-7000-8000-%012u", (unsigned)++g_n);
  unsigned e = rnd(NEMP);
  char office[16], nip[20];
  office_code(office, e % NOFF);
  emp_nip(nip, e);
  switch (t) {
  case KJ_T_SURVEY:
    office_code(office, rnd(NOFF));
    setf(r, "office", office);
    rand_date(b);
    setf(r, "date", b);
    snprintf(b, sizeof b, "Layanan %u", rnd(5));
    setf(r, "service", b);
    for (int i = 1; i <= 9; i++) {
      char n[4];
      snprintf(n, sizeof n, "u%d", i);
      setu(r, n, 1 + rnd(4));
    }
    setu(r, "age", 18 + rnd(60));
    setf(r, "sex", rnd(2) ? "L" : "P");
    setf(r, "comment", "Pelayanan cepat dan ramah, terima kasih");
    break;
  case KJ_T_ACTIVITY:
    setf(r, "office", office);
    setf(r, "nip", nip);
    rand_date(b);
    setf(r, "date", b);
    snprintf(b, sizeof b, "IND%u", rnd(3));
    setf(r, "indicator", b);
    snprintf(b, sizeof b, "%u.5", rnd(5));
    setf(r, "quantity", b);
    setf(r, "status", rnd(10) < 7 ? "approved" : "submitted");
    setf(r, "description", "Melayani warga di loket");
    break;
  case KJ_T_COMPLAINT:
    office_code(office, rnd(NOFF));
    setf(r, "office", office);
    setf(r, "received", "2025-05-04");
    if (rnd(4))
      setf(r, "resolved", rnd(2) ? "2025-05-06" : "2025-05-20");
    break;
  case KJ_T_RATING: {
    setf(r, "office", office);
    setf(r, "period", "2025");
    char rater[20];
    emp_nip(rater, (e + 1) % NEMP);
    setf(r, "rater", rater);
    setf(r, "ratee", nip);
    setf(r, "role", rnd(2) ? "atasan" : "rekan");
    for (int i = 1; i <= 7; i++) {
      char n[4];
      snprintf(n, sizeof n, "s%d", i);
      setu(r, n, 1 + rnd(5));
    }
    break;
  }
  case KJ_T_TARGET:
    setf(r, "office", office);
    setf(r, "nip", nip);
    snprintf(b, sizeof b, "IND%u", rnd(3));
    setf(r, "indicator", b);
    setf(r, "period", "2025");
    setu(r, "target", 50 + rnd(200));
    break;
  default:
    break;
  }
}

static sqlite3_stmt *g_ins;
static long long g_seq;

static void insert_raw(sqlite3 *db, const kj_record *r) {
  kj_rstate st;
  kj_rstate_init(&st, r->type);
  kj_record_release(&st.rec);
  kj_record_copy(&st.rec, r);
  for (int i = 0; i < KJ_MAX_FIELDS; i++) {
    st.st[i].hlc = 1;
    strcpy(st.st[i].device, "bench");
  }
  cJSON *j = kj_rstate_to_json(&st);
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  kj_rstate_release(&st);
  sqlite3_reset(g_ins);
  sqlite3_bind_text(g_ins, 1, kj_type(r->type)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(g_ins, 2, r->id, -1, SQLITE_STATIC);
  const char *office = kj_record_office(r);
  if (office)
    sqlite3_bind_text(g_ins, 3, office, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(g_ins, 3);
  sqlite3_bind_text(g_ins, 4, text, -1, SQLITE_STATIC);
  sqlite3_bind_int64(g_ins, 5, ++g_seq);
  if (sqlite3_step(g_ins) != SQLITE_DONE)
    die("insert", sqlite3_errmsg(db));
  free(text);
}

static void fill(sqlite3 *db, kj_rtype t, long n) {
  for (long i = 0; i < n; i++) {
    kj_record r;
    make(&r, t);
    insert_raw(db, &r);
    kj_record_release(&r);
  }
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 4) {
    fprintf(stderr, "usage: score_bench DIR [SURVEYS ACTIVITIES]\n");
    return 2;
  }
  long nsurv = argc == 4 ? atol(argv[2]) : 1000000, nact = argc == 4 ? atol(argv[3]) : 200000;
  char path[4096];
  mkdir(argv[1], 0700);
  snprintf(path, sizeof path, "%s/kinerja.db", argv[1]);
  remove(path);
  kj_err e;
  kj_err_clear(&e);
  kjs_store *st;
  if (kjs_store_open(&st, path, NULL, 1, &e))
    die("open", e.msg);
  kjs_store_close(st);

  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK)
    die("open", sqlite3_errmsg(db));
  sqlite3_busy_timeout(db, 10000);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
  sqlite3_prepare_v2(db,
                     "INSERT INTO records(type,id,office,deleted,state,seq) "
                     "VALUES(?1,?2,?3,0,?4,?5)",
                     -1, &g_ins, NULL);
  double t0 = now_ms();
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (unsigned i = 0; i < NOFF; i++) {
    kj_record r;
    kj_record_init(&r, KJ_T_OFFICE);
    office_code(r.id, i);
    setf(&r, "name", "Kecamatan");
    setu(&r, "population", 1000 + 100 * i);
    insert_raw(db, &r);
    kj_record_release(&r);
  }
  for (unsigned i = 0; i < NEMP; i++) {
    kj_record r;
    kj_record_init(&r, KJ_T_EMPLOYEE);
    emp_nip(r.id, i);
    char office[16];
    office_code(office, i % NOFF);
    setf(&r, "office", office);
    setf(&r, "name", "Pegawai");
    insert_raw(db, &r);
    kj_record_release(&r);
  }
  fill(db, KJ_T_SURVEY, nsurv);
  fill(db, KJ_T_ACTIVITY, nact);
  fill(db, KJ_T_COMPLAINT, 5000);
  fill(db, KJ_T_RATING, 1500);
  fill(db, KJ_T_TARGET, 1500);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_finalize(g_ins);
  double t1 = now_ms();
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  if (kjs_score_sqlite_rebuild(db, 0, NULL, NULL, &e))
    die("recompute", e.msg);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  double t2 = now_ms();
  printf("records: %ld surveys, %ld activities, 8,000 others (%.1f s to write)\n", nsurv, nact,
         (t1 - t0) / 1e3);
  printf("recompute (rebuild aggregates): %.1f s\n", (t2 - t1) / 1e3);

  const char *periods[] = {"2025", "2025-08"};
  for (int p = 0; p < 2; p++) {
    double v[5];
    size_t len = 0;
    for (int k = 0; k < 5; k++) {
      kj_buf b;
      kj_buf_init(&b, KJ_BUF_UNLIMITED);
      sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
      double a = now_ms();
      if (kjs_report_offices(kjs_score_sqlite(db), &cfg, periods[p], "2025-12-31", &b, &e))
        die("report", e.msg);
      v[k] = now_ms() - a;
      sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
      len = b.len;
      kj_buf_release(&b);
    }
    printf("offices report %-8s median of 5: %.2f ms (%zu bytes)\n", periods[p], median5(v), len);
  }

  /* pushes of 1,000 new records through the store */
  if (kjs_store_open(&st, path, NULL, 0, &e))
    die("open", e.msg);
  double push[5], upkeep[5];
  kj_hlc hlc = (kj_hlc)1 << 40;
  for (int k = 0; k < 5; k++) {
    kj_record *recs = calloc(1000, sizeof *recs);
    for (int i = 0; i < 1000; i++)
      make(&recs[i], i < 800 ? KJ_T_SURVEY : KJ_T_ACTIVITY);
    kjs_txn *t;
    double a = now_ms();
    if (kjs_txn_begin(st, &t, &e))
      die("txn", e.msg);
    for (int i = 0; i < 1000; i++) {
      kjs_item it;
      memset(&it, 0, sizeof it);
      it.label = "bench";
      it.seq = -1;
      kj_change_init(&it.ch, recs[i].type);
      kj_record_release(&it.ch.rec);
      kj_record_copy(&it.ch.rec, &recs[i]);
      it.ch.mask = (1u << kj_type(recs[i].type)->nfields) - 1u;
      it.ch.hlc = ++hlc;
      snprintf(it.ch.device, sizeof it.ch.device, "bench");
      it.decoded = 1;
      if (kjs_txn_apply(t, NULL, &it, &e))
        die("apply", e.msg);
      if (it.status != KJS_APPLIED)
        die("apply", it.error);
      kj_change_release(&it.ch);
    }
    if (kjs_txn_commit(t, &e))
      die("commit", e.msg);
    push[k] = now_ms() - a;
    /* the upkeep alone: the same 1,000 updates, rolled back */
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    a = now_ms();
    for (int i = 0; i < 1000; i++)
      if (kjs_score_update(kjs_score_sqlite(db), NULL, &recs[i], &e))
        die("update", e.msg);
    upkeep[k] = now_ms() - a;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < 1000; i++)
      kj_record_release(&recs[i]);
    free(recs);
  }
  kjs_store_close(st);
  double pm = median5(push), um = median5(upkeep);
  printf("push of 1,000 records median of 5: %.1f ms, of which scores upkeep %.1f ms "
         "(%.1f us/record, +%.1f%% over the push without it)\n",
         pm, um, um, 100.0 * um / (pm - um));
  kjs_score_config_release(&cfg);
  sqlite3_close(db);
  return 0;
}
