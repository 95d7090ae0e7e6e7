/* cmd_sync.c - `kinerja sync [--json] [--watch [--interval SECONDS]]` and
 * `kinerja report [--period P] [--json]` (issue 5; docs/protocol.md
 * "Sync (client side)", docs/operations.md "office client"). */
#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "date.h"
#include "hlc.h"
#include "i18n.h"
#include "plat.h"
#include "report.h"
#include "sync.h"
#include "text.h"
#include "uuid.h"

/* exit codes of sync (the contract) */
enum { SYNC_EXIT_OK = 0, SYNC_EXIT_FAIL = 1, SYNC_EXIT_UNREACHABLE = 2, SYNC_EXIT_REJECTED = 3 };

#define PROGRESS_MIN 2000 /* records: a smaller sync shows no progress bar */

static volatile int g_stop;

static void install_signals(void) {
  kj_on_interrupt(&g_stop); /* Ctrl-C, SIGTERM: g_stop = 1; SIGPIPE ignored */
}

/* ---- progress bar (stderr, only on a terminal, only for large work) ---- */

typedef struct bar {
  int on;
  int shown;
  int64_t start_ms;
  long total;
} bar;

static void on_progress(void *ud, const kjc_sync_progress *p) {
  bar *b = ud;
  if (!b->on)
    return;
  if (p->phase == KJC_PHASE_PUSH && p->total < PROGRESS_MIN)
    return;
  if (p->phase == KJC_PHASE_PULL && p->done < PROGRESS_MIN && !b->shown)
    return;
  int64_t el = (int64_t)kj_wall_ms() - b->start_ms;
  double rate = el > 0 ? (double)p->done * 1000.0 / (double)el : 0;
  if (p->phase == KJC_PHASE_PUSH) {
    int w = 30, fill = p->total > 0 ? (int)(w * p->done / p->total) : 0;
    char line[64];
    for (int i = 0; i < w; i++)
      line[i] = i < fill ? '#' : '.';
    line[w] = 0;
    fprintf(stderr, "\rpush [%s] %ld/%ld %.0f/s ", line, p->done, p->total, rate);
  } else {
    fprintf(stderr, "\rpull %ld records %.0f/s            ", p->done, rate);
  }
  b->shown = 1;
}

static void bar_end(bar *b) {
  if (b->shown)
    fputs("\n", stderr);
  b->shown = 0;
}

/* ---- one sync ---- */

static int exit_for(kj_code c) {
  return c == KJ_OK ? SYNC_EXIT_OK : c == KJ_ENET ? SYNC_EXIT_UNREACHABLE : SYNC_EXIT_FAIL;
}

static void print_summary(const kjc_sync_result *r, kj_code c, const kj_err *err, int json,
                          kjc_store *s) {
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "state", c == KJ_OK ? "ok" : c == KJ_ENET ? "offline" : "error");
    cJSON_AddNumberToObject(o, "pushed", (double)r->pushed);
    cJSON_AddNumberToObject(o, "duplicate", (double)r->duplicate);
    cJSON_AddNumberToObject(o, "rejected", (double)r->rejected);
    cJSON_AddNumberToObject(o, "pulled", (double)r->pulled);
    cJSON_AddNumberToObject(o, "moved", (double)r->moved);
    cJSON_AddNumberToObject(o, "requests", r->requests);
    cJSON_AddNumberToObject(o, "bytes_sent", (double)r->bytes_sent);
    cJSON_AddNumberToObject(o, "bytes_received", (double)r->bytes_received);
    int64_t off = 0;
    kj_err x;
    if (kjc_meta_get_i64(s, KJC_META_CLOCK_OFFSET, 0, &off, &x))
      off = 0;
    cJSON_AddNumberToObject(o, "clock_skew_ms", (double)off);
    kjc_outbox_stats st;
    if (!kjc_outbox_stats_get(s, &st, &x)) {
      cJSON_AddNumberToObject(o, "pending", (double)st.pending);
      cJSON_AddNumberToObject(o, "rejected_total", (double)st.rejected);
      cJSON_AddNumberToObject(o, "held", (double)st.held);
    }
    if (c)
      cJSON_AddStringToObject(o, "error", err->msg);
    else
      cJSON_AddNullToObject(o, "error");
    kjc_print_json(o);
    cJSON_Delete(o);
  } else if (c == KJ_OK) {
    kjc_outbox_stats st;
    kj_err x;
    long held = kjc_outbox_stats_get(s, &st, &x) ? 0 : st.held;
    printf(_("pushed %ld, rejected %ld, pulled %ld"), r->pushed, r->rejected, r->pulled);
    if (held)
      printf(_(", held for a newer server %ld"), held);
    putchar('\n');
  }
}

static void print_failure(kj_code c, const kj_err *err) {
  if (c == KJ_ENET)
    kjc_error(_("%s (nothing is lost: the changes wait in the outbox; try later)"), err->msg);
  else if (c == KJ_EINTR)
    kjc_error(_("sync interrupted (nothing is lost: unacknowledged changes stay in the outbox)"));
  else
    kjc_error("%s", err->msg);
}

/* ---- --watch ---- */

typedef enum { W_NONE, W_ONLINE, W_OFFLINE, W_ERROR } wstate;

static void sleep_ms(long ms) {
  if (!g_stop)
    kj_sleep_ms(ms); /* returns early once a signal sets g_stop */
}

static long jitter(long ms) {
  /* +-20 % so that many offices do not retry in step */
  uint32_t r = 0;
  kj_random_bytes(&r, sizeof r);
  long span = ms / 5;
  if (span <= 0)
    return ms;
  return ms - span + (long)(r % (uint32_t)(2 * span + 1));
}

static void log_state(wstate *cur, wstate next, const char *text) {
  if (*cur == next)
    return;
  *cur = next;
  char ts[32];
  time_t t = time(NULL);
  struct tm tm;
  kj_time_utc(t, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(stderr, _("kinerja: %s "), ts);
  kj_term_fputs(text, stderr); /* may quote the server: escaped */
  fputc('\n', stderr);
}

/* The "sync now" of the watch loop in another command's thread
 * (kjc_sync_watch_now): a request count the loop answers, the count of
 * syncs started and ended, and the outcome of the last one. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t done; /* signalled when a sync ends */
  int asked;           /* a sync was asked for since the loop last looked */
  int running;         /* a sync is under way */
  long started, ended; /* syncs begun and ended by the loop */
  kj_code code;        /* of the last ended */
  kjc_sync_result res;
  char msg[KJ_ERR_MSG_MAX];
} g_now = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, KJ_OK, {0}, ""};

static int take_asked(void) {
  pthread_mutex_lock(&g_now.mu);
  int a = g_now.asked;
  g_now.asked = 0;
  pthread_mutex_unlock(&g_now.mu);
  return a;
}

static void sync_begins(void) {
  pthread_mutex_lock(&g_now.mu);
  g_now.asked = 0; /* this sync answers every request made before it */
  g_now.running = 1;
  g_now.started++;
  pthread_mutex_unlock(&g_now.mu);
}

static void sync_ends(kj_code c, const kjc_sync_result *r, const kj_err *err) {
  pthread_mutex_lock(&g_now.mu);
  g_now.running = 0;
  g_now.ended++;
  g_now.code = c;
  g_now.res = *r;
  snprintf(g_now.msg, sizeof g_now.msg, "%s", c ? err->msg : "");
  pthread_cond_broadcast(&g_now.done);
  pthread_mutex_unlock(&g_now.mu);
}

kj_code kjc_sync_watch_now(long wait_ms, kjc_sync_outcome *out) {
  memset(out, 0, sizeof *out);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += wait_ms / 1000;
  until.tv_nsec += (wait_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&g_now.mu);
  g_now.asked = 1;
  /* a sync under way may have read the outbox before this request: the
   * one that answers is the next to start */
  long want = g_now.started + 1;
  int rc = 0;
  while (g_now.ended < want && rc == 0)
    rc = pthread_cond_timedwait(&g_now.done, &g_now.mu, &until);
  kj_code c = KJ_EBUSY;
  if (g_now.ended >= want) {
    c = KJ_OK;
    out->code = g_now.code;
    out->res = g_now.res;
    snprintf(out->msg, sizeof out->msg, "%s", g_now.msg);
  }
  out->running = g_now.running;
  pthread_mutex_unlock(&g_now.mu);
  return c;
}

int kjc_sync_watch_running(void) {
  pthread_mutex_lock(&g_now.mu);
  int r = g_now.running;
  pthread_mutex_unlock(&g_now.mu);
  return r;
}

static int watch(kjc_store *s, long interval_s, const kjc_sync_opts *opts) {
  const long probe_ms = 5000, max_backoff_ms = 300000;
  wstate st = W_NONE;
  long backoff_ms = 0;
  int64_t now = (int64_t)kj_wall_ms();
  int64_t next_sync = now, next_probe = 0;
  int64_t dv = kjc_store_data_version(s);
  int dirty_since = 0;
  int64_t dirty_at = 0;
  char msg[KJ_ERR_MSG_MAX + 64];
  while (!g_stop) {
    now = (int64_t)kj_wall_ms();
    if (take_asked())
      next_sync = now;
    if (now >= next_sync || (dirty_since && now >= dirty_at)) {
      kjc_sync_result r;
      kj_err err;
      kj_err_clear(&err);
      dirty_since = 0;
      sync_begins();
      kj_code c = kjc_sync_run(s, opts, &r, &err);
      sync_ends(c, &r, &err);
      if (c == KJ_EINTR || g_stop)
        break;
      now = (int64_t)kj_wall_ms();
      if (c == KJ_OK) {
        snprintf(msg, sizeof msg, _("online: %s"), kjc_store_office(s));
        log_state(&st, W_ONLINE, msg);
        if (r.pushed || r.rejected || r.pulled)
          fprintf(stderr, _("kinerja: pushed %ld, rejected %ld, pulled %ld\n"), r.pushed,
                  r.rejected, r.pulled);
        backoff_ms = 0;
        next_sync = now + interval_s * 1000;
      } else {
        backoff_ms = backoff_ms ? backoff_ms * 2 : 1000;
        if (backoff_ms > max_backoff_ms)
          backoff_ms = max_backoff_ms;
        next_sync = now + jitter(backoff_ms);
        next_probe = now + probe_ms;
        snprintf(msg, sizeof msg, c == KJ_ENET ? _("offline: %s") : _("error: %s"), err.msg);
        log_state(&st, c == KJ_ENET ? W_OFFLINE : W_ERROR, msg);
      }
    }
    sleep_ms(1000);
    if (g_stop)
      break;
    now = (int64_t)kj_wall_ms();
    /* local changes committed by another kinerja command */
    int64_t v = kjc_store_data_version(s);
    if (v != dv) {
      dv = v;
      kjc_outbox_stats ob;
      kj_err x;
      if (!kjc_outbox_stats_get(s, &ob, &x) && ob.pending > 0 && !dirty_since && st != W_OFFLINE) {
        dirty_since = 1;
        dirty_at = now + 1000; /* let a burst of commands finish */
      }
    }
    /* while offline: a cheap probe so a returning server is seen within 10 s */
    if (st == W_OFFLINE && now >= next_probe && next_sync > now) {
      next_probe = now + probe_ms;
      if (kjc_sync_probe(s) == KJ_OK)
        next_sync = now;
    }
  }
  fprintf(stderr, _("kinerja: stopped\n"));
  return SYNC_EXIT_OK;
}

/* The --watch loop for another command's thread (cli.h; `kinerja ui`):
 * no signal handlers here, kjc_sync_watch_stop ends it. */
int kjc_sync_watch(kjc_store *s, long interval_s) {
  kjc_sync_opts so;
  memset(&so, 0, sizeof so);
  so.cancel = &g_stop;
  return watch(s, interval_s, &so);
}

void kjc_sync_watch_stop(void) {
  g_stop = 1;
}

static const char sync_help[] =
    N_("usage: kinerja sync [--json] [--watch [--interval SECONDS]]\n"
       "\n"
       "Push every change waiting in the outbox to the server, then pull the\n"
       "corrections, master data and scores.  Prints 'pushed N, rejected N,\n"
       "pulled N'.  Exit status:\n"
       "  0  everything was pushed and pulled\n"
       "  3  everything was pushed and pulled, but changes stand rejected by the\n"
       "     server: 'kinerja list --rejected' says why; correct a record with\n"
       "     'kinerja update', or drop its changes with 'kinerja discard ID'\n"
       "  2  the server was unreachable (nothing is lost, try later)\n"
       "  1  other errors\n"
       "\n"
       "  --json              one JSON object on stdout\n"
       "  --watch             keep running: sync at start, soon after local\n"
       "                      changes, every interval and when the server comes\n"
       "                      back; Ctrl-C stops it\n"
       "  --interval SECONDS  with --watch (default 60)\n"
       "  --db PATH           database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja sync --watch --interval 300\n");

int kjc_cmd_sync(int argc, char **argv) {
  int json = 0, watchf = 0;
  const char *interval = NULL, *batch = NULL;
  kjc_opt opts[] = {{"--json", 0, NULL, &json},
                    {"--watch", 0, NULL, &watchf},
                    {"--interval", 1, &interval, NULL},
                    {"--batch", 1, &batch, NULL}, /* hidden: tests */
                    {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 0, &npos, sync_help);
  if (r)
    return r < 0 ? 0 : r;
  long iv = 60;
  if (interval) {
    char *end;
    errno = 0;
    iv = strtol(interval, &end, 10);
    if (errno || *end || iv < 1 || iv > 86400) {
      kjc_error(_("bad --interval '%s': expected seconds from 1 to 86400"), interval);
      return KJC_EXIT_USAGE;
    }
    if (!watchf) {
      kjc_error(_("--interval goes with --watch"));
      return KJC_EXIT_USAGE;
    }
  }
  kjc_sync_opts so;
  memset(&so, 0, sizeof so);
  if (batch) {
    so.batch = atoi(batch);
    so.pull_limit = so.batch;
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_WRITE)))
    return r;
  if ((r = kjc_check_token_private(s))) {
    kjc_store_close(s);
    return r;
  }
  install_signals();
  so.cancel = &g_stop;
  bar b = {kj_is_terminal(2) && !watchf, 0, (int64_t)kj_wall_ms(), 0};
  so.progress = on_progress;
  so.progress_ud = &b;
  if (watchf) {
    r = watch(s, iv, &so);
    kjc_store_close(s);
    return r;
  }
  kjc_sync_result res;
  kj_err err;
  kj_err_clear(&err);
  kj_code c = kjc_sync_run(s, &so, &res, &err);
  bar_end(&b);
  if (c)
    print_failure(c, &err);
  print_summary(&res, c, &err, json, s);
  int rc = exit_for(c);
  kjc_outbox_stats st;
  kj_err x;
  if (!c && !kjc_outbox_stats_get(s, &st, &x) && st.rejected > 0) {
    /* transferred, but not everything was taken: say so in the exit code */
    if (!json)
      kjc_warn(_("%ld record%s stand%s rejected by the server: see 'kinerja list --rejected'; "
                 "correct with 'kinerja update ID ...' or drop the changes with 'kinerja discard "
                 "ID'"),
               st.rejected, st.rejected == 1 ? "" : "s", st.rejected == 1 ? "s" : "");
    rc = SYNC_EXIT_REJECTED;
  }
  kjc_store_close(s);
  return rc;
}

/* ---- report ---- */

static const char report_help[] =
    N_("usage: kinerja report [--period P] [--json]\n"
       "\n"
       "The office's scorecard and its employees' scores as last pulled from\n"
       "the server (works offline; run 'kinerja sync' to refresh).  P is a\n"
       "period the server sent: the current year (default), the current and\n"
       "previous quarter, the current and previous month.\n"
       "\n"
       "  --period P  which period: 2026, 2026-Q3, 2026-09 (default: this year)\n"
       "  --json      the stored document on stdout (default: readable tables)\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja report --period 2026-10\n");

int kjc_cmd_report(int argc, char **argv) {
  int json = 0;
  const char *period = NULL;
  kjc_opt opts[] = {
      {"--json", 0, NULL, &json}, {"--period", 1, &period, NULL}, {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 0, &npos, report_help);
  if (r)
    return r < 0 ? 0 : r;
  kj_period pp;
  if (period && kj_period_parse(period, &pp)) {
    kjc_error(_("bad --period '%s': expected a period like 2026, 2026-Q1 or 2026-01"), period);
    return KJC_EXIT_USAGE;
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_READ)))
    return r;
  kj_err err;
  kj_err_clear(&err);
  char *year = NULL, *doc = NULL, *got = NULL;
  kj_code c = KJ_OK;
  if (!period)
    c = kjc_meta_get(s, KJC_META_SCORES_PERIOD, &year, &err);
  if (!c)
    c = kjc_scores_get(s, KJC_SCORES_KIND, period ? period : year, kjc_store_office(s), &doc, &got,
                       &err);
  if (c) {
    kjc_error("%s", err.msg);
    r = KJC_EXIT_FAIL;
  } else if (!doc) {
    if (period)
      kjc_error(_("no scores for period '%s' (the server sends the current year, the current "
                  "and previous quarter and month; run 'kinerja sync')"),
                period);
    else
      kjc_error(_("no scores yet: run 'kinerja sync' while the server is reachable"));
    r = KJC_EXIT_FAIL;
  } else {
    /* one stored scores entry ({"period", "as_of", "office", "employees"}),
     * read by the one decoder of proto/reportdoc.h and shown as the tables
     * `kinerjad report offices` and `report employees` print */
    kj_report_scores sc;
    if (kj_report_scores_decode(doc, strlen(doc), &sc, &err)) {
      kjc_error(_("the stored scores cannot be read (%s): run 'kinerja sync'"), err.msg);
      r = KJC_EXIT_FAIL;
    } else if (json) {
      cJSON *d = cJSON_Parse(doc);
      kjc_print_json(d);
      cJSON_Delete(d);
    } else if (kj_report_print_scores(&sc, kjc_store_office(s), stdout, &err)) {
      kjc_error(_("the stored scores cannot be shown: %s"), err.msg);
      r = KJC_EXIT_FAIL;
    }
    kj_report_scores_release(&sc);
  }
  free(year);
  free(doc);
  free(got);
  kjc_store_close(s);
  return r;
}
