/* cmd_init.c - `kinerja init` and `kinerja config`. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "enrol.h"
#include "i18n.h"
#include "net.h"
#include "plat.h"
#include "text.h"

#define CA_MAX ((size_t)1024 * 1024)

/* KJ_OK, or KJ_EINVAL with err filled when url is not an https:// URL
 * without spaces and control characters. */
static kj_code check_server(const char *url, kj_err *err) {
  if (strncmp(url, "https://", 8) != 0 || !url[8])
    return kj_fail(err, KJ_EINVAL, _("server must be an https:// URL, not '%s'"), url);
  for (const unsigned char *p = (const unsigned char *)url; *p; p++)
    if (*p <= ' ' || *p == 0x7f)
      return kj_fail(err, KJ_EINVAL,
                     _("server URL '%s': must not contain spaces or control characters"), url);
  return KJ_OK;
}

/* Store the CA's absolute path and its contents (pinned at this moment). */
static kj_code set_ca(kjc_store *s, const char *file, kj_err *err) {
  char abs[PATH_MAX];
  if (kj_path_absolute(file, abs, sizeof abs, NULL))
    return kj_fail(err, KJ_ENOENT, _("cannot read CA file '%s': %s"), file, strerror(errno));
  FILE *f = fopen(abs, "rb");
  if (!f)
    return kj_fail(err, KJ_EIO, _("cannot read CA file '%s': %s"), file, strerror(errno));
  char *pem = malloc(CA_MAX + 1);
  size_t n = pem ? fread(pem, 1, CA_MAX + 1, f) : 0;
  fclose(f);
  if (!pem)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  if (n <= CA_MAX)
    pem[n] = 0;
  if (n > CA_MAX || !n || !strstr(pem, "-----BEGIN CERTIFICATE-----")) {
    free(pem);
    return kj_fail(err, KJ_EINVAL, _("'%s' is not a PEM certificate file"), file);
  }
  kj_code c = kjc_meta_set(s, KJC_META_CA, abs, err);
  if (!c)
    c = kjc_meta_set(s, KJC_META_CA_PEM, pem, err);
  free(pem);
  return c;
}

#define TOKEN_MAX 1024 /* server tokens are 64 hex characters */

/* A token read from fd (a file or standard input): the first line, without
 * surrounding blanks.  Returns a malloc'd string, or NULL after a message. */
static char *token_read(int fd, const char *what) {
  char *t = malloc(TOKEN_MAX + 2);
  if (!t) {
    kjc_error(_("out of memory"));
    return NULL;
  }
  size_t n = 0;
  ssize_t r;
  while (n < TOKEN_MAX + 1 && (r = read(fd, t + n, TOKEN_MAX + 1 - n)) != 0) {
    if (r < 0) {
      if (errno == EINTR)
        continue;
      kjc_error(_("cannot read the token from %s: %s"), what, strerror(errno));
      free(t);
      return NULL;
    }
    n += (size_t)r;
  }
  t[n] = 0;
  t[strcspn(t, "\r\n")] = 0;
  size_t b = strspn(t, " \t"), len = strlen(t + b);
  memmove(t, t + b, len + 1);
  while (len && (t[len - 1] == ' ' || t[len - 1] == '\t'))
    t[--len] = 0;
  int bad = 0;
  for (size_t i = 0; i < len; i++)
    bad |= (unsigned char)t[i] <= ' ' || t[i] == 0x7f;
  if (!len || len > TOKEN_MAX || bad) {
    kjc_error(_("%s does not hold a token (one line, no spaces, at most %d characters)"), what,
              TOKEN_MAX);
    memset(t, 0, n);
    free(t);
    return NULL;
  }
  return t;
}

/* The token of a --token-file: refused when others may read the file. */
static char *token_from_file(const char *file) {
  int fd = kj_open_read(file);
  if (fd < 0) {
    kjc_error(_("cannot read token file '%s': %s"), file, strerror(errno));
    return NULL;
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    kjc_error(_("token file '%s' is not a regular file"), file);
    close(fd);
    return NULL;
  }
  if (kj_file_mode(&sb) & (S_IRWXG | S_IRWXO)) {
    kjc_error(_("token file '%s' is open to other users (mode %03o): run 'chmod 600 %s'"), file,
              kj_file_mode(&sb), file);
    close(fd);
    return NULL;
  }
  char what[PATH_MAX + 16];
  snprintf(what, sizeof what, "'%s'", file);
  char *t = token_read(fd, what);
  close(fd);
  return t;
}

/* Where the token comes from, first found: --token -, --token-file FILE,
 * --token TOKEN (warned: `ps` shows it), $KINERJA_TOKEN.  *out is a
 * malloc'd token or NULL when none was given; returns 0 or an exit code. */
static int token_arg(const char *opt, const char *file, char **out) {
  *out = NULL;
  if (opt && file) {
    kjc_error(_("init: give the token once: --token or --token-file"));
    return KJC_EXIT_USAGE;
  }
  if (opt && !strcmp(opt, "-")) {
    *out = token_read(0, "standard input");
    return *out ? 0 : KJC_EXIT_FAIL;
  }
  if (file) {
    *out = token_from_file(file);
    return *out ? 0 : KJC_EXIT_FAIL;
  }
  if (opt) {
    kjc_warn(_("a token given as --token TOKEN is visible to every user of this PC (ps); use "
               "--token-file FILE, --token - (standard input) or $KINERJA_TOKEN"));
    *out = strdup(opt);
    return *out ? 0 : KJC_EXIT_FAIL;
  }
  const char *env = getenv("KINERJA_TOKEN");
  if (env && *env) {
    *out = strdup(env);
    return *out ? 0 : KJC_EXIT_FAIL;
  }
  return 0;
}

static void token_free(char *t) {
  if (t) {
    memset(t, 0, strlen(t));
    free(t);
  }
}

int kjc_check_token_private(kjc_store *s) {
  char *tok = NULL;
  kj_err err;
  kj_err_clear(&err);
  if (kjc_meta_get(s, KJC_META_TOKEN, &tok, &err)) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  int set = tok != NULL;
  token_free(tok);
  if (!set)
    return 0;
  const char *path = kjc_store_path(s);
  struct stat sb;
  if (stat(path, &sb) != 0) {
    kjc_error(_("cannot check database '%s': %s"), path, strerror(errno));
    return KJC_EXIT_FAIL;
  }
  if (!(kj_file_mode(&sb) & S_IRWXO))
    return 0;
  /* A database of the previous release was made with the umask (0644):
   * its owner closes it to others once, with a notice; anyone else is
   * refused with the fix to run. */
  mode_t want = (mode_t)(kj_file_mode(&sb) & 0770);
  int fixed = kj_file_is_mine(&sb) && chmod(path, want) == 0;
  for (int i = 0; fixed && i < 2; i++) {
    char side[4200];
    snprintf(side, sizeof side, "%s%s", path, i ? "-shm" : "-wal");
    struct stat ss;
    if (stat(side, &ss) == 0 && (kj_file_mode(&ss) & S_IRWXO) &&
        chmod(side, (mode_t)(kj_file_mode(&ss) & 0770)) != 0)
      fixed = 0;
  }
  if (fixed) {
    kjc_warn(_("database '%s' holds the device token and every user could open it: its mode is "
               "now %03o (and its -wal and -shm)"),
             path, (unsigned)want);
    return 0;
  }
  kjc_error(_("database '%s' holds the device token but every user can open it (mode %03o): run "
              "'chmod 600 %s' (or 'chmod o-rwx' to keep a group's access)"),
            path, kj_file_mode(&sb), path);
  return KJC_EXIT_FAIL;
}

static const char init_help[] = N_(
    "usage: kinerja init --server URL --enrol CODE [--office CODE]\n"
    "       kinerja init --office CODE [--server URL] [--token-file FILE | --token -] [--ca FILE]\n"
    "\n"
    "Create the local database of this PC.  Refuses to overwrite an existing\n"
    "database.  The database holds the device token and is created with mode\n"
    "0600 (its -wal and -shm too).\n"
    "\n"
    "With an enrolment code (printed by 'kinerjad device add', valid 7 days,\n"
    "once) nothing else is copied to the PC: the code lets it check that URL is\n"
    "the BKD's server (the code carries a digest of the server's key: another\n"
    "server or a proxy reading the traffic is refused before anything is sent),\n"
    "then the server gives the device's token, office and certificate, pinned\n"
    "from then on.  Without a code the token and certificate are given as below\n"
    "(works with no network).\n"
    "\n"
    "  --enrol CODE       the enrolment code, e.g. 7K3QM-X2D9F-0HBRT-W4Y8N-C6PJA\n"
    "                     (letters in any case, hyphens optional)\n"
    "  --office CODE      the office this PC records for, e.g. 36.73.04 (required\n"
    "                     without --enrol; with it, checked against the server's)\n"
    "  --server URL       the central server, https:// (without --enrol it may be\n"
    "                     set later with 'config set')\n"
    "  --token-file FILE  read this device's token (from the BKD sysadmin) from FILE,\n"
    "                     which only its owner may read (chmod 600 FILE)\n"
    "  --token -          read the token from standard input\n"
    "  --token TOKEN      the token itself: works, but every user of the PC sees it\n"
    "                     in 'ps' (a warning says so)\n"
    "  --ca FILE          PEM CA certificate to pin for the server: then ONLY it is\n"
    "                     trusted (default: the system store)\n"
    "  --db PATH          database file (default $KINERJA_DB, else ./kinerja.db)\n"
    "\n"
    "Without --enrol, --token or --token-file the token is taken from $KINERJA_TOKEN,\n"
    "if set.\n"
    "\n"
    "examples: kinerja init --server https://kinerja.bkd.example:8443 \\\n"
    "              --enrol 7K3QM-X2D9F-0HBRT-W4Y8N-C6PJA\n"
    "          kinerja init --office 36.73.04 --server https://kinerja.bkd.example \\\n"
    "              --token-file /media/usb/token.txt --ca /media/usb/cert.pem\n");

/* `kinerja init --enrol CODE`: the server checked against the code, the
 * token and certificate fetched (client/net.c kjc_net_enrol), then the
 * database made with them.  Exit status. */
static int init_enrol(const char *server, const char *code, const char *office) {
  unsigned char secret[KJ_ENROL_SECRET_LEN], pin[KJ_ENROL_PIN_LEN];
  kj_err err;
  kj_err_clear(&err);
  if (kj_enrol_code_parse(code, secret, pin, &err)) {
    kjc_error(_("init: %s"), err.msg);
    return KJC_EXIT_USAGE;
  }
  const char *path = kjc_db_path();
  if (access(path, F_OK) == 0) { /* before the code is spent */
    kjc_error(_("database '%s' already exists: not overwriting it"), path);
    return KJC_EXIT_FAIL;
  }
  kj_enrol_answer a;
  kj_code c = kjc_net_enrol(server, secret, pin, office, 30000, &a, &err);
  memset(secret, 0, sizeof secret);
  if (c == KJ_EINVAL && office) { /* refused before it was spent */
    kjc_error(_("init: the enrolment code is for office %s, not %s: nothing created, and the code "
                "is not spent (run 'kinerja init' again with --office %s, or without --office)"),
              a.office, office, a.office);
    return KJC_EXIT_FAIL;
  }
  if (c) {
    kjc_error(_("init: %s"), err.msg);
    return KJC_EXIT_FAIL;
  }
  kj_err oe;
  kj_err_clear(&oe);
  if (kj_record_validate_id(KJ_T_OFFICE, a.office, &oe)) {
    kjc_error(_("init: the server answered a bad office code '%s': %s"), a.office, oe.msg);
    kj_enrol_answer_release(&a);
    return KJC_EXIT_FAIL;
  }
  if (office && strcmp(office, a.office) != 0) {
    /* a server older than the ?office= check spent the code already */
    kjc_error(_("init: the enrolment code is for office %s, not %s: nothing created (the code is "
                "spent: revoke device %s and ask the BKD for a new one)"),
              a.office, office, a.device);
    kj_enrol_answer_release(&a);
    return KJC_EXIT_FAIL;
  }
  unsigned char spki[32];
  char pinned[64] = "";
  if (kj_cert_spki_sha256(a.cert, strlen(a.cert), spki, &oe) == KJ_OK)
    kj_pin_format(spki, pinned, sizeof pinned);
  c = kjc_store_create(path, a.office, &err);
  kjc_store *s = NULL;
  if (c) {
    kjc_error("%s", err.msg);
    kj_enrol_answer_release(&a);
    return KJC_EXIT_FAIL;
  }
  if (kjc_open(&s, KJC_OPEN_WRITE)) {
    kj_enrol_answer_release(&a);
    remove(path);
    return KJC_EXIT_FAIL;
  }
  char ca_note[128];
  snprintf(ca_note, sizeof ca_note, "(enrolment: the server's certificate, key %s)", pinned);
  c = kjc_store_begin(s, &err);
  if (!c)
    c = kjc_meta_set(s, KJC_META_SERVER, server, &err);
  if (!c)
    c = kjc_meta_set(s, KJC_META_TOKEN, a.token, &err);
  if (!c)
    c = kjc_meta_set(s, KJC_META_CA, ca_note, &err);
  if (!c)
    c = kjc_meta_set(s, KJC_META_CA_PEM, a.cert, &err);
  if (!c)
    c = kjc_store_commit(s, &err);
  kjc_store_close(s);
  if (c) {
    kjc_error(_("%s (the enrolment code is spent: revoke device %s and ask the BKD for a new one)"),
              err.msg, a.device);
    kj_enrol_answer_release(&a);
    remove(path);
    return KJC_EXIT_FAIL;
  }
  printf(_("enrolled as device %s of office %s; the server's certificate is pinned (%s)\n"),
         a.device, a.office, pinned);
  printf(_("created '%s' for office %s\n"), path, a.office);
  kj_enrol_answer_release(&a);
  return 0;
}

int kjc_cmd_init(int argc, char **argv) {
  const char *office = NULL, *server = NULL, *token_opt = NULL, *token_file = NULL, *ca = NULL;
  const char *enrol = NULL;
  kjc_opt opts[] = {{"--office", 1, &office, NULL},
                    {"--server", 1, &server, NULL},
                    {"--token", 1, &token_opt, NULL},
                    {"--token-file", 1, &token_file, NULL},
                    {"--ca", 1, &ca, NULL},
                    {"--enrol", 1, &enrol, NULL},
                    {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 0, &npos, init_help);
  if (r)
    return r < 0 ? 0 : r;
  if (enrol) {
    kj_err uerr;
    if (token_opt || token_file || ca) {
      kjc_error(_("init: --enrol brings the token and the certificate: give it without --token, "
                  "--token-file and --ca"));
      return KJC_EXIT_USAGE;
    }
    if (!server) {
      kjc_error(_("init: --enrol needs --server URL (the BKD's server, https://)"));
      return KJC_EXIT_USAGE;
    }
    if (check_server(server, &uerr)) {
      kjc_error("%s", uerr.msg);
      return KJC_EXIT_USAGE;
    }
    if (office && kj_record_validate_id(KJ_T_OFFICE, office, &uerr)) {
      kjc_error(_("init: bad office code '%s': %s"), office, uerr.msg);
      return KJC_EXIT_USAGE;
    }
    return init_enrol(server, enrol, office);
  }
  if (!office) {
    kjc_error(_("init: --office CODE (or --enrol CODE) is required (see 'kinerja init --help')"));
    return KJC_EXIT_USAGE;
  }
  kj_err err;
  kj_err_clear(&err);
  if (kj_record_validate_id(KJ_T_OFFICE, office, &err)) {
    kjc_error(_("init: bad office code '%s': %s"), office, err.msg);
    return KJC_EXIT_USAGE;
  }
  kj_err uerr;
  if (server && check_server(server, &uerr)) {
    kjc_error("%s", uerr.msg);
    return KJC_EXIT_USAGE;
  }
  char *token = NULL;
  if ((r = token_arg(token_opt, token_file, &token)))
    return r;
  const char *path = kjc_db_path();
  if (kjc_store_create(path, office, &err)) {
    kjc_error("%s", err.msg);
    token_free(token);
    return KJC_EXIT_FAIL;
  }
  kjc_store *s;
  if (kjc_open(&s, KJC_OPEN_WRITE)) {
    token_free(token);
    return KJC_EXIT_FAIL;
  }
  kj_code c = kjc_store_begin(s, &err);
  if (!c && server)
    c = kjc_meta_set(s, KJC_META_SERVER, server, &err);
  if (!c && token)
    c = kjc_meta_set(s, KJC_META_TOKEN, token, &err);
  if (!c && ca)
    c = set_ca(s, ca, &err);
  if (!c)
    c = kjc_store_commit(s, &err);
  kjc_store_close(s);
  token_free(token);
  if (c) {
    kjc_error("%s", err.msg);
    /* A half-made database is worse than none. */
    remove(path);
    return KJC_EXIT_FAIL;
  }
  printf(_("created '%s' for office %s\n"), path, office);
  return 0;
}

static const char config_help[] =
    N_("usage: kinerja config set KEY VALUE\n"
       "       kinerja config get KEY\n"
       "\n"
       "Set or show a setting of this database.  KEY is one of:\n"
       "  server   the central server URL (https://)\n"
       "  token    this device's token; VALUE '-' reads it from standard input\n"
       "           (a token on the command line is visible in 'ps': warned)\n"
       "  ca       PEM CA certificate file to pin (its contents are stored)\n"
       "  office, device (get only)\n"
       "\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja config set server https://kinerja.bkd.example\n");

int kjc_cmd_config(int argc, char **argv) {
  char *pos[3];
  int npos, r = kjc_parse(argc, argv, NULL, pos, 3, &npos, config_help);
  if (r)
    return r < 0 ? 0 : r;
  int set = npos == 3 && !strcmp(pos[0], "set");
  int get = npos == 2 && !strcmp(pos[0], "get");
  if (!set && !get) {
    kjc_error(_("config: expected 'set KEY VALUE' or 'get KEY' (see 'kinerja config --help')"));
    return KJC_EXIT_USAGE;
  }
  const char *key = pos[1];
  static const char *const settable[] = {"server", "token", "ca", NULL};
  static const char *const gettable[] = {"server", "token", "ca", "office", "device", NULL};
  const char *const *keys = set ? settable : gettable;
  int known = 0;
  for (int i = 0; keys[i]; i++)
    known |= !strcmp(keys[i], key);
  if (!known) {
    kjc_error(_("config: unknown key '%s' (server, token, ca%s)"), key,
              set ? "" : ", office, device");
    return KJC_EXIT_USAGE;
  }
  kjc_store *s;
  if (kjc_open(&s, set ? KJC_OPEN_WRITE : KJC_OPEN_READ))
    return KJC_EXIT_FAIL;
  kj_err err;
  kj_err_clear(&err);
  kj_code c = KJ_OK;
  if (set) {
    kj_err uerr;
    if (!strcmp(key, "server") && check_server(pos[2], &uerr)) {
      kjc_error("%s", uerr.msg);
      kjc_store_close(s);
      return KJC_EXIT_USAGE;
    }
    char *token = NULL;
    if (!strcmp(key, "token")) {
      struct stat sb;
      if (stat(kjc_store_path(s), &sb) == 0 && (kj_file_mode(&sb) & S_IRWXO)) {
        kjc_error(_("database '%s' is open to every user (mode %03o): run 'chmod 600 %s' before "
                    "storing a token in it"),
                  kjc_store_path(s), kj_file_mode(&sb), kjc_store_path(s));
        kjc_store_close(s);
        return KJC_EXIT_FAIL;
      }
      if (!strcmp(pos[2], "-"))
        token = token_read(0, "standard input");
      else {
        kjc_warn(_("a token on the command line is visible to every user of this PC (ps); use "
                   "'kinerja config set token -' and type or pipe it"));
        token = strdup(pos[2]);
      }
      if (!token) {
        kjc_store_close(s);
        return KJC_EXIT_FAIL;
      }
    }
    c = kjc_store_begin(s, &err);
    if (!c)
      c = !strcmp(key, "ca") ? set_ca(s, pos[2], &err)
          : token            ? kjc_meta_set(s, key, token, &err)
                             : kjc_meta_set(s, key, pos[2], &err);
    token_free(token);
    if (!c)
      c = kjc_store_commit(s, &err);
    else
      kjc_store_rollback(s);
  } else {
    char *v = NULL;
    c = kjc_meta_get(s, key, &v, &err);
    if (!c) {
      if (v) {
        kj_term_fputs(v, stdout);
        putchar('\n');
      } else
        c = kj_fail(&err, KJ_ENOENT, _("config: '%s' is not set"), key);
    }
    free(v);
  }
  kjc_store_close(s);
  if (c) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  return 0;
}
