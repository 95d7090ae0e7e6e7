/* syncenv.h - real kinerjad + kinerja processes over loopback TLS for the
 * sync tests: a server data dir, devices, clients, a cutting proxy.  Every
 * child started here is killed by syncenv_free (call it from teardown, so
 * a failed assertion leaves no process behind). */
#ifndef KJT_SYNCENV_H
#define KJT_SYNCENV_H

#include <stddef.h>
#include <sys/types.h>

typedef struct syncenv {
  char *dir;      /* temp dir with everything */
  char data[512]; /* kinerjad data dir */
  char cert[600];
  char admin[128]; /* admin token */
  pid_t srv;       /* serve */
  int port;        /* its port */
  char url[64];    /* https://127.0.0.1:PORT */
  pid_t proxy;
  int proxy_port;
  char proxy_url[64];
  int proxy_out; /* linkem's stdout (its counters), 0 when none */
  int ndev;
  char pg_db[64]; /* KJ_TEST_STORE=postgresql: the server's own database */
} syncenv;

/* kinerjad init + master data (tests/data/server).  With
 * KJ_TEST_STORE=postgresql the server's store is a fresh database of the
 * test cluster (tests/server/pgtest.h; `init --store`), dropped by
 * syncenv_free. */
syncenv *syncenv_new(void);
void syncenv_free(syncenv *e); /* kills the children, removes the dir */

/* Run kinerjad --data DIR ARGS; stdout into out; exit status. */
int syncenv_admin(syncenv *e, char *out, size_t size, const char *const *args);
/* The same with extra "K=V" environment (may be NULL), e.g. a skewed clock. */
int syncenv_admin_env(syncenv *e, const char *const *env, char *out, size_t size,
                      const char *const *args);
/* A new device of office: token and id. */
void syncenv_device(syncenv *e, const char *office, char tok[128], char id[64]);
/* serve on 127.0.0.1:port (0 = any); sets e->port and e->url. */
void syncenv_start(syncenv *e, int port);
/* The same with extra "K=V" environment (may be NULL), e.g. a skewed clock
 * (tests/tools/skewclock.c). */
void syncenv_start_env(syncenv *e, int port, const char *const *env);
/* Stop serve with sig (SIGTERM waits for it, SIGKILL too). */
void syncenv_stop(syncenv *e, int sig);
/* A cutting proxy (tests/tools/cutproxy) in front of the server. */
void syncenv_proxy(syncenv *e, int cut_percent, long max_bytes, unsigned seed);
void syncenv_proxy_stop(syncenv *e);
/* tests/tools/linkem (a slow link) in front of the server instead, with
 * its options (NULL-terminated, e.g. "--delay", "300"); stopped as the
 * proxy.  Only where the test is built with LINKEM_BIN. */
void syncenv_linkem(syncenv *e, const char *const *args);
/* linkem's counters now (SIGUSR1, its "stats" line; tests/tools/linkem.c):
 * bytes read from the client's side and those of them a drop threw away
 * before they crossed (so c2s - unsent_c2s went over the link), and the
 * drops so far. */
typedef struct syncenv_link_stats {
  long long c2s, s2c, unsent_c2s, cuts;
  long long conns; /* connections accepted, those refused while the link was down too */
} syncenv_link_stats;
void syncenv_linkem_stats(syncenv *e, syncenv_link_stats *out);

/* dir/NAME.db initialised for office with a new device token and url. */
const char *syncenv_client(syncenv *e, const char *name, const char *office, const char *url);

/* Run kinerja --db DB ARGS with extra "K=V" environment (may be NULL);
 * out/err captured (may be NULL; caller frees).  Entries that are not put
 * into the environment but done in the child before exec:
 *   KJT_STDIN=TEXT        standard input is a pipe holding TEXT
 *   KJT_UMASK=OCTAL       umask
 *   KJT_BIND_CERTS=DIR    a private mount namespace with DIR bound over
 *                         /etc/ssl/certs (needs root); when it cannot be
 *                         made the child exits SYNCENV_NO_NAMESPACE */
#define SYNCENV_NO_NAMESPACE 77
int syncenv_kinerja(const char *db, const char *const *env, char **out, char **err,
                    const char *const *args);
#define KJ(db, ...)                                                                                \
  syncenv_kinerja((db), NULL, NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})
/* Start kinerja in the background (stdout/stderr to files in the dir). */
pid_t syncenv_spawn(syncenv *e, const char *db, const char *const *env, const char *const *args);
int syncenv_wait(pid_t pid); /* exit status, 128+signal */

/* Every office record the database shows, as one text (export --format json
 * of each office type): equal texts = equal records, field by field. */
char *syncenv_export(const char *db);
/* The server's view of office: a fresh device of that office pulls all. */
char *syncenv_server_view(syncenv *e, const char *office);

/* `sync` until it exits 0 (at most tries times); returns the last status. */
int syncenv_sync_until_ok(const char *db, int tries);

/* An admin push of one change (JSON text of a kj_change with seq). */
int syncenv_admin_push(syncenv *e, const char *change_json, char **answer);
/* GET path with the admin token; body (caller frees). */
int syncenv_admin_get(syncenv *e, const char *path, char **body);
/* kinerjad_records_total{status="S"} from /metrics. */
long syncenv_metric(syncenv *e, const char *status);

/* A JSON field of one exported record (by id) as text, NULL when absent. */
char *syncenv_field(const char *db, const char *type, const char *id, const char *field);

#endif
