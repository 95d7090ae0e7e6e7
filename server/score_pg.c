/* score_pg.c - the score store (score_store.h) on PostgreSQL, through libpq.
 *
 * The same twelve tables as server/score_sqlite.c (docs/scoring.md
 * "Aggregates"), with BIGINT numbers and text keys COLLATE "C" (byte order,
 * as SQLite's BINARY), so the reports built from either store are the same
 * bytes.  Sums of values * 1e6 are two columns hi * 1e18 + lo, 0 <= lo <
 * 1e18, carried in SQL: one record adds less than 1e18, so lo + delta < 2e18
 * fits a BIGINT.  A counted row is upserted (INSERT ... ON CONFLICT DO
 * UPDATE ... RETURNING its count) and deleted when the count comes back to
 * zero, so incremental upkeep and a rebuild give the same rows.
 *
 * Parameters go as text; every statement is prepared once per connection.
 * Concurrency: each upsert takes the row lock of its row, so two
 * transactions adding to the same aggregate row serialise on it (READ
 * COMMITTED's ON CONFLICT DO UPDATE never loses an increment); the caller's
 * transaction decides what else is isolated.
 */
#include "score_pg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define E18S "1000000000000000000"

static const char *const k_ddl[] = {
    "CREATE TABLE IF NOT EXISTS sc_office(code TEXT COLLATE \"C\" PRIMARY KEY, name TEXT, "
    "population BIGINT)",
    "CREATE TABLE IF NOT EXISTS sc_emp(nip TEXT COLLATE \"C\" PRIMARY KEY, office TEXT COLLATE "
    "\"C\" NOT NULL, name TEXT)",
    "CREATE TABLE IF NOT EXISTS sc_survey(office TEXT COLLATE \"C\" NOT NULL, ym BIGINT NOT NULL, "
    "service TEXT COLLATE \"C\" NOT NULL, n BIGINT NOT NULL, u1 BIGINT NOT NULL, u2 BIGINT NOT "
    "NULL, u3 BIGINT NOT NULL, u4 BIGINT NOT NULL, u5 BIGINT NOT NULL, u6 BIGINT NOT NULL, u7 "
    "BIGINT NOT NULL, u8 BIGINT NOT NULL, u9 BIGINT NOT NULL, PRIMARY KEY(office, ym, service))",
    "CREATE TABLE IF NOT EXISTS sc_cdays(office TEXT COLLATE \"C\" NOT NULL, ym BIGINT NOT NULL, "
    "days BIGINT NOT NULL, cnt BIGINT NOT NULL, PRIMARY KEY(office, ym, days))",
    "CREATE TABLE IF NOT EXISTS sc_real(office TEXT COLLATE \"C\" NOT NULL, nip TEXT COLLATE "
    "\"C\" NOT NULL, indicator TEXT COLLATE \"C\" NOT NULL, ym BIGINT NOT NULL, qty_hi BIGINT NOT "
    "NULL, qty_lo BIGINT NOT NULL, cnt BIGINT NOT NULL, PRIMARY KEY(office, nip, indicator, ym))",
    "CREATE TABLE IF NOT EXISTS sc_actday(office TEXT COLLATE \"C\" NOT NULL, nip TEXT COLLATE "
    "\"C\" NOT NULL, day BIGINT NOT NULL, wd BIGINT NOT NULL, cnt BIGINT NOT NULL, PRIMARY "
    "KEY(office, nip, day))",
    "CREATE TABLE IF NOT EXISTS sc_actmonth(office TEXT COLLATE \"C\" NOT NULL, nip TEXT COLLATE "
    "\"C\" NOT NULL, ym BIGINT NOT NULL, days BIGINT NOT NULL, PRIMARY KEY(office, nip, ym))",
    "CREATE TABLE IF NOT EXISTS sc_target(office TEXT COLLATE \"C\" NOT NULL, nip TEXT COLLATE "
    "\"C\" NOT NULL, period TEXT COLLATE \"C\" NOT NULL, indicator TEXT COLLATE \"C\" NOT NULL, "
    "target_hi BIGINT NOT NULL, target_lo BIGINT NOT NULL, weight_hi BIGINT NOT NULL, weight_lo "
    "BIGINT NOT NULL, cnt BIGINT NOT NULL, PRIMARY KEY(office, nip, period, indicator))",
    "CREATE TABLE IF NOT EXISTS sc_rating(office TEXT COLLATE \"C\" NOT NULL, ratee TEXT COLLATE "
    "\"C\" NOT NULL, period TEXT COLLATE \"C\" NOT NULL, role TEXT COLLATE \"C\" NOT NULL, total "
    "BIGINT NOT NULL, cnt BIGINT NOT NULL, PRIMARY KEY(office, ratee, period, role))",
    "CREATE INDEX IF NOT EXISTS sc_emp_office ON sc_emp(office, nip)",
};

/* The report aggregates, made afresh and filled from the tables they sum by
 * the schema migration 3 (kjs_score_pg_aggregates): the year sums of
 * sc_real and of sc_survey, the roster's sums of sc_actmonth, and the
 * report memo's change counters. */
static const char *const k_ddl_aggr[] = {
    "CREATE TABLE IF NOT EXISTS sc_realyear(y BIGINT NOT NULL, office TEXT COLLATE \"C\" NOT NULL, "
    "nip TEXT COLLATE \"C\" NOT NULL, indicator TEXT COLLATE \"C\" NOT NULL, qty_hi BIGINT NOT "
    "NULL, qty_lo BIGINT NOT NULL, cnt BIGINT NOT NULL, PRIMARY KEY(y, office, nip, indicator))",
    "CREATE TABLE IF NOT EXISTS sc_cmpmonth(office TEXT COLLATE \"C\" NOT NULL, ym BIGINT NOT "
    "NULL, days BIGINT NOT NULL, PRIMARY KEY(office, ym))",
    /* the offices' change counters (the report memo, server/score.c); ""
     * is the store's own row, from a random start at the first write (an
     * empty store stays empty: migrate-store copies into one) */
    "CREATE TABLE IF NOT EXISTS sc_office_ver(office TEXT COLLATE \"C\" PRIMARY KEY, ver BIGINT "
    "NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sc_surveyyear(y BIGINT NOT NULL, office TEXT COLLATE \"C\" NOT "
    "NULL, service TEXT COLLATE \"C\" NOT NULL, n BIGINT NOT NULL, u1 BIGINT NOT NULL, u2 BIGINT "
    "NOT NULL, u3 BIGINT NOT NULL, u4 BIGINT NOT NULL, u5 BIGINT NOT NULL, u6 BIGINT NOT NULL, u7 "
    "BIGINT NOT NULL, u8 BIGINT NOT NULL, u9 BIGINT NOT NULL, PRIMARY KEY(y, office, service))",
    /* the year report's reads of a period's targets and ratings in the
     * order of S_TARGETS_ALL and S_RATINGS_ALL (no sort), the columns read
     * included (an index-only scan once vacuumed) */
    "CREATE INDEX IF NOT EXISTS sc_target_period ON sc_target(period, office, nip, indicator) "
    "INCLUDE (target_hi, target_lo, weight_hi, weight_lo)",
    "CREATE INDEX IF NOT EXISTS sc_rating_period ON sc_rating(period, office, ratee, role) "
    "INCLUDE (total, cnt)",
};

static const char *const k_tables[] = {"sc_office", "sc_emp",      "sc_survey",   "sc_cdays",
                                       "sc_real",   "sc_actday",   "sc_actmonth", "sc_target",
                                       "sc_rating", "sc_realyear", "sc_cmpmonth", "sc_surveyyear"};

/* The statements, prepared as "kjsc_<index>".  An _ADD statement's
 * parameters are the row's keys, then the signed values, then the signed
 * count; it returns the count after the change.  Its _GC statement deletes
 * the row of the same keys whose count is zero. */
enum {
  S_OFFICE_PUT,
  S_OFFICE_DEL,
  S_EMP_PUT,
  S_EMP_DEL,
  S_SURVEY_ADD,
  S_SURVEY_GC,
  S_CDAYS_ADD,
  S_CDAYS_GC,
  S_REAL_GC,
  S_ACTDAY_ADD,
  S_ACTDAY_GC,
  S_ACTMONTH_GC,
  S_TARGET_ADD,
  S_TARGET_GC,
  S_RATING_ADD,
  S_RATING_GC,
  S_OFFICES,
  S_ROSTER,
  S_TARGETS,
  S_REALS,
  S_RATINGS,
  S_SURVEYS,
  S_CDAYS,
  S_CMP_MONTHS,
  S_CMP_DAYS,
  S_CMP_DAY,
  S_SURVEYS_ALL,
  S_CDAYS_ALL,
  S_ROSTER_ALL,
  S_TARGETS_ALL,
  S_REALS_ALL,
  S_RATINGS_ALL,
  S_CMP_MONTHS_ALL,
  S_CMP_DAYS_ALL,
  S_CMP_DAY_ALL,
  S_REAL2_ADD,
  S_REALY_GC,
  S_ACTMONTH2_ADD,
  S_CMPM_GC,
  S_CMPM_SUB,
  S_CMPM_SUBGC,
  S_CMPM_PLUS,
  S_REALS_YEAR,
  S_REALS_YEAR_ALL,
  S_VER_TOUCH,
  S_VERS,
  S_VERS_EPOCH,
  S_SURVEY2_ADD,
  S_SURVEYY_GC,
  S_SURVEYS_YEAR,
  S_SURVEYS_YEAR_ALL,
  S__COUNT
};

/* hi, lo of a (hi, lo) pair: hi + delta_hi, plus a carry when lo overflows */
#define CARRY(c) c "_hi=t." c "_hi+EXCLUDED." c "_hi+(t." c "_lo+EXCLUDED." c "_lo>=" E18S ")::int,"
#define LOW(c) c "_lo=(t." c "_lo+EXCLUDED." c "_lo)%" E18S ","
/* a survey row's sums plus the added ones, returning its count */
#define SV_SUMS                                                                                    \
  "u1=t.u1+EXCLUDED.u1,u2=t.u2+EXCLUDED.u2,u3=t.u3+EXCLUDED.u3,u4=t.u4+EXCLUDED.u4,"               \
  "u5=t.u5+EXCLUDED.u5,u6=t.u6+EXCLUDED.u6,u7=t.u7+EXCLUDED.u7,u8=t.u8+EXCLUDED.u8,"               \
  "u9=t.u9+EXCLUDED.u9,n=t.n+EXCLUDED.n RETURNING n"

static const char *const k_sql[S__COUNT] = {
    [S_OFFICE_PUT] =
        "INSERT INTO sc_office(code,name,population) VALUES($1,$2,$3) ON "
        "CONFLICT(code) DO UPDATE SET name=EXCLUDED.name,population=EXCLUDED.population",
    [S_OFFICE_DEL] = "DELETE FROM sc_office WHERE code=$1",
    [S_EMP_PUT] = "INSERT INTO sc_emp(nip,office,name) VALUES($1,$2,$3) ON CONFLICT(nip) DO "
                  "UPDATE SET office=EXCLUDED.office,name=EXCLUDED.name",
    [S_EMP_DEL] = "DELETE FROM sc_emp WHERE nip=$1",
    [S_SURVEY_ADD] =
        "INSERT INTO sc_survey AS t(office,ym,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,n) "
        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT(office,ym,service) DO "
        "UPDATE SET u1=t.u1+EXCLUDED.u1,u2=t.u2+EXCLUDED.u2,u3=t.u3+EXCLUDED.u3,"
        "u4=t.u4+EXCLUDED.u4,u5=t.u5+EXCLUDED.u5,u6=t.u6+EXCLUDED.u6,u7=t.u7+EXCLUDED.u7,"
        "u8=t.u8+EXCLUDED.u8,u9=t.u9+EXCLUDED.u9,n=t.n+EXCLUDED.n RETURNING n",
    [S_SURVEY_GC] = "DELETE FROM sc_survey WHERE office=$1 AND ym=$2 AND service=$3 AND n=0",
    [S_CDAYS_ADD] = "INSERT INTO sc_cdays AS t(office,ym,days,cnt) VALUES($1,$2,$3,$4) ON "
                    "CONFLICT(office,ym,days) DO UPDATE SET cnt=t.cnt+EXCLUDED.cnt RETURNING cnt",
    [S_CDAYS_GC] = "DELETE FROM sc_cdays WHERE office=$1 AND ym=$2 AND days=$3 AND cnt=0",
    /* sc_real's and sc_actmonth's _ADD are S_REAL2_ADD and S_ACTMONTH2_ADD
     * (below: with their report aggregates) */
    [S_REAL_GC] = "DELETE FROM sc_real WHERE office=$1 AND nip=$2 AND indicator=$3 AND ym=$4 AND "
                  "cnt=0",
    [S_ACTDAY_ADD] = "INSERT INTO sc_actday AS t(office,nip,day,wd,cnt) VALUES($1,$2,$3,$4,$5) ON "
                     "CONFLICT(office,nip,day) DO UPDATE SET cnt=t.cnt+EXCLUDED.cnt RETURNING cnt",
    [S_ACTDAY_GC] = "DELETE FROM sc_actday WHERE office=$1 AND nip=$2 AND day=$3 AND cnt=0",
    [S_ACTMONTH_GC] = "DELETE FROM sc_actmonth WHERE office=$1 AND nip=$2 AND ym=$3 AND days=0",
    [S_TARGET_ADD] = "INSERT INTO sc_target AS t(office,nip,period,indicator,target_hi,target_lo,"
                     "weight_hi,weight_lo,cnt) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ON "
                     "CONFLICT(office,nip,period,indicator) DO UPDATE SET " CARRY("target")
                         LOW("target") CARRY("weight") LOW("weight") "cnt=t.cnt+EXCLUDED.cnt "
                                                                     "RETURNING cnt",
    [S_TARGET_GC] = "DELETE FROM sc_target WHERE office=$1 AND nip=$2 AND period=$3 AND "
                    "indicator=$4 AND cnt=0",
    [S_RATING_ADD] = "INSERT INTO sc_rating AS t(office,ratee,period,role,total,cnt) "
                     "VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT(office,ratee,period,role) DO UPDATE "
                     "SET total=t.total+EXCLUDED.total,cnt=t.cnt+EXCLUDED.cnt RETURNING cnt",
    [S_RATING_GC] = "DELETE FROM sc_rating WHERE office=$1 AND ratee=$2 AND period=$3 AND role=$4 "
                    "AND cnt=0",
    [S_OFFICES] = "SELECT code,name,population FROM sc_office ORDER BY code",
    [S_ROSTER] = "SELECT nip,name FROM sc_emp WHERE office=$1 ORDER BY nip",
    [S_TARGETS] = "SELECT indicator,target_hi,target_lo,weight_hi,weight_lo FROM sc_target WHERE "
                  "office=$1 AND nip=$2 AND period=$3 ORDER BY indicator",
    /* summed by the caller in 128 bits */
    [S_REALS] = "SELECT indicator,qty_hi,qty_lo FROM sc_real WHERE office=$1 AND nip=$2 AND ym "
                "BETWEEN $3 AND $4",
    [S_RATINGS] = "SELECT role,total,cnt FROM sc_rating WHERE office=$1 AND ratee=$2 AND "
                  "period=$3 ORDER BY role",
    [S_SURVEYS] = "SELECT service,sum(n),sum(u1),sum(u2),sum(u3),sum(u4),sum(u5),sum(u6),sum(u7),"
                  "sum(u8),sum(u9) FROM sc_survey WHERE office=$1 AND ym BETWEEN $2 AND $3 GROUP "
                  "BY service ORDER BY service",
    [S_CDAYS] = "SELECT days,sum(cnt) FROM sc_cdays WHERE office=$1 AND ym BETWEEN $2 AND $3 "
                "GROUP BY days ORDER BY days",
    /* compliance: activities of this office by its roster */
    [S_CMP_MONTHS] = "SELECT coalesce(sum(days),0) FROM sc_cmpmonth WHERE office=$1 AND ym "
                     "BETWEEN $2 AND $3",
    [S_CMP_DAYS] = "SELECT count(*) FROM sc_emp e JOIN sc_actday d ON d.office=e.office AND "
                   "d.nip=e.nip WHERE e.office=$1 AND d.day BETWEEN $2 AND $3 AND d.wd=1",
    [S_CMP_DAY] = "SELECT count(*) FROM sc_emp e JOIN sc_actday d ON d.office=e.office AND "
                  "d.nip=e.nip WHERE e.office=$1 AND d.day=$2",
    /* the offices report's batch reads (see "Batch reads"): S_SURVEYS,
     * S_CDAYS and S_ROSTER of every office at once, office first, in office
     * order */
    [S_SURVEYS_ALL] = "SELECT office,service,sum(n),sum(u1),sum(u2),sum(u3),sum(u4),sum(u5),"
                      "sum(u6),sum(u7),sum(u8),sum(u9) FROM sc_survey WHERE ym BETWEEN $1 AND $2 "
                      "GROUP BY office,service ORDER BY office,service",
    [S_CDAYS_ALL] = "SELECT office,days,sum(cnt) FROM sc_cdays WHERE ym BETWEEN $1 AND $2 GROUP "
                    "BY office,days ORDER BY office,days",
    [S_ROSTER_ALL] = "SELECT office,nip,name FROM sc_emp ORDER BY office,nip",
    /* ... and S_TARGETS, S_REALS (summed per indicator, (hi, lo) with
     * 0 <= lo < 1e18 as stored), S_RATINGS of every employee, office and
     * NIP first, in that order */
    [S_TARGETS_ALL] = "SELECT office,nip,indicator,target_hi,target_lo,weight_hi,weight_lo FROM "
                      "sc_target WHERE period=$1 ORDER BY office,nip,indicator",
    [S_REALS_ALL] = "SELECT office,nip,indicator,sum(qty_hi)+div(sum(qty_lo)," E18S
                    "),mod(sum(qty_lo)," E18S ") FROM sc_real WHERE ym BETWEEN $1 AND $2 "
                    "GROUP BY office,nip,indicator ORDER BY office,nip,indicator",
    [S_RATINGS_ALL] = "SELECT office,ratee,role,total,cnt FROM sc_rating WHERE period=$1 ORDER BY "
                      "office,ratee,role",
    /* ... and the compliance counts of every office with any, in office
     * order (S_CMP_DAY_ALL: one day, all offices) */
    [S_CMP_MONTHS_ALL] = "SELECT office,sum(days) FROM sc_cmpmonth WHERE ym BETWEEN $1 AND $2 "
                         "GROUP BY office ORDER BY office",
    [S_CMP_DAYS_ALL] = "SELECT e.office,count(*) FROM sc_emp e JOIN sc_actday d ON "
                       "d.office=e.office AND d.nip=e.nip WHERE d.day BETWEEN $1 AND $2 AND "
                       "d.wd=1 GROUP BY e.office ORDER BY e.office",
    [S_CMP_DAY_ALL] = "SELECT e.office,count(*) FROM sc_emp e JOIN sc_actday d ON "
                      "d.office=e.office AND d.nip=e.nip WHERE d.day=$1 GROUP BY e.office ORDER "
                      "BY e.office",
    /* Report aggregates.  sc_real and sc_realyear (its year, ym / 100)
     * in one round trip: the counts after, month row's then year row's */
    [S_REAL2_ADD] =
        "WITH y AS (INSERT INTO sc_realyear AS t(y,office,nip,indicator,qty_hi,qty_lo,cnt) "
        "VALUES($4::bigint/100,$1,$2,$3,$5,$6,$7) ON CONFLICT(y,office,nip,indicator) DO UPDATE "
        "SET " CARRY("qty")
            LOW("qty") "cnt=t.cnt+EXCLUDED.cnt RETURNING cnt), m AS (INSERT INTO "
                       "sc_real AS t(office,nip,indicator,ym,qty_hi,qty_lo,cnt) "
                       "VALUES($1,$2,$3,$4,$5,$6,$7) ON "
                       "CONFLICT(office,nip,indicator,ym) DO UPDATE SET " CARRY("qty")
                           LOW("qty") "cnt=t.cnt+"
                                      "EXCLUDED.cnt RETURNING cnt) SELECT m.cnt,y.cnt FROM m,y",
    [S_REALY_GC] = "DELETE FROM sc_realyear WHERE office=$1 AND nip=$2 AND indicator=$3 AND y=$4 "
                   "AND cnt=0",
    /* sc_actmonth and, when nip is on office's roster, sc_cmpmonth: the
     * days after, the month row's then the office row's (NULL: not on the
     * roster) */
    [S_ACTMONTH2_ADD] =
        "WITH m AS (INSERT INTO sc_actmonth AS t(office,nip,ym,days) VALUES($1,$2,$3,$4) ON "
        "CONFLICT(office,nip,ym) DO UPDATE SET days=t.days+EXCLUDED.days RETURNING days), c AS "
        "(INSERT INTO sc_cmpmonth AS t(office,ym,days) SELECT $1::text,$3::bigint,$4::bigint FROM "
        "sc_emp WHERE nip=$2 AND office=$1 ON CONFLICT(office,ym) DO UPDATE SET "
        "days=t.days+EXCLUDED.days RETURNING days) SELECT (SELECT days FROM m),(SELECT days FROM "
        "c)",
    [S_CMPM_GC] = "DELETE FROM sc_cmpmonth WHERE office=$1 AND ym=$2 AND days=0",
    /* a roster change of nip: its months out of sc_cmpmonth (before),
     * back in (after) */
    [S_CMPM_SUB] = "UPDATE sc_cmpmonth c SET days=c.days-m.days FROM sc_actmonth m JOIN sc_emp e "
                   "ON m.office=e.office AND m.nip=e.nip WHERE e.nip=$1 AND c.office=m.office AND "
                   "c.ym=m.ym",
    [S_CMPM_SUBGC] =
        "DELETE FROM sc_cmpmonth c USING sc_emp e WHERE e.nip=$1 AND c.office=e.office "
        "AND c.days=0",
    [S_CMPM_PLUS] = "INSERT INTO sc_cmpmonth AS t(office,ym,days) SELECT m.office,m.ym,m.days FROM "
                    "sc_actmonth m JOIN sc_emp e ON m.office=e.office AND m.nip=e.nip WHERE "
                    "e.nip=$1 ON CONFLICT(office,ym) DO UPDATE SET days=t.days+EXCLUDED.days",
    /* S_REALS and S_REALS_ALL of a whole year */
    [S_REALS_YEAR] = "SELECT indicator,qty_hi,qty_lo FROM sc_realyear WHERE y=$3 AND office=$1 AND "
                     "nip=$2",
    [S_REALS_YEAR_ALL] = "SELECT office,nip,indicator,qty_hi,qty_lo FROM sc_realyear WHERE y=$1 "
                         "ORDER BY office,nip,indicator",
    /* the report memo's change counters (score_store.h office_touch,
     * office_vers) */
    [S_VER_TOUCH] = "WITH g AS (INSERT INTO sc_office_ver(office,ver) VALUES('',(random()*1e15)"
                    "::bigint) ON CONFLICT DO NOTHING) INSERT INTO sc_office_ver AS t(office,ver) "
                    "VALUES($1,1) ON CONFLICT(office) DO UPDATE SET ver=t.ver+1",
    [S_VERS] = "SELECT office,ver,'' FROM sc_office_ver",
    [S_VERS_EPOCH] = "SELECT office,ver,(SELECT epoch FROM epochs ORDER BY n DESC LIMIT 1) FROM "
                     "sc_office_ver",
    /* sc_survey and sc_surveyyear (its year, ym / 100) in one round trip:
     * the counts after, month row's then year row's (S_SURVEY_ADD is kept
     * for the held statements' numbering only) */
    [S_SURVEY2_ADD] =
        "WITH y AS (INSERT INTO sc_surveyyear AS t(y,office,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,n) "
        "VALUES($2::bigint/100,$1,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON "
        "CONFLICT(y,office,service) DO UPDATE SET " SV_SUMS "), m AS (INSERT INTO sc_survey AS "
        "t(office,ym,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,n) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,"
        "$11,$12,$13) ON CONFLICT(office,ym,service) DO UPDATE SET " SV_SUMS ") SELECT m.n,y.n "
        "FROM m,y",
    [S_SURVEYY_GC] = "DELETE FROM sc_surveyyear WHERE office=$1 AND service=$2 AND y=$3 AND n=0",
    /* S_SURVEYS and S_SURVEYS_ALL of a whole year */
    [S_SURVEYS_YEAR] = "SELECT service,n,u1,u2,u3,u4,u5,u6,u7,u8,u9 FROM sc_surveyyear WHERE y=$2 "
                       "AND office=$1 ORDER BY service",
    [S_SURVEYS_YEAR_ALL] = "SELECT office,service,n,u1,u2,u3,u4,u5,u6,u7,u8,u9 FROM sc_surveyyear "
                           "WHERE y=$1 ORDER BY office,service",
};

/* ---------------------------------------------------------------------- */
/* running statements */

/* The kj_code of a failed result: a serialization failure, deadlock or lock
 * timeout is KJ_EBUSY (the caller may retry its transaction), a full disk
 * KJ_EFULL, out of memory KJ_ENOMEM, anything else KJ_EDB. */
static kj_code fail_res(PGconn *c, const PGresult *r, kj_err *err, const char *what) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  /* libpq returns NULL when it cannot allocate */
  int nomem = (!r && PQstatus(c) == CONNECTION_OK) || (state && !strcmp(state, "53200"));
  kj_code code = KJ_EDB;
  if (nomem)
    code = KJ_ENOMEM;
  else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")))
    code = KJ_EBUSY;
  else if (state && !strcmp(state, "53100"))
    code = KJ_EFULL;
  char msg[200];
  snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
    msg[--n] = 0;
  return kj_fail(err, code, "scores: %s: %s", what, n ? msg : "no answer from the server");
}

/* Note which kjsc_ statements the connection already has (an earlier
 * handle prepared them). */
static kj_code list_prepared(kjs_score_pg *h, kj_err *err) {
  PGresult *r =
      PQexec(h->conn, "SELECT name FROM pg_prepared_statements WHERE name LIKE 'kjsc\\_%'");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    kj_code rc = fail_res(h->conn, r, err, "cannot list prepared statements");
    PQclear(r);
    return rc;
  }
  for (int i = 0; i < PQntuples(r); i++) {
    int n = atoi(PQgetvalue(r, i, 0) + 5);
    if (n >= 0 && n < S__COUNT)
      h->prepared |= 1ULL << n;
  }
  PQclear(r);
  h->checked = 1;
  return KJ_OK;
}

static void drop_batch(kjs_score_pg *h);

/* Run statement i with its nparam text parameters (NULL = SQL NULL):
 * *out = the result (caller PQclears) when it succeeded, else a kj_code
 * with err naming what. */
static kj_code run(kjs_score_pg *h, int i, int nparam, const char *const *params, PGresult **out,
                   kj_err *err, const char *what) {
  char name[16];
  snprintf(name, sizeof name, "kjsc_%d", i);
  *out = NULL;
  /* a write: the batch reads are out of date */
  if (i < S_OFFICES || (i >= S_REAL2_ADD && i <= S_CMPM_PLUS) || i == S_SURVEY2_ADD ||
      i == S_SURVEYY_GC)
    drop_batch(h);
  if (!h->checked) {
    kj_code rc = list_prepared(h, err);
    if (rc)
      return rc;
  }
  if (!(h->prepared & (1ULL << i))) {
    PGresult *p = PQprepare(h->conn, name, k_sql[i], 0, NULL);
    if (PQresultStatus(p) != PGRES_COMMAND_OK) {
      kj_code rc = fail_res(h->conn, p, err, "cannot prepare");
      PQclear(p);
      return rc;
    }
    PQclear(p);
    h->prepared |= 1ULL << i;
  }
  h->statements++;
  PGresult *r = PQexecPrepared(h->conn, name, nparam, params, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    kj_code rc = fail_res(h->conn, r, err, what);
    PQclear(r);
    return rc;
  }
  *out = r;
  return KJ_OK;
}

/* A BIGINT or numeric (a sum) column: KJ_OK, or KJ_ETOOBIG/KJ_EDB with
 * err when it is not an integer that fits a long long. */
static kj_code col_ll(const PGresult *r, int row, int col, long long *out, kj_err *err) {
  const char *s = PQgetvalue(r, row, col);
  /* the common case, at most 18 digits (no overflow), without strtoll:
   * a report parses about 200,000 of them */
  const char *d = s + (*s == '-');
  long long v = 0;
  int n = 0;
  while (d[n] >= '0' && d[n] <= '9' && n < 19)
    v = v * 10 + (d[n++] - '0');
  if (n > 0 && n <= 18 && !d[n]) {
    *out = *s == '-' ? -v : v;
    return KJ_OK;
  }
  char *end = NULL;
  errno = 0;
  *out = strtoll(s, &end, 10);
  if (errno == ERANGE)
    return kj_fail(err, KJ_ETOOBIG, "scores: '%s' (%s) is beyond 64 bits", s, PQfname(r, col));
  if (end == s || *end)
    return kj_fail(err, KJ_EDB, "scores: %s is '%s', not an integer", PQfname(r, col), s);
  return KJ_OK;
}

/* a text column, NULL for SQL NULL */
static const char *col_text(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* room for the text of one long long */
typedef struct num {
  char s[24];
} num;

static const char *fmt(num *n, long long v) {
  /* decimal digits from the end, as "%lld" (statement parameters: a report
   * formats tens of thousands) */
  char t[sizeof n->s];
  char *p = t + sizeof t - 1;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  *p = 0;
  do
    *--p = (char)('0' + u % 10);
  while (u /= 10);
  if (v < 0)
    *--p = '-';
  memcpy(n->s, p, (size_t)(t + sizeof t - p));
  return n->s;
}

/* ---------------------------------------------------------------------- */
/* writes */

/* Run _ADD statement add (its parameters p[0..np), the last the signed
 * count); when the count came back to zero, the _GC statement gc over the
 * first nk parameters (the keys).  *cnt (may be NULL) = the count after. */
static kj_code add_row(kjs_score_pg *h, int add, int gc, const char *const *p, int np, int nk,
                       long long *cnt, kj_err *err) {
  PGresult *r;
  kj_code rc = run(h, add, np, p, &r, err, "cannot update aggregates");
  if (rc)
    return rc;
  long long n = 0;
  if (PQntuples(r) != 1)
    rc = kj_fail(err, KJ_EDB, "scores: an upsert returned %d rows", PQntuples(r));
  else
    rc = col_ll(r, 0, 0, &n, err);
  PQclear(r);
  if (rc)
    return rc;
  if (cnt)
    *cnt = n;
  if (n != 0)
    return KJ_OK;
  rc = run(h, gc, nk, p, &r, err, "cannot update aggregates");
  PQclear(r);
  return rc;
}

/* (hi, lo) of x, |x| < 1e18 (kjs_parse_dec6): x = hi * 1e18 + lo */
static void split(long long x, num *hi, num *lo) {
  long long h = x < 0 ? -1 : 0;
  fmt(hi, h);
  fmt(lo, x - h * 1000000000000000000LL);
}

static kj_code w_office_put(void *h, const kjs_sc_office *o, kj_err *err) {
  num pop[1];
  const char *p[3] = {o->code, o->name, NULL};
  if (o->have_pop)
    p[2] = fmt(&pop[0], o->pop);
  PGresult *r;
  kj_code rc = run(h, S_OFFICE_PUT, 3, p, &r, err, "cannot update offices");
  PQclear(r);
  return rc;
}

static kj_code w_office_del(void *h, const char *code, kj_err *err) {
  PGresult *r;
  kj_code rc = run(h, S_OFFICE_DEL, 1, &code, &r, err, "cannot update offices");
  PQclear(r);
  return rc;
}

/* Run statements i[0..n) in turn with the one parameter nip. */
static kj_code run_nip(kjs_score_pg *h, const int *i, int n, const char *nip, kj_err *err) {
  kj_code rc = KJ_OK;
  for (int k = 0; !rc && k < n; k++) {
    PGresult *r;
    rc = run(h, i[k], 1, &nip, &r, err, "cannot update the roster");
    PQclear(r);
  }
  return rc;
}

/* A roster change moves nip's compliance months in sc_cmpmonth: those of
 * its old office's rows go out before, those of its new office's come in
 * after (docs/scoring.md "Aggregates"). */
static const int k_emp_out[] = {S_CMPM_SUB, S_CMPM_SUBGC};

static kj_code w_emp_put(void *h, const kjs_sc_emp *e, kj_err *err) {
  const char *p[3] = {e->nip, e->office, e->name};
  PGresult *r;
  kj_code rc = run_nip(h, k_emp_out, 2, e->nip, err);
  if (rc)
    return rc;
  rc = run(h, S_EMP_PUT, 3, p, &r, err, "cannot update the roster");
  PQclear(r);
  if (rc)
    return rc;
  const int in[] = {S_CMPM_PLUS};
  return run_nip(h, in, 1, e->nip, err);
}

static kj_code w_emp_del(void *h, const char *nip, kj_err *err) {
  const int i[] = {S_CMPM_SUB, S_CMPM_SUBGC, S_EMP_DEL};
  return run_nip(h, i, 3, nip, err);
}

/* Run the two-table _ADD statement add (its parameters p[0..np)): it
 * returns the count after the change of each row, NULL when the second row
 * was not touched; a row whose count is back to zero is dropped by its
 * _GC statement (gc1 over p1[0..nk1), gc2 over p2[0..nk2)). */
static kj_code add_two(kjs_score_pg *h, int add, const char *const *p, int np, int gc1,
                       const char *const *p1, int nk1, int gc2, const char *const *p2, int nk2,
                       kj_err *err) {
  PGresult *r;
  kj_code rc = run(h, add, np, p, &r, err, "cannot update aggregates");
  if (rc)
    return rc;
  long long n[2] = {1, 1};
  if (PQntuples(r) != 1)
    rc = kj_fail(err, KJ_EDB, "scores: an upsert returned %d rows", PQntuples(r));
  for (int k = 0; !rc && k < 2; k++)
    if (!PQgetisnull(r, 0, k))
      rc = col_ll(r, 0, k, &n[k], err);
  PQclear(r);
  if (!rc && n[0] == 0) {
    rc = run(h, gc1, nk1, p1, &r, err, "cannot update aggregates");
    PQclear(r);
  }
  if (!rc && n[1] == 0) {
    rc = run(h, gc2, nk2, p2, &r, err, "cannot update aggregates");
    PQclear(r);
  }
  return rc;
}

static kj_code w_survey_add(void *h, const char *office, long long ym, const char *service,
                            const long long u[9], int sign, kj_err *err) {
  num n[11];
  const char *p[13] = {office, fmt(&n[0], ym), service};
  for (int i = 0; i < 9; i++)
    p[3 + i] = fmt(&n[1 + i], sign * u[i]);
  p[12] = fmt(&n[10], sign);
  num y;
  const char *py[3] = {office, service, fmt(&y, ym / 100)};
  return add_two(h, S_SURVEY2_ADD, p, 13, S_SURVEY_GC, p, 3, S_SURVEYY_GC, py, 3, err);
}

static kj_code w_cdays_add(void *h, const char *office, long long ym, long long days, int sign,
                           kj_err *err) {
  num n[3];
  const char *p[4] = {office, fmt(&n[0], ym), fmt(&n[1], days), fmt(&n[2], sign)};
  return add_row(h, S_CDAYS_ADD, S_CDAYS_GC, p, 4, 3, NULL, err);
}

static kj_code w_real_add(void *h, const char *office, const char *nip, const char *indicator,
                          long long ym, long long qty, int sign, kj_err *err) {
  num n[4];
  split(sign * qty, &n[1], &n[2]);
  const char *p[7] = {office, nip, indicator, fmt(&n[0], ym), n[1].s, n[2].s, fmt(&n[3], sign)};
  num y;
  const char *py[4] = {office, nip, indicator, fmt(&y, ym / 100)};
  return add_two(h, S_REAL2_ADD, p, 7, S_REAL_GC, p, 4, S_REALY_GC, py, 4, err);
}

static kj_code w_actday_add(void *h, const char *office, const char *nip, long long day, int wd,
                            int sign, long long *cnt, kj_err *err) {
  num n[3];
  const char *p[5] = {office, nip, fmt(&n[0], day), wd ? "1" : "0", fmt(&n[2], sign)};
  return add_row(h, S_ACTDAY_ADD, S_ACTDAY_GC, p, 5, 3, cnt, err);
}

static kj_code w_actmonth_add(void *h, const char *office, const char *nip, long long ym, int sign,
                              kj_err *err) {
  num n[2];
  const char *p[4] = {office, nip, fmt(&n[0], ym), fmt(&n[1], sign)};
  const char *pc[2] = {office, n[0].s};
  return add_two(h, S_ACTMONTH2_ADD, p, 4, S_ACTMONTH_GC, p, 3, S_CMPM_GC, pc, 2, err);
}

static kj_code w_target_add(void *h, const char *office, const char *nip, const char *period,
                            const char *indicator, long long target, long long weight, int sign,
                            kj_err *err) {
  num n[5];
  split(sign * target, &n[0], &n[1]);
  split(sign * weight, &n[2], &n[3]);
  const char *p[9] = {office, nip,    period, indicator,       n[0].s,
                      n[1].s, n[2].s, n[3].s, fmt(&n[4], sign)};
  return add_row(h, S_TARGET_ADD, S_TARGET_GC, p, 9, 4, NULL, err);
}

static kj_code w_rating_add(void *h, const char *office, const char *ratee, const char *period,
                            const char *role, long long total, int sign, kj_err *err) {
  num n[2];
  const char *p[6] = {office, ratee, period, role, fmt(&n[0], sign * total), fmt(&n[1], sign)};
  return add_row(h, S_RATING_ADD, S_RATING_GC, p, 6, 4, NULL, err);
}

/* ---------------------------------------------------------------------- */
/* reads */

/* Run read statement i, then for each row the block given last (it reads
 * row r_ of res_ and sets cb_: a column's failure or each's return). */
#define READ_ROWS(h, i, np, p, err, what, ...)                                                     \
  do {                                                                                             \
    PGresult *res_;                                                                                \
    kj_code cb_ = run((h), (i), (np), (p), &res_, (err), (what));                                  \
    for (int r_ = 0; !cb_ && r_ < PQntuples(res_); r_++) {                                         \
      __VA_ARGS__;                                                                                 \
    }                                                                                              \
    PQclear(res_);                                                                                 \
    return cb_;                                                                                    \
  } while (0)

/* Batch reads.  The offices report reads the office list, then for each
 * office its surveys, complaints, roster and compliance counts (activity
 * months, days of a partial month, each weekday holiday), and for each
 * employee of the roster its targets, realisasi and ratings: with 500
 * offices of 20 employees about 30,000 statements, each a round trip.
 * Instead, reading the office list turns batch reads on: the first read of
 * each kind then reads that kind for every office at once (S_*_ALL, rows
 * ordered by office, then NIP, kept in h->batch) and each office's (each
 * employee's) rows are found there by binary search; the rows and their
 * order are those of the one-office statement (realisasi come summed per
 * indicator, which is what the caller does with them).  Compliance counts
 * come one row per office with any (none: 0); the holiday count is one
 * statement per holiday, for all offices.  A report is so about 10
 * statements plus one per weekday holiday, whatever the number of offices
 * and employees.  The batch belongs to the transaction that read it (one
 * REPEATABLE READ snapshot for a report): kjs_score_pg_forget drops it at
 * the transaction's begin and end (db_pg.c), and any write here drops it
 * too. */
static void drop_batch(kjs_score_pg *h) {
  for (int i = 0; i < KJS_PG_B__COUNT; i++) {
    PQclear(h->batch[i]);
    h->batch[i] = NULL;
  }
  for (int i = 0; i < h->nday; i++)
    PQclear(h->day_res[i]);
  free(h->day_res);
  free(h->day_key);
  h->day_res = NULL;
  h->day_key = NULL;
  h->nday = h->cap_day = 0;
  h->batch_on = 0;
}

void kjs_score_pg_forget(kjs_score_pg *h) {
  drop_batch(h);
  for (int i = 0; i < h->ntouched; i++)
    free(h->touched[i]);
  free(h->touched);
  h->touched = NULL;
  h->ntouched = h->cap_touched = 0;
}

/* The batch b: statement i with the np parameters p, read for months (or
 * days) lo..hi and period (NULL: none), which tell a held batch is the
 * same.  *out = its result, owned by h. */
static kj_code batch_get(kjs_score_pg *h, int b, int i, int np, const char *const *p, long long lo,
                         long long hi, const char *period, PGresult **out, kj_err *err,
                         const char *what) {
  const char *per = period ? period : "";
  if (!h->batch[b] || h->batch_lo[b] != lo || h->batch_hi[b] != hi ||
      strcmp(h->batch_period[b], per)) {
    PQclear(h->batch[b]);
    h->batch[b] = NULL;
    if (strlen(per) >= sizeof h->batch_period[b])
      return kj_fail(err, KJ_EINVAL, "scores: %s: period '%.40s' is too long", what, per);
    PGresult *r;
    kj_code rc = run(h, i, np, p, &r, err, what);
    if (rc)
      return rc;
    h->batch[b] = r;
    h->batch_pos[b] = 0;
    h->batch_lo[b] = lo;
    h->batch_hi[b] = hi;
    snprintf(h->batch_period[b], sizeof h->batch_period[b], "%s", per);
  }
  *out = h->batch[b];
  return KJ_OK;
}

/* Row row of r against the key k[0..nk) (columns 0..nk-1, byte order as
 * COLLATE "C"): <0, 0, >0. */
static int key_cmp(const PGresult *r, int row, const char *const *k, int nk) {
  for (int i = 0; i < nk; i++) {
    int c = strcmp(PQgetvalue(r, row, i), k[i]);
    if (c)
      return c;
  }
  return 0;
}

/* The first row of r whose key (columns 0..nk-1) is not below k. */
static int batch_first(const PGresult *r, const char *const *k, int nk) {
  int lo = 0, hi = PQntuples(r);
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (key_cmp(r, mid, k, nk) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The first row of batch b (its result r) whose key is not below k: the
 * row after the last read when that is it (the report asks for offices and
 * employees in key order: two comparisons), else by binary search. */
static int batch_seek(const kjs_score_pg *h, int b, const PGresult *r, const char *const *k,
                      int nk) {
  int at = h->batch_pos[b];
  if (at >= 0 && at <= PQntuples(r) && (at == PQntuples(r) || key_cmp(r, at, k, nk) >= 0) &&
      (at == 0 || key_cmp(r, at - 1, k, nk) < 0))
    return at;
  return batch_first(r, k, nk);
}

/* Rows of one office (one employee): those of batch b when batch reads are
 * on (statement all with its params pall, keyed by months lo..hi and
 * period; the key k[0..nk) in columns 0..nk-1, the one-office statement's
 * columns after them), else statement one's with params p.  For each row,
 * the block given last reads row r_ of res_ from column c_ and sets cb_. */
#define READ_BATCH_ROWS(h, b, all, npall, pall, lo, hi, period, one, np, p, k, nk, err, what, ...) \
  do {                                                                                             \
    kjs_score_pg *hh_ = (h);                                                                       \
    if (!hh_->batch_on)                                                                            \
      READ_ROWS(hh_, one, np, p, err, what, {                                                      \
        const int c_ = 0;                                                                          \
        __VA_ARGS__;                                                                               \
      });                                                                                          \
    PGresult *res_;                                                                                \
    kj_code cb_ = batch_get(hh_, b, all, npall, pall, lo, hi, period, &res_, err, what);           \
    if (cb_)                                                                                       \
      return cb_;                                                                                  \
    int r_ = batch_seek(hh_, b, res_, k, nk);                                                      \
    for (; !cb_ && r_ < PQntuples(res_) && !key_cmp(res_, r_, k, nk); r_++) {                      \
      const int c_ = (nk);                                                                         \
      __VA_ARGS__;                                                                                 \
    }                                                                                              \
    hh_->batch_pos[b] = r_;                                                                        \
    return cb_;                                                                                    \
  } while (0)

static kj_code r_offices(void *h, kj_code (*each)(void *, const kjs_sc_office *), void *ctx,
                         kj_err *err) {
  /* the offices report starts here: batch reads from now on, fresh ones */
  drop_batch(h);
  ((kjs_score_pg *)h)->batch_on = 1;
  READ_ROWS(h, S_OFFICES, 0, NULL, err, "cannot read offices", {
    kjs_sc_office o = {col_text(res_, r_, 0), col_text(res_, r_, 1), !PQgetisnull(res_, r_, 2), 0};
    if (o.have_pop)
      cb_ = col_ll(res_, r_, 2, &o.pop, err);
    if (!cb_)
      cb_ = each(ctx, &o);
  });
}

static kj_code r_roster(void *h, const char *office, kj_code (*each)(void *, const kjs_sc_emp *),
                        void *ctx, kj_err *err) {
  const char *p[1] = {office};
  READ_BATCH_ROWS(h, KJS_PG_B_ROSTER, S_ROSTER_ALL, 0, NULL, 0, 0, NULL, S_ROSTER, 1, p, p, 1, err,
                  "cannot read the roster", {
                    kjs_sc_emp e = {col_text(res_, r_, c_), office, col_text(res_, r_, c_ + 1)};
                    cb_ = each(ctx, &e);
                  });
}

/* a (hi, lo) column pair */
static kj_code col_sum(const PGresult *r, int row, int col, kjs_sc_sum *s, kj_err *err) {
  kj_code rc = col_ll(r, row, col, &s->hi, err);
  return rc ? rc : col_ll(r, row, col + 1, &s->lo, err);
}

static kj_code r_targets(void *h, const char *office, const char *nip, const char *period,
                         kj_code (*each)(void *, const kjs_sc_target *), void *ctx, kj_err *err) {
  const char *p[3] = {office, nip, period};
  READ_BATCH_ROWS(h, KJS_PG_B_TARGETS, S_TARGETS_ALL, 1, p + 2, 0, 0, period, S_TARGETS, 3, p, p, 2,
                  err, "cannot read targets", {
                    kjs_sc_target t = {col_text(res_, r_, c_), {0, 0}, {0, 0}};
                    cb_ = col_sum(res_, r_, c_ + 1, &t.target, err);
                    if (!cb_)
                      cb_ = col_sum(res_, r_, c_ + 3, &t.weight, err);
                    if (!cb_)
                      cb_ = each(ctx, &t);
                  });
}

static kj_code r_reals(void *h, const char *office, const char *nip, long long ym_lo,
                       long long ym_hi, kj_code (*each)(void *, const kjs_sc_real *), void *ctx,
                       kj_err *err) {
  num n[2];
  const char *p[4] = {office, nip, fmt(&n[0], ym_lo), fmt(&n[1], ym_hi)};
  if (ym_lo % 100 == 1 && ym_hi == ym_lo + 11) {
    /* a whole year: its sums in sc_realyear, one row per indicator */
    num y;
    const char *py[3] = {office, nip, fmt(&y, ym_lo / 100)};
    READ_BATCH_ROWS(h, KJS_PG_B_REALS, S_REALS_YEAR_ALL, 1, py + 2, ym_lo, ym_hi, NULL,
                    S_REALS_YEAR, 3, py, py, 2, err, "cannot read realisasi", {
                      kjs_sc_real x = {col_text(res_, r_, c_), {0, 0}};
                      cb_ = col_sum(res_, r_, c_ + 1, &x.qty, err);
                      if (!cb_)
                        cb_ = each(ctx, &x);
                    });
  }
  READ_BATCH_ROWS(h, KJS_PG_B_REALS, S_REALS_ALL, 2, p + 2, ym_lo, ym_hi, NULL, S_REALS, 4, p, p, 2,
                  err, "cannot read realisasi", {
                    kjs_sc_real x = {col_text(res_, r_, c_), {0, 0}};
                    cb_ = col_sum(res_, r_, c_ + 1, &x.qty, err);
                    if (!cb_)
                      cb_ = each(ctx, &x);
                  });
}

static kj_code r_ratings(void *h, const char *office, const char *ratee, const char *period,
                         kj_code (*each)(void *, const kjs_sc_rating *), void *ctx, kj_err *err) {
  const char *p[3] = {office, ratee, period};
  READ_BATCH_ROWS(h, KJS_PG_B_RATINGS, S_RATINGS_ALL, 1, p + 2, 0, 0, period, S_RATINGS, 3, p, p, 2,
                  err, "cannot read ratings", {
                    kjs_sc_rating x = {col_text(res_, r_, c_), 0, 0};
                    cb_ = col_ll(res_, r_, c_ + 1, &x.total, err);
                    if (!cb_)
                      cb_ = col_ll(res_, r_, c_ + 2, &x.cnt, err);
                    if (!cb_)
                      cb_ = each(ctx, &x);
                  });
}

/* The survey sums of row r of res from column c on (service, n, u1..u9;
 * sc_surveys and sc_surveyyear alike) handed to each; a column that is
 * not a number fails with err. */
static kj_code survey_row(const PGresult *res, int r, int c,
                          kj_code (*each)(void *, const kjs_sc_survey *), void *ctx, kj_err *err) {
  kjs_sc_survey v;
  v.service = col_text(res, r, c);
  kj_code rc = col_ll(res, r, c + 1, &v.n, err);
  for (int i = 0; !rc && i < 9; i++)
    rc = col_ll(res, r, c + 2 + i, &v.u[i], err);
  return rc ? rc : each(ctx, &v);
}

static kj_code r_surveys(void *h, const char *office, long long ym_lo, long long ym_hi,
                         kj_code (*each)(void *, const kjs_sc_survey *), void *ctx, kj_err *err) {
  num n[2];
  const char *p[3] = {office, fmt(&n[0], ym_lo), fmt(&n[1], ym_hi)};
  if (ym_lo % 100 == 1 && ym_hi == ym_lo + 11) {
    /* a whole year: its sums in sc_surveyyear, one row per service */
    num y;
    const char *py[2] = {office, fmt(&y, ym_lo / 100)};
    READ_BATCH_ROWS(h, KJS_PG_B_SURVEYS, S_SURVEYS_YEAR_ALL, 1, py + 1, ym_lo, ym_hi, NULL,
                    S_SURVEYS_YEAR, 2, py, py, 1, err, "cannot read surveys",
                    { cb_ = survey_row(res_, r_, c_, each, ctx, err); });
  }
  READ_BATCH_ROWS(h, KJS_PG_B_SURVEYS, S_SURVEYS_ALL, 2, p + 1, ym_lo, ym_hi, NULL, S_SURVEYS, 3, p,
                  p, 1, err, "cannot read surveys",
                  { cb_ = survey_row(res_, r_, c_, each, ctx, err); });
}

static kj_code r_cdays(void *h, const char *office, long long ym_lo, long long ym_hi,
                       kj_code (*each)(void *, const kjs_sc_cdays *), void *ctx, kj_err *err) {
  num n[2];
  const char *p[3] = {office, fmt(&n[0], ym_lo), fmt(&n[1], ym_hi)};
  READ_BATCH_ROWS(h, KJS_PG_B_CDAYS, S_CDAYS_ALL, 2, p + 1, ym_lo, ym_hi, NULL, S_CDAYS, 3, p, p, 1,
                  err, "cannot read complaints", {
                    kjs_sc_cdays c = {0, 0};
                    cb_ = col_ll(res_, r_, c_, &c.days, err);
                    if (!cb_)
                      cb_ = col_ll(res_, r_, c_ + 1, &c.cnt, err);
                    if (!cb_)
                      cb_ = each(ctx, &c);
                  });
}

/* the one number of a counting statement i with np parameters */
static kj_code count(kjs_score_pg *h, int i, int np, const char *const *p, long long *out,
                     kj_err *err) {
  PGresult *r;
  *out = 0;
  kj_code rc = run(h, i, np, p, &r, err, "cannot read compliance");
  if (rc)
    return rc;
  if (PQntuples(r) != 1)
    rc = kj_fail(err, KJ_EDB, "scores: compliance: %d rows", PQntuples(r));
  else
    rc = col_ll(r, 0, 0, out, err);
  PQclear(r);
  return rc;
}

/* office's count in a batch of counts (rows office, count in office
 * order): 0 when it has no row */
static kj_code batch_count(const PGresult *r, const char *office, long long *out, kj_err *err) {
  const char *k[1] = {office};
  int row = batch_first(r, k, 1);
  *out = 0;
  if (row < PQntuples(r) && !key_cmp(r, row, k, 1))
    return col_ll(r, row, 1, out, err);
  return KJ_OK;
}

static kj_code r_cmp_months(void *h, const char *office, long long ym_lo, long long ym_hi,
                            long long *out, kj_err *err) {
  kjs_score_pg *hh = h;
  num n[2];
  const char *p[3] = {office, fmt(&n[0], ym_lo), fmt(&n[1], ym_hi)};
  if (!hh->batch_on)
    return count(h, S_CMP_MONTHS, 3, p, out, err);
  PGresult *r;
  *out = 0;
  kj_code rc = batch_get(hh, KJS_PG_B_CMP_MONTHS, S_CMP_MONTHS_ALL, 2, p + 1, ym_lo, ym_hi, NULL,
                         &r, err, "cannot read compliance");
  return rc ? rc : batch_count(r, office, out, err);
}

static kj_code r_cmp_days(void *h, const char *office, long long day_lo, long long day_hi,
                          long long *out, kj_err *err) {
  kjs_score_pg *hh = h;
  num n[2];
  const char *p[3] = {office, fmt(&n[0], day_lo), fmt(&n[1], day_hi)};
  if (!hh->batch_on)
    return count(h, S_CMP_DAYS, 3, p, out, err);
  PGresult *r;
  *out = 0;
  kj_code rc = batch_get(hh, KJS_PG_B_CMP_DAYS, S_CMP_DAYS_ALL, 2, p + 1, day_lo, day_hi, NULL, &r,
                         err, "cannot read compliance");
  return rc ? rc : batch_count(r, office, out, err);
}

static kj_code r_cmp_day(void *h, const char *office, long long day, long long *out, kj_err *err) {
  kjs_score_pg *hh = h;
  num n[1];
  const char *p[2] = {office, fmt(&n[0], day)};
  if (!hh->batch_on)
    return count(h, S_CMP_DAY, 2, p, out, err);
  /* one batch per holiday, all offices' counts on that day */
  int i = 0;
  while (i < hh->nday && hh->day_key[i] != day)
    i++;
  if (i == hh->nday) {
    if (hh->nday == hh->cap_day) {
      int cap = hh->cap_day ? 2 * hh->cap_day : 16;
      PGresult **res = realloc(hh->day_res, (size_t)cap * sizeof *res);
      if (!res)
        return kj_fail(err, KJ_ENOMEM, "out of memory");
      hh->day_res = res;
      long long *key = realloc(hh->day_key, (size_t)cap * sizeof *key);
      if (!key)
        return kj_fail(err, KJ_ENOMEM, "out of memory");
      hh->day_key = key;
      hh->cap_day = cap;
    }
    PGresult *r;
    kj_code rc = run(hh, S_CMP_DAY_ALL, 1, p + 1, &r, err, "cannot read compliance");
    if (rc)
      return rc;
    hh->day_res[i] = r;
    hh->day_key[i] = day;
    hh->nday++;
  }
  return batch_count(hh->day_res[i], office, out, err);
}

static kj_code table_absent(PGconn *c, const char *table, int *absent, kj_err *err);

/* The report memo's change counters (score_store.h).  office_touch runs
 * its upsert once per office per transaction: h->touched lists the offices
 * done (a linear search from the newest: a push touches a few offices; past
 * 4096 of them every touch runs, which is only slower). */
static kj_code w_office_touch(void *h, const char *office, kj_err *err) {
  kjs_score_pg *hh = h;
  if (!office || !*office) /* "" is the store's own row (no office has that code) */
    return KJ_OK;
  for (int i = hh->ntouched - 1; i >= 0; i--)
    if (!strcmp(hh->touched[i], office))
      return KJ_OK;
  PGresult *r;
  kj_code rc = run(hh, S_VER_TOUCH, 1, &office, &r, err, "cannot update the change counters");
  PQclear(r);
  /* listed inside a transaction only (kjs_score_pg_forget at its begin and
   * end empties the list) */
  if (rc || hh->ntouched >= 4096 || PQtransactionStatus(hh->conn) == PQTRANS_IDLE)
    return rc;
  if (hh->ntouched == hh->cap_touched) {
    int cap = hh->cap_touched ? 2 * hh->cap_touched : 16;
    char **t = realloc(hh->touched, (size_t)cap * sizeof *t);
    if (!t)
      return KJ_OK; /* not listed: touched again next time */
    hh->touched = t;
    hh->cap_touched = cap;
  }
  char *c = strdup(office);
  if (c)
    hh->touched[hh->ntouched++] = c;
  return KJ_OK;
}

static kj_code r_office_vers(void *h, char *epoch, size_t size,
                             kj_code (*each)(void *, const char *, long long), void *ctx,
                             kj_err *err) {
  kjs_score_pg *hh = h;
  if (size)
    epoch[0] = 0;
  if (!hh->epochs) {
    int absent = 0;
    kj_code rc = table_absent(hh->conn, "epochs", &absent, err);
    if (rc)
      return rc;
    hh->epochs = absent ? -1 : 1;
  }
  READ_ROWS(h, hh->epochs > 0 ? S_VERS_EPOCH : S_VERS, 0, NULL, err,
            "cannot read the change counters", {
              long long v = 0;
              cb_ = col_ll(res_, r_, 1, &v, err);
              if (!cb_ && r_ == 0 && size)
                snprintf(epoch, size, "%s", PQgetvalue(res_, r_, 2));
              if (!cb_)
                cb_ = each(ctx, PQgetvalue(res_, r_, 0), v);
            });
}

static void few_offices(void *h) {
  drop_batch(h);
}

static const kjs_score_store_ops k_pg_ops = {
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
    .few_offices = few_offices,
};

/* ---------------------------------------------------------------------- */
/* the handle, schema */

void kjs_score_pg_init(kjs_score_pg *h, PGconn *conn) {
  memset(h, 0, sizeof *h);
  h->conn = conn;
  h->store.ops = &k_pg_ops;
  h->store.h = h;
}

void kjs_score_pg_release(kjs_score_pg *h) {
  kjs_score_pg_forget(h);
  memset(h, 0, sizeof *h);
}

static kj_code exec_all(PGconn *c, const char *const *sql, size_t n, kj_err *err,
                        const char *what) {
  for (size_t i = 0; i < n; i++) {
    PGresult *r = PQexec(c, sql[i]);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      kj_code rc = fail_res(c, r, err, what);
      PQclear(r);
      return rc;
    }
    PQclear(r);
  }
  return KJ_OK;
}

/* The fills of the report aggregates from the tables they sum, for a
 * database made before them: sc_realyear from sc_real (hi, lo summed
 * without overflow: lo in halves of 10^9, each sum below 2^63 up to 9 * 10^9
 * rows), sc_cmpmonth from sc_actmonth on the roster. */
static const char *const k_fill_realyear =
    "INSERT INTO sc_realyear(y,office,nip,indicator,qty_hi,qty_lo,cnt) SELECT y,office,nip,"
    "indicator,h+(a+b/1000000000)/1000000000,((a+b/1000000000)%1000000000)*1000000000+b%1000000000,"
    "c FROM (SELECT ym/100 AS y,office,nip,indicator,sum(qty_hi)::bigint AS h,"
    "sum(qty_lo/1000000000)::bigint AS a,sum(qty_lo%1000000000)::bigint AS b,sum(cnt)::bigint AS c "
    "FROM sc_real GROUP BY ym/100,office,nip,indicator) s";
static const char *const k_fill_cmpmonth =
    "INSERT INTO sc_cmpmonth(office,ym,days) SELECT m.office,m.ym,sum(m.days) FROM sc_actmonth m "
    "JOIN sc_emp e ON e.office=m.office AND e.nip=m.nip GROUP BY m.office,m.ym";
static const char *const k_fill_surveyyear =
    "INSERT INTO sc_surveyyear(y,office,service,n,u1,u2,u3,u4,u5,u6,u7,u8,u9) SELECT ym/100,office,"
    "service,sum(n),sum(u1),sum(u2),sum(u3),sum(u4),sum(u5),sum(u6),sum(u7),sum(u8),sum(u9) FROM "
    "sc_survey GROUP BY ym/100,office,service";

/* *absent = 1 when table is not in the schema (to_regclass) */
static kj_code table_absent(PGconn *c, const char *table, int *absent, kj_err *err) {
  const char *p[1] = {table};
  PGresult *r = PQexecParams(c, "SELECT to_regclass($1) IS NULL", 1, NULL, p, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    kj_code rc = fail_res(c, r, err, "cannot read the table list");
    PQclear(r);
    return rc;
  }
  *absent = !strcmp(PQgetvalue(r, 0, 0), "t");
  PQclear(r);
  return KJ_OK;
}

kj_code kjs_score_pg_schema(PGconn *conn, kj_err *err) {
  kj_code rc = exec_all(conn, k_ddl, sizeof k_ddl / sizeof *k_ddl, err, "cannot create tables");
  return rc ? rc
            : exec_all(conn, k_ddl_aggr, sizeof k_ddl_aggr / sizeof *k_ddl_aggr, err,
                       "cannot create tables");
}

kj_code kjs_score_pg_aggregates(PGconn *conn, kj_err *err) {
  static const char *const drop = "DROP TABLE IF EXISTS sc_realyear, sc_cmpmonth, sc_surveyyear";
  static const char *const fill[] = {k_fill_realyear, k_fill_cmpmonth, k_fill_surveyyear,
                                     /* the store's own change counter (when it has one): office
                                      * rows kept by a report memo before are old */
                                     "UPDATE sc_office_ver SET ver=ver+1 WHERE office=''"};
  kj_code rc = kjs_score_pg_schema(conn, err);
  if (!rc)
    rc = exec_all(conn, &drop, 1, err, "cannot make the report aggregates");
  if (!rc)
    rc = exec_all(conn, k_ddl_aggr, sizeof k_ddl_aggr / sizeof *k_ddl_aggr, err,
                  "cannot create tables");
  if (!rc)
    rc = exec_all(conn, fill, sizeof fill / sizeof *fill, err, "cannot fill the report aggregates");
  return rc;
}

kj_code kjs_score_pg_clear(PGconn *conn, kj_err *err) {
  enum { N = sizeof k_tables / sizeof *k_tables };
  char sql[N][40];
  const char *p[N];
  for (int i = 0; i < N; i++) {
    snprintf(sql[i], sizeof sql[i], "DELETE FROM %s", k_tables[i]);
    p[i] = sql[i];
  }
  kj_code rc = exec_all(conn, p, N, err, "cannot clear the aggregates");
  /* the store's own change counter: reports kept from before are old */
  static const char *const bump[] = {
      "CREATE TABLE IF NOT EXISTS sc_office_ver(office TEXT COLLATE \"C\" PRIMARY KEY, ver BIGINT "
      "NOT NULL)",
      "INSERT INTO sc_office_ver AS t(office,ver) VALUES('',(random()*1e15)::bigint) ON "
      "CONFLICT(office) DO UPDATE SET ver=t.ver+1"};
  return rc ? rc : exec_all(conn, bump, 2, err, "cannot clear the aggregates");
}
