/* cmd_status.c - `kinerja status [--json]`: this PC's office, server and
 * sync bookkeeping (the sync fields come from meta, KJC_META_*, written by
 * the sync engine); `kinerja backup FILE`: an online copy of the database. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "date.h"
#include "dbbackup.h"
#include "hlc.h"
#include "i18n.h"
#include "plat.h"
#include "text.h"

static const char status_help[] =
    N_("usage: kinerja status [--json]\n"
       "\n"
       "Show the office, the server, the number of changes waiting to be pushed,\n"
       "rejected records (the records 'kinerja list --rejected' shows), the last\n"
       "successful sync, the last error and the clock skew measured against the\n"
       "server.  Times are in the office's time zone (WIB, WITA or WIT; --json:\n"
       "UTC).  Works offline.\n"
       "\n"
       "  --json      one JSON object on stdout\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja status --json\n");

/* ms since the epoch as ISO 8601 UTC; "" for 0. */
static void iso_time(int64_t ms, char out[32]) {
  out[0] = 0;
  if (ms <= 0)
    return;
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  kj_time_utc(t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ms since the epoch in the office's time zone, "never" for 0. */
static const char *zone_time(kjc_store *s, int64_t ms, char out[KJ_TIME_ZONE_STRLEN]) {
  return ms > 0 ? kjc_time_text(s, ms, out) : _("never");
}

static void add_time(cJSON *o, const char *name, int64_t ms) {
  char buf[32];
  iso_time(ms, buf);
  if (buf[0])
    cJSON_AddStringToObject(o, name, buf);
  else
    cJSON_AddNullToObject(o, name);
}

static void add_str(cJSON *o, const char *name, const char *v) {
  if (v)
    cJSON_AddStringToObject(o, name, v);
  else
    cJSON_AddNullToObject(o, name);
}

int kjc_cmd_status(int argc, char **argv) {
  int json = 0;
  kjc_opt opts[] = {{"--json", 0, NULL, &json}, {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 0, &npos, status_help);
  if (r)
    return r < 0 ? 0 : r;
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_READ)))
    return r;
  kj_err err;
  kj_err_clear(&err);
  char *server = NULL, *state = NULL, *last_error = NULL, *token = NULL, *ca = NULL;
  int64_t last_sync = 0, last_push = 0, last_pull = 0, last_attempt = 0, skew = 0;
  kjc_outbox_stats ob;
  kj_code c = kjc_meta_get(s, KJC_META_SERVER, &server, &err);
  if (!c)
    c = kjc_meta_get(s, KJC_META_SYNC_STATE, &state, &err);
  if (!c)
    c = kjc_meta_get(s, KJC_META_LAST_ERROR, &last_error, &err);
  if (!c)
    c = kjc_meta_get(s, KJC_META_TOKEN, &token, &err);
  if (!c)
    c = kjc_meta_get(s, KJC_META_CA, &ca, &err);
  if (!c)
    c = kjc_meta_get_i64(s, KJC_META_LAST_SYNC, 0, &last_sync, &err);
  if (!c)
    c = kjc_meta_get_i64(s, KJC_META_LAST_PUSH, 0, &last_push, &err);
  if (!c)
    c = kjc_meta_get_i64(s, KJC_META_LAST_PULL, 0, &last_pull, &err);
  if (!c)
    c = kjc_meta_get_i64(s, KJC_META_LAST_ATTEMPT, 0, &last_attempt, &err);
  if (!c)
    c = kjc_meta_get_i64(s, KJC_META_CLOCK_OFFSET, 0, &skew, &err);
  if (!c)
    c = kjc_outbox_stats_get(s, &ob, &err);
  if (c) {
    kjc_error("%s", err.msg);
    r = KJC_EXIT_FAIL;
    goto out;
  }
  int64_t now = (int64_t)kj_wall_ms();
  int64_t age_s = ob.oldest_pending_ms > 0 && now > ob.oldest_pending_ms
                      ? (now - ob.oldest_pending_ms) / 1000
                      : 0;
  const char *st = state ? state : "never";
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "db", kjc_store_path(s));
    cJSON_AddStringToObject(o, "office", kjc_store_office(s));
    cJSON_AddStringToObject(o, "device", kjc_store_device(s));
    add_str(o, "server", server);
    cJSON_AddBoolToObject(o, "token_set", token != NULL);
    add_str(o, "ca", ca);
    cJSON_AddStringToObject(o, "state", st);
    cJSON_AddNumberToObject(o, "pending", (double)ob.pending);
    cJSON_AddNumberToObject(o, "rejected", (double)ob.rejected);
    cJSON_AddNumberToObject(o, "held", (double)ob.held);
    if (ob.pending)
      cJSON_AddNumberToObject(o, "oldest_pending_age_s", (double)age_s);
    else
      cJSON_AddNullToObject(o, "oldest_pending_age_s");
    add_time(o, "last_sync", last_sync);
    add_time(o, "last_push", last_push);
    add_time(o, "last_pull", last_pull);
    add_time(o, "last_attempt", last_attempt);
    add_str(o, "last_error", last_error);
    cJSON_AddNumberToObject(o, "clock_skew_ms", (double)skew);
    kjc_print_json(o);
    cJSON_Delete(o);
  } else {
    char t1[KJ_TIME_ZONE_STRLEN];
    printf(_("office:        %s\n"), kjc_store_office(s));
    printf(_("database:      %s\n"), kjc_store_path(s));
    fputs(_("server:        "), stdout);
    kj_term_fputs(server ? server : _("(not set: kinerja config set server URL)"), stdout);
    printf("%s\n", server && !token ? _(" (no token: kinerja config set token TOKEN)") : "");
    /* the stored state (sync.c: ok, offline, error; never before the first
     * sync) in words; --json keeps it as stored */
    const char *said = !strcmp(st, "offline") ? _("offline")
                       : !strcmp(st, "error") ? _("error")
                       : !strcmp(st, "never") ? _("never")
                                              : st;
    printf(_("state:         %s\n"), said);
    printf(_("pending:       %ld change%s"), ob.pending, ob.pending == 1 ? "" : "s");
    /* %lld, not PRId64, in a msgid: the Windows libintl finds no translation
     * of a <PRId64> message (kinerja.exe said "clock skew" in English) */
    if (ob.pending)
      printf(_(" (oldest %lld s ago)"), (long long)age_s);
    printf(_("\nrejected:      %ld record%s\n"), ob.rejected, ob.rejected == 1 ? "" : "s");
    if (ob.rejected)
      printf(_("               the server refused %s: 'kinerja list --rejected' says why;\n"
               "               correct one with 'kinerja update ID FIELD=VALUE' (it is sent\n"
               "               again), or go back to the server's version with\n"
               "               'kinerja discard ID'\n"),
             ob.rejected == 1 ? _("its changes") : _("their changes"));
    if (ob.held)
      printf(_("held for a newer server: %ld (they go out by themselves once the server is "
               "upgraded)\n"),
             ob.held);
    /* times in the office's zone, WIB/WITA/WIT (domain.md office `timezone`) */
    printf(_("last sync:     %s\n"), zone_time(s, last_sync, t1));
    printf(_("last push:     %s\n"), zone_time(s, last_push, t1));
    printf(_("last pull:     %s\n"), zone_time(s, last_pull, t1));
    printf(_("last attempt:  %s\n"), zone_time(s, last_attempt, t1));
    fputs(_("last error:    "), stdout); /* may quote the server: escaped */
    kj_term_fputs(last_error ? last_error : _("none"), stdout);
    putchar('\n');
    printf(_("clock skew:    %lld ms\n"), (long long)skew);
  }
out:
  free(server);
  free(state);
  free(last_error);
  free(token);
  free(ca);
  kjc_store_close(s);
  return r;
}

static const char backup_help[] =
    N_("usage: kinerja backup FILE\n"
       "\n"
       "Copy the local database to FILE while kinerja keeps working (SQLite's\n"
       "online backup; a running 'kinerja sync --watch' may go on).  FILE must not\n"
       "exist; the copy is checked with PRAGMA integrity_check before it gets its\n"
       "name, and is readable by its owner only (it holds the device token).\n"
       "To restore: stop 'kinerja sync --watch', copy FILE over the database.\n"
       "\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja backup /media/usb/kinerja-2026-11-23.db\n");

int kjc_cmd_backup(int argc, char **argv) {
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, NULL, pos, 1, &npos, backup_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos != 1) {
    kjc_error(_("backup: which file? (usage: kinerja backup FILE)"));
    return KJC_EXIT_USAGE;
  }
  kjc_store *s; /* proves it is a kinerja database of a version we know */
  if ((r = kjc_open(&s, KJC_OPEN_READ)))
    return r;
  kjc_store_close(s);
  kj_err err;
  kj_err_clear(&err);
  int pages = 0;
  if (kj_db_backup(kjc_db_path(), pos[0], &pages, &err)) {
    kjc_error(_("backup: %s"), err.msg);
    return KJC_EXIT_FAIL;
  }
  printf(_("backed up %d pages to %s\n"), pages, pos[0]);
  return KJC_EXIT_OK;
}
