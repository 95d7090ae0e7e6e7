#include "score_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "wire.h"

const char *kjt_data_dir(void) {
  const char *d = getenv("KJ_TEST_DATA");
  return d ? d : KJ_TEST_DATA_DIR;
}

char *kjt_read_file(const char *path) {
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

sqlite3 *kjt_db_open(const char *path) {
  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK)
    return NULL;
  kj_err e;
  if (sqlite3_exec(db, KJT_RECORDS_DDL, NULL, NULL, NULL) != SQLITE_OK ||
      kjs_score_sqlite_schema(db, &e) != 0) {
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

int kjt_get(sqlite3 *db, kj_rtype t, const char *id, kj_record *out) {
  sqlite3_stmt *s;
  sqlite3_prepare_v2(db, "SELECT state FROM records WHERE type=?1 AND id=?2", -1, &s, NULL);
  sqlite3_bind_text(s, 1, kj_type(t)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
  int rc = -1;
  if (sqlite3_step(s) == SQLITE_ROW) {
    cJSON *j = cJSON_Parse((const char *)sqlite3_column_text(s, 0));
    kj_rstate st;
    kj_err e;
    if (j && kj_rstate_from_json(j, &st, &e) == KJ_OK) {
      kj_record_copy(out, &st.rec);
      kj_rstate_release(&st);
      rc = 0;
    }
    cJSON_Delete(j);
  }
  sqlite3_finalize(s);
  return rc;
}

static long long g_seq;

static int store(sqlite3 *db, const kj_record *r) {
  kj_rstate st;
  kj_rstate_init(&st, r->type);
  kj_record_release(&st.rec);
  kj_record_copy(&st.rec, r);
  for (int i = 0; i < KJ_MAX_FIELDS; i++) {
    st.st[i].hlc = 1;
    strcpy(st.st[i].device, "test");
  }
  if (r->deleted) {
    st.del.hlc = 2;
    strcpy(st.del.device, "test");
  }
  cJSON *j = kj_rstate_to_json(&st);
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  kj_rstate_release(&st);
  sqlite3_stmt *s;
  sqlite3_prepare_v2(db,
                     "INSERT OR REPLACE INTO records(type,id,office,deleted,state,seq) "
                     "VALUES(?1,?2,?3,?4,?5,?6)",
                     -1, &s, NULL);
  sqlite3_bind_text(s, 1, kj_type(r->type)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, r->id, -1, SQLITE_STATIC);
  const char *office = kj_record_office(r);
  if (office)
    sqlite3_bind_text(s, 3, office, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 4, r->deleted);
  sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 6, ++g_seq);
  int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
  if (rc)
    fprintf(stderr, "store: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(s);
  free(text);
  return rc;
}

int kjt_put(sqlite3 *db, const kj_record *r) {
  kj_record before;
  int have = kjt_get(db, r->type, r->id, &before) == 0;
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_score_update(kjs_score_sqlite(db), have ? &before : NULL, r, &e);
  if (rc)
    fprintf(stderr, "kjs_score_update: %s\n", e.msg);
  if (have)
    kj_record_release(&before);
  return rc ? -1 : store(db, r);
}

int kjt_delete(sqlite3 *db, kj_rtype t, const char *id) {
  kj_record before, after;
  if (kjt_get(db, t, id, &before))
    return -1;
  kj_record_init(&after, t);
  snprintf(after.id, sizeof after.id, "%s", id);
  after.deleted = 1;
  /* a tombstone keeps its office so the records row keeps one */
  const kj_type_def *td = kj_type(t);
  if (td->office_field >= 0)
    kj_record_set(&after, td->office_field, before.v[td->office_field]);
  kj_err e;
  kj_code rc = kjs_score_update(kjs_score_sqlite(db), &before, &after, &e);
  int stored = rc ? -1 : store(db, &after);
  kj_record_release(&before);
  kj_record_release(&after);
  return stored ? -1 : 0;
}

typedef struct load_ctx {
  sqlite3 *db;
  long n;
  int bad;
} load_ctx;

static int on_row(void *ud, long line, kj_record *rec, const char *const *problems, int np) {
  load_ctx *c = ud;
  if (np) {
    fprintf(stderr, "line %ld: %s\n", line, problems[0]);
    c->bad = 1;
    return 1;
  }
  if (kjt_put(c->db, rec)) {
    c->bad = 1;
    return 1;
  }
  c->n++;
  return 0;
}

long kjt_load_set(sqlite3 *db, const char *dir) {
  load_ctx c = {db, 0, 0};
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (int t = 0; t < KJ_T__COUNT && !c.bad; t++) {
    const kj_type_def *td = kj_type((kj_rtype)t);
    char path[1024];
    snprintf(path, sizeof path, "%s/data/%s.csv", dir, td->plural);
    FILE *f = fopen(path, "rb");
    if (!f)
      continue;
    kj_err e;
    kj_code rc = kj_csv_read(f, path, td, NULL, on_row, &c, &e);
    fclose(f);
    if (rc) {
      fprintf(stderr, "%s\n", e.msg);
      c.bad = 1;
    }
  }
  sqlite3_exec(db, c.bad ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
  return c.bad ? -1 : c.n;
}

static int jeq(const cJSON *a, const cJSON *b, char *path, size_t plen, char *why, size_t size) {
  size_t at = strlen(path);
  if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
    if (fabs(a->valuedouble - b->valuedouble) <= 1e-9)
      return 1;
    snprintf(why, size, "%s: %.10g != %.10g", path, a->valuedouble, b->valuedouble);
    return 0;
  }
  if ((a->type & 0xff) != (b->type & 0xff)) {
    char *x = cJSON_PrintUnformatted(a), *y = cJSON_PrintUnformatted(b);
    snprintf(why, size, "%s: %.100s != %.100s", path, x, y);
    free(x);
    free(y);
    return 0;
  }
  if (cJSON_IsString(a)) {
    if (!strcmp(a->valuestring, b->valuestring))
      return 1;
    snprintf(why, size, "%s: \"%s\" != \"%s\"", path, a->valuestring, b->valuestring);
    return 0;
  }
  if (cJSON_IsArray(a)) {
    int n = cJSON_GetArraySize(a);
    if (n != cJSON_GetArraySize(b)) {
      snprintf(why, size, "%s: %d items != %d", path, n, cJSON_GetArraySize(b));
      return 0;
    }
    for (int i = 0; i < n; i++) {
      snprintf(path + at, plen - at, "[%d]", i);
      if (!jeq(cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i), path, plen, why, size))
        return 0;
    }
    path[at] = 0;
    return 1;
  }
  if (cJSON_IsObject(a)) {
    const cJSON *x;
    int na = 0, nb = 0;
    cJSON_ArrayForEach(x, a) {
      na++;
      snprintf(path + at, plen - at, ".%s", x->string);
      const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
      if (!y) {
        snprintf(why, size, "%s: missing on the right", path);
        return 0;
      }
      if (!jeq(x, y, path, plen, why, size))
        return 0;
    }
    cJSON_ArrayForEach(x, b) nb++;
    path[at] = 0;
    if (na != nb) {
      snprintf(why, size, "%s: %d keys != %d", path, na, nb);
      return 0;
    }
    return 1;
  }
  return 1; /* null, true, false of the same type */
}

int kjt_json_equal(const cJSON *a, const cJSON *b, char *why, size_t size) {
  char path[512] = "$";
  return jeq(a, b, path, sizeof path, why, size);
}
