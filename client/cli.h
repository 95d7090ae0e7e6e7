/* cli.h - what the `kinerja` commands share: the command table type, option
 * parsing, messages, opening the database, printing records.
 *
 * A command is `int fn(int argc, char **argv)` with argv[0] the command
 * name; it returns the exit code (0 ok, 1 failure, 2 usage error).  To add
 * a command: write `kjc_cmd_NAME` in a cmd_*.c file, declare it below and
 * add a row to the table in main.c.
 */
#ifndef KJC_CLI_H
#define KJC_CLI_H

#include <cJSON.h>
#include <stdio.h>

#include "date.h"
#include "record.h"
#include "store.h"
#include "sync.h"

typedef struct kjc_command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary; /* one line for `kinerja --help` */
} kjc_command;

/* Exit codes. */
enum { KJC_EXIT_OK = 0, KJC_EXIT_FAIL = 1, KJC_EXIT_USAGE = 2 };

/* The database path: --db, else $KINERJA_DB, else ./kinerja.db.
 * main() sets the --db given before the command; commands accept it too. */
void kjc_set_db_path(const char *path);
const char *kjc_db_path(void);

/* Options of one command.  A flag sets *flag = 1; an option with an
 * argument sets *value.  --db PATH and --help are always known. */
typedef struct kjc_opt {
  const char *name; /* "--json" */
  int has_arg;
  const char **value;
  int *flag;
} kjc_opt;

/* Parse argv[1..]: options (also --name=value) anywhere, the rest into
 * pos[0..*npos-1] (at most maxpos).  Returns -1 after --help was printed
 * (exit 0), KJC_EXIT_USAGE after an error message, 0 to go on. */
int kjc_parse(int argc, char **argv, const kjc_opt *opts, char **pos, int maxpos, int *npos,
              const char *help);

/* "kinerja: ..." on stderr. */
void kjc_error(const char *fmt, ...) KJ_PRINTF(1, 2);
void kjc_warn(const char *fmt, ...) KJ_PRINTF(1, 2);

/* Open the database (message printed on failure); returns 0 or an exit code. */
int kjc_open(kjc_store **s, int flags);

/* The type named by a command argument ("survey" or "surveys"); prints an
 * error and returns NULL when unknown.  office_only refuses master types. */
const kj_type_def *kjc_type_arg(const char *name, int office_only);

/* Master-data checks: when the roster / indicator list is present, warn
 * about a nip or indicator that is not in it (the record is still stored). */
typedef struct kjc_refs {
  kjc_store *s;
  long employees, indicators; /* live master records, -1 = not counted yet */
  char **services;            /* the office's service names, loaded on first use */
  long nservices;             /* -1 = not loaded yet */
} kjc_refs;
void kjc_refs_init(kjc_refs *r, kjc_store *s);
void kjc_refs_release(kjc_refs *r);
/* A survey's `service` against the services listed for this office (master
 * type `service`, when any were pulled; kj_service_resolve): one that
 * differs from a listed one only in letter case, spaces or punctuation is
 * replaced in rec by the listed name; an unknown one stays as typed and
 * warn gets "field 'service': 'X' is not a service of office 'O' (closest:
 * 'Y'); stored as typed" when Y is near X (kj_suggest_near on the keys),
 * else "(its services: 'A', 'B', ...)".  Other types: nothing.  KJ_OK, or the store's
 * error (KJ_ENOMEM, KJ_EDB ...: the caller stops, its transaction may be
 * gone) in err. */
kj_code kjc_refs_service(kjc_refs *r, kj_record *rec, void (*warn)(void *ud, const char *msg),
                         void *ud, kj_err *err);
/* Calls warn once per unknown reference with e.g. "field 'nip': unknown
 * employee '19800101...' (not in the roster)". */
void kjc_refs_check(kjc_refs *r, const kj_record *rec, void (*warn)(void *ud, const char *msg),
                    void *ud);

/* A time shown to a person: ms since the epoch in this office's time zone
 * (office master record `timezone`, Asia/Jakarta until pulled), e.g.
 * "2026-11-30 14:05:09 WITA" (common/date.h kj_time_format_zone); returns
 * out. */
const char *kjc_time_text(kjc_store *s, int64_t ms, char out[KJ_TIME_ZONE_STRLEN]);

/* A record as a JSON object: "id", "type", then its present fields by name. */
cJSON *kjc_record_json(const kj_record *r);
/* Print a JSON document on stdout, formatted, newline terminated. */
void kjc_print_json(cJSON *doc);
/* Write JSON text (as cJSON prints it) so that nothing in it can act on a
 * terminal: DEL and the C1 controls U+0080-U+009F, which cJSON leaves raw,
 * become \u escapes (the same JSON value), and a byte that is not UTF-8
 * becomes \ufffd.  kjc_print_json goes through it; so do list and export. */
void kjc_fputs_json(const char *text, FILE *out);

/* The device token is only used from a database that not every user can
 * open: 0 when the database holds no token or has no permission bit for
 * "other" (a group may share it: docs/operations.md, systemd), else an exit
 * code after a message naming the fix ("chmod 600 FILE").  (cmd_init.c) */
int kjc_check_token_private(kjc_store *s);

/* Sign nip in for --as (cmd_person.c): first kjc_person_can_signin (not on
 * the roster, no PIN at this PC, locked: said before any PIN is asked or
 * read); then the PIN from --pin-file FILE (its
 * first line, pin_file may be NULL), else $KINERJA_PIN, else asked at the
 * terminal without echo (a line of stdin when it is not a terminal); then
 * kjc_person_signin.  0 with author = nip, else an exit code after the
 * message (no PIN, wrong PIN with the tries left, locked until when). */
int kjc_sign_in(kjc_store *s, const char *nip, const char *pin_file,
                char author[KJ_AUTHOR_MAX + 1]);
/* Ratings are written by their rater (domain.md "Who may write what"):
 * for type rating without --as, an error naming cmd and an exit code;
 * else 0.  (cmd_person.c) */
int kjc_need_as(const kj_type_def *t, const char *as, const char *cmd);

/* Commands. */
int kjc_cmd_init(int argc, char **argv);
int kjc_cmd_config(int argc, char **argv);
int kjc_cmd_add(int argc, char **argv);
int kjc_cmd_update(int argc, char **argv);
int kjc_cmd_delete(int argc, char **argv);
int kjc_cmd_show(int argc, char **argv);
int kjc_cmd_approve(int argc, char **argv);
int kjc_cmd_reject(int argc, char **argv);
int kjc_cmd_list(int argc, char **argv);
int kjc_cmd_import(int argc, char **argv);
int kjc_cmd_export(int argc, char **argv);
int kjc_cmd_status(int argc, char **argv);
int kjc_cmd_discard(int argc, char **argv); /* cmd_discard.c */
int kjc_cmd_backup(int argc, char **argv);  /* cmd_status.c */
int kjc_cmd_sync(int argc, char **argv);    /* cmd_sync.c (sync engine) */
int kjc_cmd_report(int argc, char **argv);  /* cmd_sync.c */
int kjc_cmd_person(int argc, char **argv);  /* cmd_person.c: setup, list */
int kjc_cmd_ui(int argc, char **argv);      /* cmd_ui.c (the office web app) */

/* The loop of `sync --watch` on s (open for writing) until
 * kjc_sync_watch_stop (from any thread; it ends within a second or when
 * the sync under way sees the cancel): returns 0.  Installs no signal
 * handlers.  (cmd_sync.c) */
int kjc_sync_watch(kjc_store *s, long interval_s);
void kjc_sync_watch_stop(void);

/* What kjc_sync_watch_now saw: the outcome of the sync that answered
 * (code KJ_OK or the sync's failure, with msg), and whether a sync is
 * under way when it returned. */
typedef struct kjc_sync_outcome {
  kj_code code;
  kjc_sync_result res;
  char msg[KJ_ERR_MSG_MAX];
  int running;
} kjc_sync_outcome;

/* "Sync now" for the loop of kjc_sync_watch running in another thread
 * (`kinerja ui`'s button): asks it to start a sync at once (within a
 * second) and waits up to wait_ms ms, holding no database lock, for a
 * sync started after the request to end.  KJ_OK with out's code, res and
 * msg filled when one ended; KJ_EBUSY when none ended in time (it goes on;
 * out->running says whether one is under way).  (cmd_sync.c) */
kj_code kjc_sync_watch_now(long wait_ms, kjc_sync_outcome *out);
/* 1 while the watch loop's sync is under way, else 0. */
int kjc_sync_watch_running(void);

#endif
