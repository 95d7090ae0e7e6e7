/* score_sqlite.c - the score store (score_store.h) on SQLite.
 *
 * Aggregate tables (docs/scoring.md "Aggregates"):
 *   sc_office(code, name, population)            live office records
 *   sc_emp(nip, office, name)                     live employee records (roster)
 *   sc_survey(office, ym, service, n, u1..u9)     survey sums per month
 *   sc_cdays(office, ym, days, cnt)               complaints per month and
 *                                                 resolution days (-1 = open)
 *   sc_real(office, nip, indicator, ym, qty_hi, qty_lo, cnt)
 *                                                 approved quantity * 1e6
 *                                                 as hi * 1e18 + lo (below)
 *   sc_actday(office, nip, day, wd, cnt)          live activities per day
 *   sc_actmonth(office, nip, ym, days)            Monday-Friday days with one
 *   sc_target(office, nip, period, indicator, target_hi, target_lo,
 *             weight_hi, weight_lo, cnt)          (* 1e6, hi * 1e18 + lo)
 *   sc_rating(office, ratee, period, role, total, cnt)  total = sum of s1..s7
 *   sc_realyear(y, office, nip, indicator, qty_hi, qty_lo, cnt)
 *                                                 sc_real's sums per year
 *   sc_cmpmonth(office, ym, days)                 sc_actmonth's days of the
 *                                                 office's roster per month
 *   sc_surveyyear(y, office, service, n, u1..u9)  sc_survey's sums per year
 * The last three are the report aggregates: made and filled from the
 * tables they sum by the schema migration 13 (kjs_score_sqlite_aggregates).
 * ym is year*100+month.  A row whose count drops to 0 is deleted, so a
 * recompute from the records gives exactly the same rows.  The per-employee
 * tables are keyed by the record's own office before the NIP (the own-office
 * rule, server/score.c).
 *
 * Every SQL statement of the scores lives here; server/score.c decides what
 * to add and computes the reports.
 */
#include "score_sqlite.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "wire.h"

/* ---------------------------------------------------------------------- */
/* schema and statements */

static const char *const k_tables[] = {
    "sc_office(code TEXT PRIMARY KEY, name TEXT, population INTEGER)",
    "sc_emp(nip TEXT PRIMARY KEY, office TEXT NOT NULL, name TEXT)",
    "sc_survey(office TEXT NOT NULL, ym INTEGER NOT NULL, service TEXT NOT NULL, n INTEGER NOT "
    "NULL, u1 INTEGER NOT NULL, u2 INTEGER NOT NULL, u3 INTEGER NOT NULL, u4 INTEGER NOT NULL, "
    "u5 INTEGER NOT NULL, u6 INTEGER NOT NULL, u7 INTEGER NOT NULL, u8 INTEGER NOT NULL, u9 "
    "INTEGER NOT NULL, PRIMARY KEY(office, ym, service)) WITHOUT ROWID",
    "sc_cdays(office TEXT NOT NULL, ym INTEGER NOT NULL, days INTEGER NOT NULL, cnt INTEGER NOT "
    "NULL, PRIMARY KEY(office, ym, days)) WITHOUT ROWID",
    "sc_real(office TEXT NOT NULL, nip TEXT NOT NULL, indicator TEXT NOT NULL, ym INTEGER NOT "
    "NULL, qty_hi INTEGER NOT NULL, qty_lo INTEGER NOT NULL, cnt INTEGER NOT NULL, PRIMARY "
    "KEY(office, nip, indicator, ym)) WITHOUT ROWID",
    "sc_actday(office TEXT NOT NULL, nip TEXT NOT NULL, day INTEGER NOT NULL, wd INTEGER NOT "
    "NULL, cnt INTEGER NOT NULL, PRIMARY KEY(office, nip, day)) WITHOUT ROWID",
    "sc_actmonth(office TEXT NOT NULL, nip TEXT NOT NULL, ym INTEGER NOT NULL, days INTEGER NOT "
    "NULL, PRIMARY KEY(office, nip, ym)) WITHOUT ROWID",
    "sc_target(office TEXT NOT NULL, nip TEXT NOT NULL, period TEXT NOT NULL, indicator TEXT NOT "
    "NULL, target_hi INTEGER NOT NULL, target_lo INTEGER NOT NULL, weight_hi INTEGER NOT NULL, "
    "weight_lo INTEGER NOT NULL, cnt INTEGER NOT NULL, PRIMARY KEY(office, nip, period, "
    "indicator)) WITHOUT ROWID",
    "sc_rating(office TEXT NOT NULL, ratee TEXT NOT NULL, period TEXT NOT NULL, role TEXT NOT "
    "NULL, total INTEGER NOT NULL, cnt INTEGER NOT NULL, PRIMARY KEY(office, ratee, period, "
    "role)) WITHOUT ROWID",
    /* report aggregates: the year sums of sc_real, the roster's sums of
     * sc_actmonth (filled from those when made: kjs_score_sqlite_schema) */
    "sc_realyear(y INTEGER NOT NULL, office TEXT NOT NULL, nip TEXT NOT NULL, indicator TEXT NOT "
    "NULL, qty_hi INTEGER NOT NULL, qty_lo INTEGER NOT NULL, cnt INTEGER NOT NULL, PRIMARY KEY(y, "
    "office, nip, indicator)) WITHOUT ROWID",
    "sc_cmpmonth(office TEXT NOT NULL, ym INTEGER NOT NULL, days INTEGER NOT NULL, PRIMARY "
    "KEY(office, ym)) WITHOUT ROWID",
    /* the year sums of sc_survey (the year report reads one row per office
     * and service instead of summing twelve months) */
    "sc_surveyyear(y INTEGER NOT NULL, office TEXT NOT NULL, service TEXT NOT NULL, n INTEGER NOT "
    "NULL, u1 INTEGER NOT NULL, u2 INTEGER NOT NULL, u3 INTEGER NOT NULL, u4 INTEGER NOT NULL, "
    "u5 INTEGER NOT NULL, u6 INTEGER NOT NULL, u7 INTEGER NOT NULL, u8 INTEGER NOT NULL, u9 "
    "INTEGER NOT NULL, PRIMARY KEY(y, office, service)) WITHOUT ROWID",
};
#define NTABLES ((int)(sizeof k_tables / sizeof k_tables[0]))
static const char *const k_names[NTABLES] = {
    "sc_office",   "sc_emp",    "sc_survey", "sc_cdays",    "sc_real",     "sc_actday",
    "sc_actmonth", "sc_target", "sc_rating", "sc_realyear", "sc_cmpmonth", "sc_surveyyear"};
/* k_tables[NBASE..) are the report aggregates, made afresh and filled by
 * the migration (kjs_score_sqlite_aggregates) */
#define NBASE 9

static kj_code db_fail(sqlite3 *db, kj_err *err, const char *what) {
  int ec = sqlite3_errcode(db) & 0xff;
  return kj_fail(err, ec == SQLITE_NOMEM ? KJ_ENOMEM : KJ_EDB, "scores: %s: %s", what,
                 sqlite3_errmsg(db));
}

/* Create tables k_tables[from..to) in schema (and sc_emp's index). */
static kj_code create_tables(sqlite3 *db, const char *schema, int from, int to, kj_err *err) {
  char sql[1024];
  for (int i = from; i < to; i++) {
    snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS %s.%s", schema, k_tables[i]);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
      return db_fail(db, err, "cannot create tables");
  }
  snprintf(sql, sizeof sql, "CREATE INDEX IF NOT EXISTS %s.sc_emp_office ON sc_emp(office, nip)",
           schema);
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(db, err, "cannot create indexes");
  return KJ_OK;
}

static kj_code fill_from_records(sqlite3 *db, const char *schema, kj_err *err);

/* *has = 1 when main.table has the column, else 0 */
static kj_code has_column(sqlite3 *db, const char *table, const char *col, int *has, kj_err *err) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?1, 'main') WHERE name=?2", -1,
                         &s, NULL) != SQLITE_OK)
    return db_fail(db, err, "cannot read the table list");
  sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, col, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  *has = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
  if (rc != SQLITE_ROW)
    db_fail(db, err, "cannot read the table list");
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? KJ_OK : KJ_EDB;
}

/* The per-employee tables keyed by the record's office (the own-office
 * rule): an older layout keyed them by NIP alone. */
static const char *const k_office_keyed[] = {"sc_real", "sc_actday", "sc_actmonth", "sc_target",
                                             "sc_rating"};

/* *absent = 1 when main has no table named table */
static kj_code table_absent(sqlite3 *db, const char *table, int *absent, kj_err *err) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db,
                         "SELECT count(*) FROM main.sqlite_master WHERE type='table' AND name=?1",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(db, err, "cannot read the table list");
  sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  *absent = rc == SQLITE_ROW && sqlite3_column_int(s, 0) == 0;
  if (rc != SQLITE_ROW)
    db_fail(db, err, "cannot read the table list");
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? KJ_OK : KJ_EDB;
}

/* The fills of the report aggregates from the tables they sum, for a
 * database made before them (as score_pg.c's): sc_realyear from sc_real,
 * (hi, lo) summed with lo in halves of 10^9 (no sum beyond 2^63 up to 9 *
 * 10^9 rows), sc_cmpmonth from sc_actmonth on the roster. */
static const char *const k_fill_realyear =
    "INSERT INTO main.sc_realyear(y,office,nip,indicator,qty_hi,qty_lo,cnt) SELECT y,office,nip,"
    "indicator,h+(a+b/1000000000)/1000000000,((a+b/1000000000)%1000000000)*1000000000+b%1000000000,"
    "c FROM (SELECT ym/100 AS y,office,nip,indicator,sum(qty_hi) AS h,sum(qty_lo/1000000000) AS a,"
    "sum(qty_lo%1000000000) AS b,sum(cnt) AS c FROM main.sc_real GROUP BY ym/100,office,nip,"
    "indicator)";
static const char *const k_fill_cmpmonth =
    "INSERT INTO main.sc_cmpmonth(office,ym,days) SELECT m.office,m.ym,sum(m.days) FROM "
    "main.sc_actmonth m JOIN main.sc_emp e ON e.office=m.office AND e.nip=m.nip GROUP BY m.office,"
    "m.ym";
static const char *const k_fill_surveyyear =
    "INSERT INTO main.sc_surveyyear(y,office,service,n,u1,u2,u3,u4,u5,u6,u7,u8,u9) SELECT ym/100,"
    "office,service,sum(n),sum(u1),sum(u2),sum(u3),sum(u4),sum(u5),sum(u6),sum(u7),sum(u8),sum(u9) "
    "FROM main.sc_survey GROUP BY ym/100,office,service";

/* The offices' change counters of the report memo (server/score.c), with
 * the store's own row "" from a random start at the first write (an empty
 * store stays empty: migrate-store copies into one); raised at a clear. */
static kj_code ver_table(sqlite3 *db, kj_err *err) {
  if (sqlite3_exec(db,
                   "CREATE TABLE IF NOT EXISTS main.sc_office_ver(office TEXT PRIMARY KEY, ver "
                   "INTEGER NOT NULL)",
                   NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(db, err, "cannot create tables");
  return KJ_OK;
}

kj_code kjs_score_sqlite_schema(sqlite3 *db, kj_err *err) {
  /* tables of an older layout, rebuilt from the records in the caller's
   * transaction: before the (hi, lo) sums (one 64-bit column, which
   * overflowed), or before the own-office rule (no office column) */
  int old_real = 0, old_target = 0, old = 0;
  kj_code rc = has_column(db, "sc_real", "qty", &old_real, err);
  if (!rc)
    rc = has_column(db, "sc_target", "target", &old_target, err);
  for (size_t i = 0; !rc && !old && i < sizeof k_office_keyed / sizeof *k_office_keyed; i++) {
    int has_nip = 0, has_office = 0;
    const char *t = k_office_keyed[i];
    rc = has_column(db, t, strcmp(t, "sc_rating") ? "nip" : "ratee", &has_nip, err);
    if (!rc)
      rc = has_column(db, t, "office", &has_office, err);
    old = has_nip && !has_office;
  }
  if (rc)
    return rc;
  if (old_real || old_target || old) {
    char sql[128];
    for (int i = 0; i < NTABLES; i++) {
      snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS main.%s", k_names[i]);
      if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, "cannot upgrade the score tables");
    }
    if ((rc = create_tables(db, "main", 0, NTABLES, err)) || (rc = ver_table(db, err)))
      return rc;
    return fill_from_records(db, "main", err);
  }
  if ((rc = create_tables(db, "main", 0, NTABLES, err)))
    return rc;
  return ver_table(db, err);
}

kj_code kjs_score_sqlite_aggregates(sqlite3 *db, kj_err *err) {
  kj_code rc = kjs_score_sqlite_schema(db, err);
  if (rc)
    return rc;
  char sql[128];
  for (int i = NBASE; i < NTABLES; i++) {
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS main.%s", k_names[i]);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
      return db_fail(db, err, "cannot make the report aggregates");
  }
  if ((rc = create_tables(db, "main", NBASE, NTABLES, err)) || (rc = ver_table(db, err)))
    return rc;
  static const struct {
    const char *sql, *what;
  } fill[] = {{k_fill_realyear, "cannot fill sc_realyear"},
              {k_fill_cmpmonth, "cannot fill sc_cmpmonth"},
              {k_fill_surveyyear, "cannot fill sc_surveyyear"},
              /* the store's own change counter (when it has one): office
               * rows kept by a report memo before are old */
              {"UPDATE main.sc_office_ver SET ver=ver+1 WHERE office=''",
               "cannot raise the change counter"}};
  for (size_t i = 0; i < sizeof fill / sizeof *fill; i++)
    if (sqlite3_exec(db, fill[i].sql, NULL, NULL, NULL) != SQLITE_OK)
      return db_fail(db, err, fill[i].what);
  return KJ_OK;
}

/* Update statements, "%s" = schema.  A counted aggregate row has an _ADD
 * statement whose parameters are its keys, then the signed values, then
 * the signed count (see add_row), and a _GC statement over the same keys
 * that drops the row once its count is back to zero. */
enum {
  U_OFFICE_DEL,
  U_OFFICE_PUT,
  U_EMP_DEL,
  U_EMP_PUT,
  U_SURVEY_ADD,
  U_SURVEY_GC,
  U_CDAYS_ADD,
  U_CDAYS_GC,
  U_REAL_ADD,
  U_REAL_GC,
  U_ACTDAY_ADD,
  U_ACTDAY_GC,
  U_ACTMONTH_ADD,
  U_ACTMONTH_GC,
  U_TARGET_ADD,
  U_TARGET_GC,
  U_RATING_ADD,
  U_RATING_GC,
  U_REALY_ADD,
  U_REALY_GC,
  U_CMPM_ADD,
  U_CMPM_GC,
  U_CMPM_SUB,
  U_CMPM_SUBGC,
  U_CMPM_PLUS,
  U_SURVEYY_ADD,
  U_SURVEYY_GC,
  U__COUNT
};

/* Quantities, targets and weights are sums of value * 1e6 kept as two
 * columns, sum = hi * 1e18 + lo with 0 <= lo < 1e18 (docs/scoring.md "Number
 * bounds"): one record adds less than 1e18, so lo + delta_lo < 2e18 never
 * overflows and hi moves by at most 2 per change. */
#define E18 1000000000000000000LL
#define E18S "1000000000000000000"

static const char *const k_usql[U__COUNT] = {
    [U_OFFICE_DEL] = "DELETE FROM %s.sc_office WHERE code=?1",
    [U_OFFICE_PUT] = "INSERT OR REPLACE INTO %s.sc_office(code,name,population) VALUES(?1,?2,?3)",
    [U_EMP_DEL] = "DELETE FROM %s.sc_emp WHERE nip=?1",
    [U_EMP_PUT] = "INSERT OR REPLACE INTO %s.sc_emp(nip,office,name) VALUES(?1,?2,?3)",
    [U_SURVEY_ADD] =
        "INSERT INTO %s.sc_survey(office,ym,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,n) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13) ON CONFLICT(office,ym,service) DO "
        "UPDATE SET u1=u1+?4,u2=u2+?5,u3=u3+?6,u4=u4+?7,u5=u5+?8,u6=u6+?9,u7=u7+?10,u8=u8+?11,"
        "u9=u9+?12,n=n+?13",
    [U_SURVEY_GC] = "DELETE FROM %s.sc_survey WHERE office=?1 AND ym=?2 AND service=?3 AND n=0",
    [U_CDAYS_ADD] = "INSERT INTO %s.sc_cdays(office,ym,days,cnt) VALUES(?1,?2,?3,?4) "
                    "ON CONFLICT(office,ym,days) DO UPDATE SET cnt=cnt+?4",
    [U_CDAYS_GC] = "DELETE FROM %s.sc_cdays WHERE office=?1 AND ym=?2 AND days=?3 AND cnt=0",
    [U_REAL_ADD] =
        "INSERT INTO %s.sc_real(office,nip,indicator,ym,qty_hi,qty_lo,cnt) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(office,nip,indicator,ym) DO UPDATE "
        "SET qty_hi=qty_hi+?5+(qty_lo+?6>=" E18S "),qty_lo=(qty_lo+?6)%%" E18S ",cnt=cnt+?7",
    [U_REAL_GC] = "DELETE FROM %s.sc_real WHERE office=?1 AND nip=?2 AND indicator=?3 AND ym=?4 "
                  "AND cnt=0",
    [U_ACTDAY_ADD] = "INSERT INTO %s.sc_actday(office,nip,day,wd,cnt) VALUES(?1,?2,?3,?4,?5) "
                     "ON CONFLICT(office,nip,day) DO UPDATE SET cnt=cnt+?5 RETURNING cnt",
    [U_ACTDAY_GC] = "DELETE FROM %s.sc_actday WHERE office=?1 AND nip=?2 AND day=?3 AND cnt=0",
    [U_ACTMONTH_ADD] = "INSERT INTO %s.sc_actmonth(office,nip,ym,days) VALUES(?1,?2,?3,?4) "
                       "ON CONFLICT(office,nip,ym) DO UPDATE SET days=days+?4",
    [U_ACTMONTH_GC] = "DELETE FROM %s.sc_actmonth WHERE office=?1 AND nip=?2 AND ym=?3 AND days=0",
    [U_TARGET_ADD] =
        "INSERT INTO %s.sc_target(office,nip,period,indicator,target_hi,target_lo,weight_hi,"
        "weight_lo,cnt) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(office,nip,period,"
        "indicator) DO UPDATE SET "
        "target_hi=target_hi+?5+(target_lo+?6>=" E18S "),target_lo=(target_lo+?6)%%" E18S ","
        "weight_hi=weight_hi+?7+(weight_lo+?8>=" E18S "),weight_lo=(weight_lo+?8)%%" E18S ","
        "cnt=cnt+?9",
    [U_TARGET_GC] = "DELETE FROM %s.sc_target WHERE office=?1 AND nip=?2 AND period=?3 AND "
                    "indicator=?4 AND cnt=0",
    [U_RATING_ADD] =
        "INSERT INTO %s.sc_rating(office,ratee,period,role,total,cnt) VALUES(?1,?2,?3,?4,?5,?6) "
        "ON CONFLICT(office,ratee,period,role) DO UPDATE SET total=total+?5,cnt=cnt+?6",
    [U_RATING_GC] = "DELETE FROM %s.sc_rating WHERE office=?1 AND ratee=?2 AND period=?3 AND "
                    "role=?4 AND cnt=0",
    /* report aggregates (the statements with several tables name the
     * schema for each: ust formats with it four times) */
    [U_REALY_ADD] =
        "INSERT INTO %s.sc_realyear(y,office,nip,indicator,qty_hi,qty_lo,cnt) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(y,office,nip,indicator) DO UPDATE "
        "SET qty_hi=qty_hi+?5+(qty_lo+?6>=" E18S "),qty_lo=(qty_lo+?6)%%" E18S ",cnt=cnt+?7",
    [U_REALY_GC] = "DELETE FROM %s.sc_realyear WHERE y=?1 AND office=?2 AND nip=?3 AND "
                   "indicator=?4 AND cnt=0",
    /* ?1 office, ?2 nip, ?3 ym, ?4 sign: a row only when nip is on office's
     * roster */
    [U_CMPM_ADD] =
        "INSERT INTO %s.sc_cmpmonth(office,ym,days) SELECT ?1,?3,?4 FROM %s.sc_emp WHERE "
        "nip=?2 AND office=?1 ON CONFLICT(office,ym) DO UPDATE SET days=days+?4",
    [U_CMPM_GC] = "DELETE FROM %s.sc_cmpmonth WHERE office=?1 AND ym=?2 AND days=0",
    [U_CMPM_SUB] = "UPDATE %s.sc_cmpmonth SET days=sc_cmpmonth.days-m.days FROM %s.sc_actmonth m "
                   "JOIN %s.sc_emp e ON m.office=e.office AND m.nip=e.nip WHERE e.nip=?1 AND "
                   "sc_cmpmonth.office=m.office AND sc_cmpmonth.ym=m.ym",
    [U_CMPM_SUBGC] = "DELETE FROM %s.sc_cmpmonth WHERE days=0 AND office=(SELECT office FROM "
                     "%s.sc_emp WHERE nip=?1)",
    [U_CMPM_PLUS] = "INSERT INTO %s.sc_cmpmonth(office,ym,days) SELECT m.office,m.ym,m.days FROM "
                    "%s.sc_actmonth m JOIN %s.sc_emp e ON m.office=e.office AND m.nip=e.nip WHERE "
                    "e.nip=?1 ON CONFLICT(office,ym) DO UPDATE SET days=days+excluded.days",
    /* sc_survey's year row: ?1 office, ?2 y, ?3 service, then as U_SURVEY_ADD */
    [U_SURVEYY_ADD] =
        "INSERT INTO %s.sc_surveyyear(office,y,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,n) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13) ON CONFLICT(y,office,service) DO "
        "UPDATE SET u1=u1+?4,u2=u2+?5,u3=u3+?6,u4=u4+?7,u5=u5+?8,u6=u6+?9,u7=u7+?10,u8=u8+?11,"
        "u9=u9+?12,n=n+?13",
    [U_SURVEYY_GC] = "DELETE FROM %s.sc_surveyyear WHERE office=?1 AND y=?2 AND service=?3 AND n=0",
};

/* Report statements (unqualified: main, or temp while a verify runs). */
enum {
  R_TARGETS,
  R_REAL,
  R_RATINGS,
  R_OFFICES,
  R_SURVEYS,
  R_CDAYS,
  R_ROSTER,
  R_CMP_MONTHS,
  R_CMP_DAYS,
  R_CMP_DAY,
  R_REAL_YEAR,
  R_SURVEYS_YEAR,
  R__COUNT
};

static const char *const k_rsql[R__COUNT] = {
    /* ?4 = the employee's own office: only its records count */
    [R_TARGETS] = "SELECT indicator, target_hi, target_lo, weight_hi, weight_lo FROM sc_target "
                  "WHERE office=?4 AND nip=?1 AND period=?2 ORDER BY indicator",
    /* summed here in 128 bits, not by SQLite's sum() (64 bits) */
    [R_REAL] = "SELECT indicator, qty_hi, qty_lo FROM sc_real WHERE office=?4 AND nip=?1 AND ym "
               "BETWEEN ?2 AND ?3",
    [R_RATINGS] =
        "SELECT role, total, cnt FROM sc_rating WHERE office=?4 AND ratee=?1 AND period=?2",
    [R_OFFICES] = "SELECT code, name, population FROM sc_office ORDER BY code",
    [R_SURVEYS] = "SELECT service, sum(n), sum(u1), sum(u2), sum(u3), sum(u4), sum(u5), sum(u6), "
                  "sum(u7), sum(u8), sum(u9) FROM sc_survey WHERE office=?1 AND ym BETWEEN ?2 AND "
                  "?3 GROUP BY service ORDER BY service",
    [R_CDAYS] = "SELECT days, sum(cnt) FROM sc_cdays WHERE office=?1 AND ym BETWEEN ?2 AND ?3 "
                "GROUP BY days ORDER BY days",
    [R_ROSTER] = "SELECT nip, name FROM sc_emp WHERE office=?1 ORDER BY nip",
    /* compliance: activities of this office by its roster */
    [R_CMP_MONTHS] = "SELECT coalesce(sum(days),0) FROM sc_cmpmonth WHERE office=?1 AND ym "
                     "BETWEEN ?2 AND ?3",
    [R_CMP_DAYS] = "SELECT count(*) FROM sc_emp e JOIN sc_actday d ON d.office=e.office AND "
                   "d.nip=e.nip WHERE e.office=?1 AND d.day BETWEEN ?2 AND ?3 AND d.wd=1",
    [R_CMP_DAY] = "SELECT count(*) FROM sc_emp e JOIN sc_actday d ON d.office=e.office AND "
                  "d.nip=e.nip WHERE e.office=?1 AND d.day=?2",
    /* R_REAL of a whole year ?2 */
    [R_REAL_YEAR] = "SELECT indicator, qty_hi, qty_lo FROM sc_realyear WHERE y=?2 AND office=?4 "
                    "AND nip=?1",
    /* R_SURVEYS of a whole year ?2 */
    [R_SURVEYS_YEAR] = "SELECT service, n, u1, u2, u3, u4, u5, u6, u7, u8, u9 FROM sc_surveyyear "
                       "WHERE y=?2 AND office=?1 ORDER BY service",
};

/* ---------------------------------------------------------------------- */
/* the store of one connection and schema */

/* The survey sums of one (office, ym, service) held back: a push of
 * 1,000 surveys adds to a handful of sc_survey rows, one upsert each at
 * the end instead of one per survey (docs/performance.md "Server cost per
 * record"). */
#define SV_PEND_MAX 256
#define SV_SLOTS 512 /* open addressing over pend, a power of two */
typedef struct sv_pend {
  char office[64], service[256];
  long long ym, n, u[9];
} sv_pend;

static unsigned sv_hash(const char *office, long long ym, const char *service) {
  unsigned h = 2166136261u ^ (unsigned)ym; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)office; *p; p++)
    h = (h ^ *p) * 16777619u;
  for (const unsigned char *p = (const unsigned char *)service; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h;
}

/* The year sums of sc_realyear held back the same way (key y, office, nip,
 * indicator; the signed sum of the records' quantities * 1e6 and of their
 * counts): a push's activities of one employee and indicator are one
 * upsert at the end, not one each. */
#define RY_PEND_MAX 128
#define RY_SLOTS 256 /* a power of two */
typedef struct ry_pend {
  char office[64], nip[64], indicator[128];
  long long y, cnt;
  __int128 qty;
} ry_pend;

static unsigned ry_hash(long long y, const char *office, const char *nip, const char *indicator) {
  unsigned h = sv_hash(office, y, nip);
  for (const unsigned char *p = (const unsigned char *)indicator; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h;
}

/* The roster's activity days of sc_cmpmonth held back too, as the
 * sc_actmonth changes (key office, nip, ym; the signed sum of days) that
 * U_CMPM_ADD applies at the flush when nip is on office's roster: a push's
 * days of one employee and month are one statement.  An emp_put/emp_del
 * flushes first (it moves the months already in). */
#define CM_PEND_MAX 128
#define CM_SLOTS 256 /* a power of two */
typedef struct cm_pend {
  char office[64], nip[64];
  long long ym, days;
} cm_pend;

typedef struct sq {
  kjs_score_store store;
  sqlite3 *db;
  const char *schema;         /* of the update statements: "main" or "temp" */
  sqlite3_stmt *st[U__COUNT]; /* updates */
  sqlite3_stmt *rs[R__COUNT]; /* reports (unqualified names) */
  /* batch: survey_add holds its sums back in pend until sv_flush (the
   * connection's store: kjs_score_sqlite_flush before its commit, and
   * before any read of the scores) */
  int batch, flushing, npend;
  sv_pend pend[SV_PEND_MAX];
  short slot[SV_SLOTS]; /* index + 1 into pend by sv_hash, 0 empty */
  int nry;
  ry_pend ry[RY_PEND_MAX];
  short ryslot[RY_SLOTS]; /* index + 1 into ry by ry_hash, 0 empty */
  int ncm;
  cm_pend cm[CM_PEND_MAX];
  short cmslot[CM_SLOTS]; /* index + 1 into cm by sv_hash(office, ym, nip) */
  /* the report memo's change counters: the offices whose counter this
   * transaction raised already (emptied at its begin, end and a savepoint's
   * rollback: kjs_score_sqlite_hold, _flush, _discard) */
  sqlite3_stmt *ver_touch, *ver_read;
  char **touched;
  int ntouched, cap_touched;
} sq;

static kj_code sv_flush(sq *u, kj_err *err);
static kj_code cmpm_add(sq *u, const char *office, const char *nip, long long ym, long long days,
                        kj_err *err);

/* Nothing held back any more. */
static void sv_forget(sq *u) {
  if (u->npend)
    memset(u->slot, 0, sizeof u->slot);
  u->npend = 0;
  if (u->nry)
    memset(u->ryslot, 0, sizeof u->ryslot);
  u->nry = 0;
  if (u->ncm)
    memset(u->cmslot, 0, sizeof u->cmslot);
  u->ncm = 0;
}

/* something held back (sv_flush writes it) */
static int held(const sq *u) {
  return u->npend || u->nry || u->ncm;
}

static void touched_forget(sq *u) {
  for (int i = 0; i < u->ntouched; i++)
    free(u->touched[i]);
  free(u->touched);
  u->touched = NULL;
  u->ntouched = u->cap_touched = 0;
}

static void sq_release(sq *u) {
  touched_forget(u);
  sqlite3_finalize(u->ver_touch);
  sqlite3_finalize(u->ver_read);
  u->ver_touch = u->ver_read = NULL;
  for (int i = 0; i < U__COUNT; i++)
    sqlite3_finalize(u->st[i]);
  for (int i = 0; i < R__COUNT; i++)
    sqlite3_finalize(u->rs[i]);
  memset(u->st, 0, sizeof u->st);
  memset(u->rs, 0, sizeof u->rs);
}

static sqlite3_stmt *ust(sq *u, int i, kj_err *err) {
  if ((i == U_SURVEY_ADD || i == U_SURVEY_GC || i == U_SURVEYY_ADD || i == U_SURVEYY_GC) &&
      u->npend && !u->flushing && sv_flush(u, err))
    return NULL;
  if (!u->st[i]) {
    char sql[700];
    snprintf(sql, sizeof sql, k_usql[i], u->schema, u->schema, u->schema, u->schema);
    if (sqlite3_prepare_v2(u->db, sql, -1, &u->st[i], NULL) != SQLITE_OK) {
      db_fail(u->db, err, "cannot prepare");
      return NULL;
    }
  } else {
    sqlite3_reset(u->st[i]);
    sqlite3_clear_bindings(u->st[i]);
  }
  return u->st[i];
}

/* Run a bound statement; with out, the first column of its one row. */
static kj_code urun(sq *u, sqlite3_stmt *s, long long *out, kj_err *err) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    if (out)
      *out = sqlite3_column_int64(s, 0);
    rc = sqlite3_step(s);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return db_fail(u->db, err, "cannot update aggregates");
  return KJ_OK;
}

static void btext(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, i);
}

/* One key of an aggregate row: text, or an integer when is_int. */
typedef struct ukey {
  const char *t;
  long long i;
  int is_int;
} ukey;

static void bind_keys(sqlite3_stmt *s, const ukey *k, int nk) {
  for (int j = 0; j < nk; j++) {
    if (k[j].is_int)
      sqlite3_bind_int64(s, j + 1, k[j].i);
    else
      btext(s, j + 1, k[j].t);
  }
}

/* Add (sign 1) or take away (sign -1) one record's values v[0..nv) and a
 * count of one at the row of keys k; a row whose count is back to zero is
 * dropped by the statement gc. */
static kj_code add_row(sq *u, int add, int gc, const ukey *k, int nk, const long long *v, int nv,
                       int split, int sign, kj_err *err) {
  sqlite3_stmt *s = ust(u, add, err);
  if (!s)
    return KJ_EDB;
  bind_keys(s, k, nk);
  int p = nk + 1;
  for (int j = 0; j < nv; j++) {
    long long x = sign * v[j];
    if (split) { /* (hi, lo) of x, |x| < 1e18 (kjs_parse_dec6) */
      long long hi = x < 0 ? -1 : 0;
      sqlite3_bind_int64(s, p++, hi);
      sqlite3_bind_int64(s, p++, x - hi * E18);
    } else {
      sqlite3_bind_int64(s, p++, x);
    }
  }
  sqlite3_bind_int64(s, p, sign);
  kj_code rc = urun(u, s, NULL, err);
  if (rc || sign > 0)
    return rc;
  if (!(s = ust(u, gc, err)))
    return KJ_EDB;
  bind_keys(s, k, nk);
  return urun(u, s, NULL, err);
}

/* --- writes --- */

static kj_code w_office_put(void *h, const kjs_sc_office *o, kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = ust(u, U_OFFICE_PUT, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, o->code);
  btext(s, 2, o->name);
  if (o->have_pop)
    sqlite3_bind_int64(s, 3, o->pop);
  return urun(u, s, NULL, err);
}

static kj_code w_office_del(void *h, const char *code, kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = ust(u, U_OFFICE_DEL, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, code);
  return urun(u, s, NULL, err);
}

/* Run statements i[0..n) in turn with the one parameter nip. */
static kj_code run_nip(sq *u, const int *i, int n, const char *nip, kj_err *err) {
  kj_code rc = KJ_OK;
  for (int k = 0; !rc && k < n; k++) {
    sqlite3_stmt *s = ust(u, i[k], err);
    if (!s)
      return KJ_EDB;
    btext(s, 1, nip);
    rc = urun(u, s, NULL, err);
  }
  return rc;
}

/* A roster change moves nip's compliance months in sc_cmpmonth: those of
 * its old office's rows go out before, those of its new office's come in
 * after (docs/scoring.md "Aggregates"). */
static const int k_emp_out[] = {U_CMPM_SUB, U_CMPM_SUBGC};

static kj_code w_emp_put(void *h, const kjs_sc_emp *e, kj_err *err) {
  sq *u = h;
  kj_code rc = u->ncm ? sv_flush(u, err) : KJ_OK; /* the held days first */
  if (!rc)
    rc = run_nip(u, k_emp_out, 2, e->nip, err);
  if (rc)
    return rc;
  sqlite3_stmt *s = ust(u, U_EMP_PUT, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, e->nip);
  btext(s, 2, e->office);
  btext(s, 3, e->name);
  if ((rc = urun(u, s, NULL, err)))
    return rc;
  const int in[] = {U_CMPM_PLUS};
  return run_nip(u, in, 1, e->nip, err);
}

static kj_code w_emp_del(void *h, const char *nip, kj_err *err) {
  sq *u = h;
  const int i[] = {U_CMPM_SUB, U_CMPM_SUBGC, U_EMP_DEL};
  kj_code rc = u->ncm ? sv_flush(u, err) : KJ_OK; /* the held days first */
  return rc ? rc : run_nip(u, i, 3, nip, err);
}

static kj_code w_survey_add(void *h, const char *office, long long ym, const char *service,
                            const long long u9[9], int sign, kj_err *err) {
  sq *u = h;
  if (u->batch && !sqlite3_get_autocommit(u->db) && office && service &&
      strlen(office) < sizeof u->pend[0].office && strlen(service) < sizeof u->pend[0].service) {
    sv_pend *p = NULL;
    unsigned at = sv_hash(office, ym, service) & (SV_SLOTS - 1);
    for (; u->slot[at]; at = (at + 1) & (SV_SLOTS - 1)) {
      sv_pend *q = &u->pend[u->slot[at] - 1];
      if (q->ym == ym && !strcmp(q->office, office) && !strcmp(q->service, service)) {
        p = q;
        break;
      }
    }
    if (!p) {
      if (u->npend == SV_PEND_MAX) {
        kj_code rc = sv_flush(u, err);
        if (rc)
          return rc;
        at = sv_hash(office, ym, service) & (SV_SLOTS - 1);
      }
      p = &u->pend[u->npend++];
      u->slot[at] = (short)u->npend;
      memset(p, 0, sizeof *p);
      strcpy(p->office, office);
      strcpy(p->service, service);
      p->ym = ym;
    }
    for (int i = 0; i < 9; i++)
      p->u[i] += sign * u9[i];
    p->n += sign;
    return KJ_OK;
  }
  /* (ust writes what is held back first: the sums of one row stay in order) */
  const ukey k[] = {{office, 0, 0}, {NULL, ym, 1}, {service, 0, 0}};
  const ukey ky[] = {{office, 0, 0}, {NULL, ym / 100, 1}, {service, 0, 0}};
  kj_code rc = add_row(h, U_SURVEY_ADD, U_SURVEY_GC, k, 3, u9, 9, 0, sign, err);
  return rc ? rc : add_row(h, U_SURVEYY_ADD, U_SURVEYY_GC, ky, 3, u9, 9, 0, sign, err);
}

/* Upsert the net sums n, v[0..9) of survey row (office, key, service) of
 * sc_survey (key ym) or sc_surveyyear (year: key y), and drop the row when
 * its count went down (back to zero it is gone, as add_row does). */
static kj_code sv_write(sq *u, int year, const char *office, long long key, const char *service,
                        long long n, const long long *v, kj_err *err) {
  const ukey k[] = {{office, 0, 0}, {NULL, key, 1}, {service, 0, 0}};
  sqlite3_stmt *s = ust(u, year ? U_SURVEYY_ADD : U_SURVEY_ADD, err);
  if (!s)
    return KJ_EDB;
  bind_keys(s, k, 3);
  for (int j = 0; j < 9; j++)
    sqlite3_bind_int64(s, 4 + j, v[j]);
  sqlite3_bind_int64(s, 13, n);
  kj_code rc = urun(u, s, NULL, err);
  if (rc || n >= 0)
    return rc;
  if (!(s = ust(u, year ? U_SURVEYY_GC : U_SURVEY_GC, err)))
    return KJ_EDB;
  bind_keys(s, k, 3);
  return urun(u, s, NULL, err);
}

/* 1 when held rows a and b fall in the same sc_surveyyear row */
static int same_year_row(const sv_pend *a, const sv_pend *b) {
  return a->ym / 100 == b->ym / 100 && !strcmp(a->office, b->office) &&
         !strcmp(a->service, b->service);
}

/* Write the survey sums held back: one upsert per row (the net of its
 * adds and takes), then one per year row of sc_surveyyear (the months of a
 * year summed here first: a push's surveys of a dozen months are one year
 * upsert), and the rest held back (realisasi's years, compliance months).
 * KJ_OK or KJ_EDB; either way nothing is held back after. */
static kj_code sv_flush(sq *u, kj_err *err) {
  kj_code rc = KJ_OK;
  u->flushing = 1;
  for (int i = 0; !rc && i < u->npend; i++) {
    sv_pend *p = &u->pend[i];
    int zero = !p->n;
    for (int j = 0; j < 9; j++)
      zero = zero && !p->u[j];
    if (!zero) /* else added and taken away within the batch */
      rc = sv_write(u, 0, p->office, p->ym, p->service, p->n, p->u, err);
  }
  for (int i = 0; !rc && i < u->npend; i++) {
    const sv_pend *p = &u->pend[i];
    int done = 0;
    for (int j = 0; !done && j < i; j++)
      done = same_year_row(&u->pend[j], p);
    if (done) /* summed with an earlier month of its year */
      continue;
    long long n = p->n, v[9];
    memcpy(v, p->u, sizeof v);
    for (int j = i + 1; j < u->npend; j++)
      if (same_year_row(&u->pend[j], p)) {
        n += u->pend[j].n;
        for (int k = 0; k < 9; k++)
          v[k] += u->pend[j].u[k];
      }
    int zero = !n;
    for (int k = 0; k < 9; k++)
      zero = zero && !v[k];
    if (!zero)
      rc = sv_write(u, 1, p->office, p->ym / 100, p->service, n, v, err);
  }
  for (int i = 0; !rc && i < u->nry; i++) {
    ry_pend *p = &u->ry[i];
    if (!p->cnt && !p->qty) /* added and taken away within the batch */
      continue;
    /* the held sum as dh * 1e18 + dl, 0 <= dl < 1e18 (U_REALY_ADD's carry
     * takes any dh) */
    __int128 dh = p->qty / E18, dl = p->qty % E18;
    if (dl < 0) {
      dl += E18;
      dh--;
    }
    const ukey k[] = {{NULL, p->y, 1}, {p->office, 0, 0}, {p->nip, 0, 0}, {p->indicator, 0, 0}};
    sqlite3_stmt *s = ust(u, U_REALY_ADD, err);
    if (!s) {
      rc = KJ_EDB;
      break;
    }
    bind_keys(s, k, 4);
    sqlite3_bind_int64(s, 5, (long long)dh);
    sqlite3_bind_int64(s, 6, (long long)dl);
    sqlite3_bind_int64(s, 7, p->cnt);
    if ((rc = urun(u, s, NULL, err)) || p->cnt >= 0)
      continue;
    if (!(s = ust(u, U_REALY_GC, err))) {
      rc = KJ_EDB;
      break;
    }
    bind_keys(s, k, 4);
    rc = urun(u, s, NULL, err);
  }
  for (int i = 0; !rc && i < u->ncm; i++)
    if (u->cm[i].days)
      rc = cmpm_add(u, u->cm[i].office, u->cm[i].nip, u->cm[i].ym, u->cm[i].days, err);
  u->flushing = 0;
  sv_forget(u);
  return rc;
}

static kj_code w_cdays_add(void *h, const char *office, long long ym, long long days, int sign,
                           kj_err *err) {
  const ukey k[] = {{office, 0, 0}, {NULL, ym, 1}, {NULL, days, 1}};
  return add_row(h, U_CDAYS_ADD, U_CDAYS_GC, k, 3, NULL, 0, 0, sign, err);
}

static kj_code w_real_add(void *h, const char *office, const char *nip, const char *indicator,
                          long long ym, long long qty, int sign, kj_err *err) {
  const ukey k[] = {{office, 0, 0}, {nip, 0, 0}, {indicator, 0, 0}, {NULL, ym, 1}};
  kj_code rc = add_row(h, U_REAL_ADD, U_REAL_GC, k, 4, &qty, 1, 1, sign, err);
  if (rc)
    return rc;
  /* and its year's sum (sc_realyear: the year report reads one row), held
   * back in a write transaction like the survey sums */
  sq *u = h;
  long long y = ym / 100;
  if (u->batch && !sqlite3_get_autocommit(u->db) && office && nip && indicator &&
      strlen(office) < sizeof u->ry[0].office && strlen(nip) < sizeof u->ry[0].nip &&
      strlen(indicator) < sizeof u->ry[0].indicator) {
    ry_pend *p = NULL;
    unsigned at = ry_hash(y, office, nip, indicator) & (RY_SLOTS - 1);
    for (; u->ryslot[at]; at = (at + 1) & (RY_SLOTS - 1)) {
      ry_pend *q = &u->ry[u->ryslot[at] - 1];
      if (q->y == y && !strcmp(q->office, office) && !strcmp(q->nip, nip) &&
          !strcmp(q->indicator, indicator)) {
        p = q;
        break;
      }
    }
    if (!p) {
      if (u->nry == RY_PEND_MAX) {
        if ((rc = sv_flush(u, err)))
          return rc;
        at = ry_hash(y, office, nip, indicator) & (RY_SLOTS - 1);
      }
      p = &u->ry[u->nry++];
      u->ryslot[at] = (short)u->nry;
      memset(p, 0, sizeof *p);
      strcpy(p->office, office);
      strcpy(p->nip, nip);
      strcpy(p->indicator, indicator);
      p->y = y;
    }
    p->qty += (__int128)sign * qty;
    p->cnt += sign;
    return KJ_OK;
  }
  const ukey ky[] = {{NULL, y, 1}, {office, 0, 0}, {nip, 0, 0}, {indicator, 0, 0}};
  return add_row(h, U_REALY_ADD, U_REALY_GC, ky, 4, &qty, 1, 1, sign, err);
}

static kj_code w_actday_add(void *h, const char *office, const char *nip, long long day, int wd,
                            int sign, long long *cnt, kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = ust(u, U_ACTDAY_ADD, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, office);
  btext(s, 2, nip);
  sqlite3_bind_int64(s, 3, day);
  sqlite3_bind_int64(s, 4, wd);
  sqlite3_bind_int64(s, 5, sign);
  *cnt = -99;
  kj_code rc = urun(u, s, cnt, err);
  if (rc || !(sign < 0 && *cnt == 0))
    return rc;
  if (!(s = ust(u, U_ACTDAY_GC, err)))
    return KJ_EDB;
  btext(s, 1, office);
  btext(s, 2, nip);
  sqlite3_bind_int64(s, 3, day);
  return urun(u, s, NULL, err);
}

/* sc_cmpmonth(office, ym) += days when nip is on office's roster; a row
 * back at zero is dropped */
static kj_code cmpm_add(sq *u, const char *office, const char *nip, long long ym, long long days,
                        kj_err *err) {
  sqlite3_stmt *s = ust(u, U_CMPM_ADD, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, office);
  btext(s, 2, nip);
  sqlite3_bind_int64(s, 3, ym);
  sqlite3_bind_int64(s, 4, days);
  /* no RETURNING (in SQLite it costs three plain upserts): a take-away
   * runs the _GC statement, as add_row */
  kj_code rc = urun(u, s, NULL, err);
  if (rc || days > 0)
    return rc;
  if (!(s = ust(u, U_CMPM_GC, err)))
    return KJ_EDB;
  btext(s, 1, office);
  sqlite3_bind_int64(s, 2, ym);
  return urun(u, s, NULL, err);
}

static kj_code w_actmonth_add(void *h, const char *office, const char *nip, long long ym, int sign,
                              kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = ust(u, U_ACTMONTH_ADD, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, office);
  btext(s, 2, nip);
  sqlite3_bind_int64(s, 3, ym);
  sqlite3_bind_int64(s, 4, sign);
  kj_code rc = urun(u, s, NULL, err);
  if (rc)
    return rc;
  if (sign < 0) {
    if (!(s = ust(u, U_ACTMONTH_GC, err)))
      return KJ_EDB;
    btext(s, 1, office);
    btext(s, 2, nip);
    sqlite3_bind_int64(s, 3, ym);
    if ((rc = urun(u, s, NULL, err)))
      return rc;
  }
  /* and the office's month when nip is on its roster (sc_cmpmonth), held
   * back in a write transaction */
  if (u->batch && !sqlite3_get_autocommit(u->db) && office && nip &&
      strlen(office) < sizeof u->cm[0].office && strlen(nip) < sizeof u->cm[0].nip) {
    cm_pend *p = NULL;
    unsigned at = sv_hash(office, ym, nip) & (CM_SLOTS - 1);
    for (; u->cmslot[at]; at = (at + 1) & (CM_SLOTS - 1)) {
      cm_pend *q = &u->cm[u->cmslot[at] - 1];
      if (q->ym == ym && !strcmp(q->office, office) && !strcmp(q->nip, nip)) {
        p = q;
        break;
      }
    }
    if (!p) {
      if (u->ncm == CM_PEND_MAX) {
        if ((rc = sv_flush(u, err)))
          return rc;
        at = sv_hash(office, ym, nip) & (CM_SLOTS - 1);
      }
      p = &u->cm[u->ncm++];
      u->cmslot[at] = (short)u->ncm;
      memset(p, 0, sizeof *p);
      strcpy(p->office, office);
      strcpy(p->nip, nip);
      p->ym = ym;
    }
    p->days += sign;
    return KJ_OK;
  }
  return cmpm_add(u, office, nip, ym, sign, err);
}

static kj_code w_target_add(void *h, const char *office, const char *nip, const char *period,
                            const char *indicator, long long target, long long weight, int sign,
                            kj_err *err) {
  const ukey k[] = {{office, 0, 0}, {nip, 0, 0}, {period, 0, 0}, {indicator, 0, 0}};
  const long long v[2] = {target, weight};
  return add_row(h, U_TARGET_ADD, U_TARGET_GC, k, 4, v, 2, 1, sign, err);
}

static kj_code w_rating_add(void *h, const char *office, const char *ratee, const char *period,
                            const char *role, long long total, int sign, kj_err *err) {
  const ukey k[] = {{office, 0, 0}, {ratee, 0, 0}, {period, 0, 0}, {role, 0, 0}};
  return add_row(h, U_RATING_ADD, U_RATING_GC, k, 4, &total, 1, 0, sign, err);
}

/* --- reads --- */

static sqlite3_stmt *rst(sq *u, int i, kj_err *err) {
  if (held(u) && sv_flush(u, err))
    return NULL;
  if (!u->rs[i]) {
    if (sqlite3_prepare_v2(u->db, k_rsql[i], -1, &u->rs[i], NULL) != SQLITE_OK) {
      db_fail(u->db, err, "cannot prepare report");
      return NULL;
    }
  } else {
    sqlite3_reset(u->rs[i]);
    sqlite3_clear_bindings(u->rs[i]);
  }
  return u->rs[i];
}

static const char *ctext(sqlite3_stmt *s, int i) {
  return (const char *)sqlite3_column_text(s, i);
}

/* a (hi, lo) column pair */
static kjs_sc_sum col_sum(sqlite3_stmt *s, int i) {
  kjs_sc_sum x = {sqlite3_column_int64(s, i), sqlite3_column_int64(s, i + 1)};
  return x;
}

/* Step s to its end, calling row(s, each, ctx) for each row: KJ_OK, the
 * callback's code, or KJ_EDB with err naming what. */
#define READ_ROWS(u, s, err, what, ...)                                                            \
  do {                                                                                             \
    int rc_;                                                                                       \
    kj_code cb_ = KJ_OK;                                                                           \
    while ((rc_ = sqlite3_step(s)) == SQLITE_ROW) {                                                \
      __VA_ARGS__;                                                                                 \
      if (cb_)                                                                                     \
        break;                                                                                     \
    }                                                                                              \
    sqlite3_reset(s);                                                                              \
    if (cb_)                                                                                       \
      return cb_;                                                                                  \
    if (rc_ != SQLITE_DONE)                                                                        \
      return db_fail((u)->db, (err), (what));                                                      \
    return KJ_OK;                                                                                  \
  } while (0)

static kj_code r_offices(void *h, kj_code (*each)(void *, const kjs_sc_office *), void *ctx,
                         kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = rst(u, R_OFFICES, err);
  if (!s)
    return KJ_EDB;
  READ_ROWS(u, s, err, "cannot read offices", {
    kjs_sc_office o = {ctext(s, 0), ctext(s, 1), sqlite3_column_type(s, 2) != SQLITE_NULL,
                       sqlite3_column_int64(s, 2)};
    cb_ = each(ctx, &o);
  });
}

static kj_code r_roster(void *h, const char *office, kj_code (*each)(void *, const kjs_sc_emp *),
                        void *ctx, kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = rst(u, R_ROSTER, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, office);
  READ_ROWS(u, s, err, "cannot read the roster", {
    kjs_sc_emp e = {ctext(s, 0), office, ctext(s, 1)};
    cb_ = each(ctx, &e);
  });
}

static kj_code r_targets(void *h, const char *office, const char *nip, const char *period,
                         kj_code (*each)(void *, const kjs_sc_target *), void *ctx, kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = rst(u, R_TARGETS, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, nip);
  btext(s, 2, period);
  btext(s, 4, office);
  READ_ROWS(u, s, err, "cannot read targets", {
    kjs_sc_target t = {ctext(s, 0), col_sum(s, 1), col_sum(s, 3)};
    cb_ = each(ctx, &t);
  });
}

static kj_code r_reals(void *h, const char *office, const char *nip, long long ym_lo,
                       long long ym_hi, kj_code (*each)(void *, const kjs_sc_real *), void *ctx,
                       kj_err *err) {
  sq *u = h;
  /* a whole year: its sums in sc_realyear, one row per indicator */
  int year = ym_lo % 100 == 1 && ym_hi == ym_lo + 11;
  sqlite3_stmt *s = rst(u, year ? R_REAL_YEAR : R_REAL, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, nip);
  sqlite3_bind_int64(s, 2, year ? ym_lo / 100 : ym_lo);
  if (!year)
    sqlite3_bind_int64(s, 3, ym_hi);
  btext(s, 4, office);
  READ_ROWS(u, s, err, "cannot read realisasi", {
    kjs_sc_real r = {ctext(s, 0), col_sum(s, 1)};
    cb_ = each(ctx, &r);
  });
}

static kj_code r_ratings(void *h, const char *office, const char *ratee, const char *period,
                         kj_code (*each)(void *, const kjs_sc_rating *), void *ctx, kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = rst(u, R_RATINGS, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, ratee);
  btext(s, 2, period);
  btext(s, 4, office);
  READ_ROWS(u, s, err, "cannot read ratings", {
    kjs_sc_rating r = {ctext(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2)};
    cb_ = each(ctx, &r);
  });
}

static kj_code r_surveys(void *h, const char *office, long long ym_lo, long long ym_hi,
                         kj_code (*each)(void *, const kjs_sc_survey *), void *ctx, kj_err *err) {
  sq *u = h;
  /* a whole year: its sums in sc_surveyyear, one row per service */
  int year = ym_lo % 100 == 1 && ym_hi == ym_lo + 11;
  sqlite3_stmt *s = rst(u, year ? R_SURVEYS_YEAR : R_SURVEYS, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, office);
  sqlite3_bind_int64(s, 2, year ? ym_lo / 100 : ym_lo);
  if (!year)
    sqlite3_bind_int64(s, 3, ym_hi);
  READ_ROWS(u, s, err, "cannot read surveys", {
    kjs_sc_survey v;
    v.service = ctext(s, 0);
    v.n = sqlite3_column_int64(s, 1);
    for (int i = 0; i < 9; i++)
      v.u[i] = sqlite3_column_int64(s, 2 + i);
    cb_ = each(ctx, &v);
  });
}

static kj_code r_cdays(void *h, const char *office, long long ym_lo, long long ym_hi,
                       kj_code (*each)(void *, const kjs_sc_cdays *), void *ctx, kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = rst(u, R_CDAYS, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, office);
  sqlite3_bind_int64(s, 2, ym_lo);
  sqlite3_bind_int64(s, 3, ym_hi);
  READ_ROWS(u, s, err, "cannot read complaints", {
    kjs_sc_cdays c = {sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1)};
    cb_ = each(ctx, &c);
  });
}

/* the one number of a counting statement */
static kj_code step_count(sq *u, sqlite3_stmt *s, long long *out, kj_err *err) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(s, 0);
    rc = sqlite3_step(s);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return db_fail(u->db, err, "cannot read compliance");
  return KJ_OK;
}

static kj_code r_cmp_range(void *h, int which, const char *office, long long lo, long long hi,
                           long long *out, kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = rst(u, which, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, office);
  sqlite3_bind_int64(s, 2, lo);
  sqlite3_bind_int64(s, 3, hi);
  *out = 0;
  return step_count(u, s, out, err);
}

static kj_code r_cmp_months(void *h, const char *office, long long ym_lo, long long ym_hi,
                            long long *out, kj_err *err) {
  return r_cmp_range(h, R_CMP_MONTHS, office, ym_lo, ym_hi, out, err);
}

static kj_code r_cmp_days(void *h, const char *office, long long day_lo, long long day_hi,
                          long long *out, kj_err *err) {
  return r_cmp_range(h, R_CMP_DAYS, office, day_lo, day_hi, out, err);
}

static kj_code r_cmp_day(void *h, const char *office, long long day, long long *out, kj_err *err) {
  sq *u = h;
  sqlite3_stmt *s = rst(u, R_CMP_DAY, err);
  if (!s)
    return KJ_EDB;
  btext(s, 1, office);
  sqlite3_bind_int64(s, 2, day);
  *out = 0;
  return step_count(u, s, out, err);
}

/* The report memo's change counters (score_store.h): main.sc_office_ver,
 * one upsert per office per transaction (u->touched lists those done; past
 * 4096 offices every touch runs, which is only slower). */
static kj_code w_office_touch(void *h, const char *office, kj_err *err) {
  sq *u = h;
  /* recompute --verify's copy: no change; "" is the store's own row */
  if (!office || !*office || strcmp(u->schema, "main"))
    return KJ_OK;
  for (int i = u->ntouched - 1; i >= 0; i--)
    if (!strcmp(u->touched[i], office))
      return KJ_OK;
  if (!u->ver_touch &&
      sqlite3_prepare_v2(u->db,
                         "INSERT INTO main.sc_office_ver(office,ver) VALUES(?1,1) ON "
                         "CONFLICT(office) DO UPDATE SET ver=ver+1",
                         -1, &u->ver_touch, NULL) != SQLITE_OK)
    return db_fail(u->db, err, "cannot update the change counters");
  /* the store's own row, at its first write */
  if (!u->ntouched &&
      sqlite3_exec(u->db,
                   "INSERT INTO main.sc_office_ver(office,ver) "
                   "VALUES('',abs(random()%1000000000000000)) ON CONFLICT DO NOTHING",
                   NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(u->db, err, "cannot update the change counters");
  sqlite3_bind_text(u->ver_touch, 1, office, -1, SQLITE_STATIC);
  int src = sqlite3_step(u->ver_touch);
  sqlite3_reset(u->ver_touch);
  sqlite3_clear_bindings(u->ver_touch);
  if (src != SQLITE_DONE)
    return db_fail(u->db, err, "cannot update the change counters");
  /* listed only inside the store's write transactions (kjs_score_sqlite_hold
   * to _flush or _discard) */
  if (!u->batch || u->ntouched >= 4096)
    return KJ_OK;
  if (u->ntouched == u->cap_touched) {
    int cap = u->cap_touched ? 2 * u->cap_touched : 16;
    char **t = realloc(u->touched, (size_t)cap * sizeof *t);
    if (!t)
      return KJ_OK; /* not listed: touched again next time */
    u->touched = t;
    u->cap_touched = cap;
  }
  char *c = strdup(office);
  if (c)
    u->touched[u->ntouched++] = c;
  return KJ_OK;
}

static kj_code r_office_vers(void *h, char *epoch, size_t size,
                             kj_code (*each)(void *, const char *, long long), void *ctx,
                             kj_err *err) {
  sq *u = h;
  if (size)
    epoch[0] = 0;
  int absent = 1;
  kj_code rc = table_absent(u->db, "epochs", &absent, err);
  if (rc)
    return rc;
  sqlite3_finalize(u->ver_read);
  u->ver_read = NULL;
  if (sqlite3_prepare_v2(u->db,
                         absent ? "SELECT office,ver,'' FROM main.sc_office_ver"
                                : "SELECT office,ver,(SELECT epoch FROM main.epochs ORDER BY n "
                                  "DESC LIMIT 1) FROM main.sc_office_ver",
                         -1, &u->ver_read, NULL) != SQLITE_OK)
    return db_fail(u->db, err, "cannot read the change counters");
  int src, first = 1;
  while (!rc && (src = sqlite3_step(u->ver_read)) == SQLITE_ROW) {
    const char *e = (const char *)sqlite3_column_text(u->ver_read, 2);
    if (first && size)
      snprintf(epoch, size, "%s", e ? e : "");
    first = 0;
    const char *o = (const char *)sqlite3_column_text(u->ver_read, 0);
    rc = each(ctx, o ? o : "", sqlite3_column_int64(u->ver_read, 1));
  }
  if (!rc && src != SQLITE_DONE)
    rc = db_fail(u->db, err, "cannot read the change counters");
  sqlite3_reset(u->ver_read);
  return rc;
}

static const kjs_score_store_ops k_sqlite_ops = {
    .office_put = w_office_put,
    .office_del = w_office_del,
    .emp_put = w_emp_put,
    .emp_del = w_emp_del,
    .survey_add = w_survey_add,
    .cdays_add = w_cdays_add,
    .real_add = w_real_add,
    .actday_add = w_actday_add,
    .actmonth_add = w_actmonth_add,
    .target_add = w_target_add,
    .rating_add = w_rating_add,
    .offices = r_offices,
    .roster = r_roster,
    .targets = r_targets,
    .reals = r_reals,
    .ratings = r_ratings,
    .surveys = r_surveys,
    .cdays = r_cdays,
    .cmp_months = r_cmp_months,
    .cmp_days = r_cmp_days,
    .cmp_day = r_cmp_day,
    .office_touch = w_office_touch,
    .office_vers = r_office_vers,
};

static void sq_init(sq *u, sqlite3 *db, const char *schema) {
  memset(u, 0, sizeof *u);
  u->db = db;
  u->schema = schema;
  u->store.ops = &k_sqlite_ops;
  u->store.h = u;
}

/* ---------------------------------------------------------------------- */
/* one store per connection */

/* Prepared statements are kept per connection (a push applies thousands of
 * records; preparing each statement each time would cost more than running
 * it).  They are finalized when the connection closes: a
 * SQLITE_TRACE_CLOSE callback runs before sqlite3_close checks for
 * unfinalized statements. */
typedef struct ucache {
  sqlite3 *db;
  sq u;
  struct ucache *next;
} ucache;

static pthread_mutex_t g_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static ucache *g_caches;

static int on_close(unsigned type, void *ctx, void *p, void *x) {
  (void)ctx;
  (void)x;
  if (type != SQLITE_TRACE_CLOSE)
    return 0;
  pthread_mutex_lock(&g_cache_mu);
  ucache **pp = &g_caches, *c = NULL;
  for (; *pp; pp = &(*pp)->next)
    if ((*pp)->db == (sqlite3 *)p) {
      c = *pp;
      *pp = c->next;
      break;
    }
  pthread_mutex_unlock(&g_cache_mu);
  if (c) {
    sq_release(&c->u);
    free(c);
  }
  return 0;
}

kjs_score_store *kjs_score_sqlite(sqlite3 *db) {
  pthread_mutex_lock(&g_cache_mu);
  ucache *c = g_caches;
  while (c && c->db != db)
    c = c->next;
  if (!c && (c = calloc(1, sizeof *c))) {
    c->db = db;
    sq_init(&c->u, db, "main");
    c->next = g_caches;
    g_caches = c;
    sqlite3_trace_v2(db, SQLITE_TRACE_CLOSE, on_close, NULL);
  }
  pthread_mutex_unlock(&g_cache_mu);
  return c ? &c->u.store : NULL;
}

/* The store of db when there is one (no new one made). */
static sq *cached(sqlite3 *db) {
  pthread_mutex_lock(&g_cache_mu);
  ucache *c = g_caches;
  while (c && c->db != db)
    c = c->next;
  pthread_mutex_unlock(&g_cache_mu);
  return c ? &c->u : NULL;
}

void kjs_score_sqlite_hold(sqlite3 *db) {
  kjs_score_store *ss = kjs_score_sqlite(db);
  sq *u = ss ? ss->h : NULL;
  if (u) {
    sv_forget(u);
    touched_forget(u);
    u->batch = 1;
  }
}

kj_code kjs_score_sqlite_flush(sqlite3 *db, kj_err *err) {
  sq *u = cached(db);
  if (!u)
    return KJ_OK;
  u->batch = 0;
  touched_forget(u);
  return held(u) ? sv_flush(u, err) : KJ_OK;
}

void kjs_score_sqlite_discard(sqlite3 *db) {
  sq *u = cached(db);
  if (u) {
    sv_forget(u);
    touched_forget(u);
    u->batch = 0;
  }
}

/* ---------------------------------------------------------------------- */
/* recompute */

static kj_code exec_fmt(sqlite3 *db, kj_err *err, const char *fmt, const char *a, const char *b) {
  char sql[512];
  snprintf(sql, sizeof sql, fmt, a, b);
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(db, err, "recompute");
  return KJ_OK;
}

static kj_code fill_from_records(sqlite3 *db, const char *schema, kj_err *err) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, "SELECT type, id, state FROM records WHERE deleted=0", -1, &s, NULL) !=
      SQLITE_OK)
    return db_fail(db, err, "cannot read records");
  sq u;
  sq_init(&u, db, schema);
  int rc, bad = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *state = (const char *)sqlite3_column_text(s, 2);
    cJSON *j = state ? cJSON_Parse(state) : NULL;
    kj_rstate st;
    kj_err e;
    if (!j || kj_rstate_from_json(j, &st, &e) != KJ_OK) {
      cJSON_Delete(j);
      bad = 1;
      break;
    }
    cJSON_Delete(j);
    kj_code arc = kjs_score_update(&u.store, NULL, &st.rec, err);
    kj_rstate_release(&st);
    if (arc) {
      sqlite3_finalize(s);
      sq_release(&u);
      return arc;
    }
  }
  if (bad) {
    char id[64];
    snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    sq_release(&u);
    return kj_fail(err, KJ_EDB, "record '%s' has an unreadable state", id);
  }
  sqlite3_finalize(s);
  sq_release(&u);
  if (rc != SQLITE_DONE)
    return db_fail(db, err, "cannot read records");
  return KJ_OK;
}

/* Count in *ndiff (and list in diffs, when given) the rows of a.table that
 * b.table lacks. */
static kj_code list_only(sqlite3 *db, const char *table, const char *a, const char *b,
                         const char *label, kj_buf *diffs, int *ndiff, kj_err *err) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT * FROM %s.%s EXCEPT SELECT * FROM %s.%s", a, table, b, table);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(db, err, "cannot compare");
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    (*ndiff)++;
    if (!diffs)
      continue;
    kj_buf_addf(diffs, "%s: %s only: ", table, label);
    int nc = sqlite3_column_count(s);
    for (int i = 0; i < nc; i++) {
      const unsigned char *t = sqlite3_column_text(s, i);
      kj_buf_addf(diffs, "%s%s=%s", i ? " " : "", sqlite3_column_name(s, i),
                  t ? (const char *)t : "NULL");
    }
    kj_buf_addc(diffs, '\n');
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE)
    return db_fail(db, err, "cannot compare");
  return KJ_OK;
}

kj_code kjs_score_sqlite_rebuild(sqlite3 *db, int verify, kj_buf *diffs, int *ndiff, kj_err *err) {
  kj_code rc = kjs_score_sqlite_flush(db, err); /* what is held back is compared too */
  if (!rc)
    rc = kjs_score_sqlite_schema(db, err);
  if (ndiff)
    *ndiff = 0;
  if (rc)
    return rc;
  if (!verify) {
    for (int i = 0; i < NTABLES; i++)
      if ((rc = exec_fmt(db, err, "DELETE FROM %s.%s", "main", k_names[i])))
        return rc;
    /* the store's own change counter: reports kept from before are old */
    if ((rc = exec_fmt(db, err,
                       "INSERT INTO %s.sc_office_ver(office,ver) VALUES('%s',abs(random()%%"
                       "1000000000000000)) ON CONFLICT(office) DO UPDATE SET ver=ver+1",
                       "main", "")))
      return rc;
    return fill_from_records(db, "main", err);
  }
  for (int i = 0; i < NTABLES; i++)
    if ((rc = exec_fmt(db, err, "DROP TABLE IF EXISTS %s.%s", "temp", k_names[i])))
      return rc;
  rc = create_tables(db, "temp", 0, NTABLES, err);
  if (!rc)
    rc = fill_from_records(db, "temp", err);
  int n = 0;
  for (int i = 0; !rc && i < NTABLES; i++) {
    rc = list_only(db, k_names[i], "main", "temp", "maintained", diffs, &n, err);
    if (!rc)
      rc = list_only(db, k_names[i], "temp", "main", "recomputed", diffs, &n, err);
  }
  for (int i = 0; i < NTABLES; i++) {
    char sql[64];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS temp.%s", k_names[i]);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
  }
  if (!rc && ndiff)
    *ndiff = n;
  return rc;
}

kj_code kjs_score_sqlite_cli_recompute(sqlite3 *db, int argc, char **argv, FILE *out, int *ndiff,
                                       kj_err *err) {
  int verify = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--verify"))
      verify = 1;
    else
      return kj_fail(err, KJ_EINVAL, "recompute: unexpected argument '%s'", argv[i]);
  }
  kj_buf d;
  kj_buf_init(&d, KJ_BUF_UNLIMITED);
  kj_code rc = kjs_score_sqlite_rebuild(db, verify, &d, ndiff, err);
  fputs(kj_buf_str(&d), out);
  kj_buf_release(&d);
  return rc;
}
