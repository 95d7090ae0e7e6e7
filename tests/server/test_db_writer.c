/* test_db_writer.c - server/db_sqlite.c's writer connection and its
 * checkpointer (db.h acquire_writer; docs/performance.md "Push
 * throughput"): the writer's connection is kept out of the pool and given
 * again to the next write transaction (while it is taken, a pooled one is
 * given); a commit that leaves thousands of pages in the WAL returns, and
 * the pages reach the database file without another commit (the
 * checkpointer thread); many such commits keep the WAL bounded; close
 * stops the thread (ASan: nothing leaks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "db.h"

static const kjs_db_ops *D = &kjs_db_sqlite_ops;

typedef struct fx {
  char dir[64], path[128];
  kjs_db *db;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  snprintf(f->dir, sizeof f->dir, "/tmp/kjs-dbw-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->path, sizeof f->path, "%s/k.db", f->dir);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(D->open(f->path, 1, &f->db, &e), KJ_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  D->close(f->db);
  const char *suf[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char p[160];
    snprintf(p, sizeof p, "%s%s", f->path, suf[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

static long long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void t_writer_kept(void **state) {
  fx *f = *state;
  kj_err e;
  kj_err_clear(&e);
  kjs_dbc *w = D->acquire_writer(f->db, &e);
  assert_non_null(w);
  kjs_dbc *w2 = D->acquire_writer(f->db, &e); /* taken: a pooled one */
  assert_non_null(w2);
  assert_ptr_not_equal(w2, w);
  D->release(f->db, w2);
  D->release(f->db, w);
  assert_ptr_equal(D->acquire_writer(f->db, &e), w);
  /* the pool never gives it, not even when all of its own are taken */
  kjs_dbc *p[8];
  for (int i = 0; i < 8; i++) {
    p[i] = D->acquire(f->db, &e);
    assert_non_null(p[i]);
    assert_ptr_not_equal(p[i], w);
  }
  for (int i = 0; i < 8; i++)
    D->release(f->db, p[i]);
  /* a transaction left open is rolled back at release, the connection kept */
  assert_int_equal(D->begin(w, 1, &e), KJ_OK);
  D->release(f->db, w);
  kjs_dbc *again = D->acquire_writer(f->db, &e);
  assert_ptr_equal(again, w);
  assert_int_equal(D->begin(again, 1, &e), KJ_OK); /* not inside the old one */
  D->rollback(again);
  D->release(f->db, again);
}

/* n records of about 4 KiB each in one write transaction of the writer */
static void write_batch(fx *f, int from, int n) {
  static char state[4200];
  int len = snprintf(state, sizeof state, "{\"f\":{\"x\":\"");
  memset(state + len, 'a', 4000);
  len += 4000;
  len += snprintf(state + len, sizeof state - (size_t)len, "\"}}");
  kj_err e;
  kj_err_clear(&e);
  kjs_dbc *w = D->acquire_writer(f->db, &e);
  assert_non_null(w);
  assert_int_equal(D->begin(w, 1, &e), KJ_OK);
  for (int i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "r%08d", from + i);
    state[len - 4] = (char)('a' + i % 26); /* not all pages alike */
    kjs_db_rec r = {"survey", id, "36.73.01", 0, state, (size_t)len, from + i + 1, NULL};
    int added = 0;
    assert_int_equal(D->rec_add(w, &r, &added, &e), KJ_OK);
    assert_int_equal(added, 1);
  }
  assert_int_equal(D->commit(w, &e), KJ_OK);
  D->release(f->db, w);
}

static void t_checkpoint_beside(void **state) {
  fx *f = *state;
  /* 6,000 records of 4 KiB: more than 6,000 WAL pages in one commit,
   * past the checkpointer's 4,096 and below the commit's own 16,384 */
  write_batch(f, 0, 6000);
  char walp[160];
  snprintf(walp, sizeof walp, "%s-wal", f->path);
  long long wal = file_size(walp);
  assert_true(wal > 6000LL * 4096);
  /* no other commit: the checkpointer copies the pages into the file */
  long long db = 0;
  for (int i = 0; i < 400 && (db = file_size(f->path)) < 6000LL * 4096; i++) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  print_message("WAL %lld B after the commit, database file %lld B\n", wal, db);
  assert_true(db >= 6000LL * 4096);
  /* commit after commit, the WAL stays bounded: it starts again from its
   * beginning after a complete checkpoint, or a commit past 16,384 pages
   * checkpoints itself */
  for (int k = 1; k <= 4; k++) {
    write_batch(f, k * 6000, 6000);
    wal = file_size(walp);
    assert_true(wal > 0);
    assert_true(wal < (16384LL + 2 * 6500) * (4096 + 24));
  }
  kj_err e;
  kj_err_clear(&e);
  kjs_dbc *c = D->acquire(f->db, &e);
  assert_non_null(c);
  long long n = 0;
  assert_int_equal(D->records_count(c, &n, &e), KJ_OK);
  assert_int_equal(n, 30000);
  D->release(f->db, c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(t_writer_kept, setup, teardown),
      cmocka_unit_test_setup_teardown(t_checkpoint_beside, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
