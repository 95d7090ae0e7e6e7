/* admin_user.c - `kinerjad user`, `kinerjad token list|revoke` and the
 * enrolment code of `kinerjad device add` (issue 18). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "admin_bkd.h"
#include "kjs_enrol.h"
#include "passhash.h"
#include "record.h"
#include "text.h"

#define PASSWORD_MIN 10   /* characters */
#define PASSWORD_MAX 1024 /* bytes */
#define USER_NAME_MAX 64

/* ---- user -------------------------------------------------------------- */

static const char user_help[] =
    "usage: kinerjad user add NAME --role admin|analyst [--password-file FILE]\n"
    "       kinerjad user list [--json]\n"
    "       kinerjad user remove NAME\n\n"
    "The people who sign in to the BKD dashboard.  Admins also enrol and revoke\n"
    "devices; analysts read scores, records and exports.  The password is kept\n"
    "only as an Argon2id hash.  It comes from --password-file FILE (its first\n"
    "line; only its owner may read the file), else $KINERJAD_PASSWORD, else it\n"
    "is asked twice at the terminal without echo.  At least 10 characters.\n"
    "Removing a user ends their dashboard sessions at their next request.\n\n"
    "  NAME                 1 to 64 of A-Z a-z 0-9 . _ @ -, starting with a\n"
    "                       letter or digit\n"
    "  --role admin|analyst what the user may do (add; required)\n"
    "  --password-file FILE the password (add)\n"
    "  --json               one JSON array (list; default a table)\n"
    "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
    "\nexample: kinerjad user add siti --role analyst\n";

/* 0 when name is a valid user name, else 1 after the message. */
static int bad_user_name(const char *cmd, const char *name) {
  size_t n = strlen(name);
  int ok = n >= 1 && n <= USER_NAME_MAX;
  for (size_t i = 0; ok && i < n; i++) {
    char ch = name[i];
    int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    ok = alnum || (i > 0 && (ch == '.' || ch == '_' || ch == '@' || ch == '-'));
  }
  if (!ok)
    kjs_adm_error("%s: bad user name '%s': 1 to %d of A-Z a-z 0-9 . _ @ -, starting with a "
                  "letter or digit",
                  cmd, name, USER_NAME_MAX);
  return !ok;
}

/* The password rules: 0 when fine, else 1 after the message. */
static int bad_password(const char *pw) {
  long n = kj_utf8_len(pw);
  if (n < 0) {
    kjs_adm_error("user add: the password is not valid UTF-8");
    return 1;
  }
  for (const unsigned char *p = (const unsigned char *)pw; *p; p++)
    if (*p < ' ' || *p == 0x7f) {
      kjs_adm_error("user add: the password holds a control character");
      return 1;
    }
  if (n < PASSWORD_MIN) {
    kjs_adm_error("user add: the password is too short: %ld characters, at least %d", n,
                  PASSWORD_MIN);
    return 1;
  }
  if (strlen(pw) > PASSWORD_MAX) {
    kjs_adm_error("user add: the password is too long: more than %d bytes", PASSWORD_MAX);
    return 1;
  }
  return 0;
}

/* One line from fd into buf (size bytes), without its newline: 0, or -1
 * when the line is longer than buf or reading failed. */
static int read_line(int fd, char *buf, size_t size) {
  size_t n = 0;
  for (;;) {
    char ch;
    ssize_t r = read(fd, &ch, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0 || ch == '\n')
      break;
    if (n + 1 >= size)
      return -1;
    buf[n++] = ch;
  }
  if (n && buf[n - 1] == '\r')
    n--;
  buf[n] = 0;
  return 0;
}

/* Ask at the terminal (fd) without echo; prompt on stderr. */
static int ask(int fd, const char *prompt, char *buf, size_t size) {
  struct termios old, quiet;
  if (tcgetattr(fd, &old) != 0)
    return -1;
  quiet = old;
  quiet.c_lflag &= ~(tcflag_t)(ECHO);
  quiet.c_lflag |= ECHONL;
  fputs(prompt, stderr);
  fflush(stderr);
  if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
    return -1;
  int r = read_line(fd, buf, size);
  tcsetattr(fd, TCSAFLUSH, &old);
  return r;
}

/* The password of `user add` into pw (size bytes): 0, or 1 after a message. */
static int get_password(const char *file, const char *name, char *pw, size_t size) {
  if (file) {
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) {
      kjs_adm_error("user add: cannot read password file '%s': %s", file, strerror(errno));
      return 1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
      kjs_adm_error("user add: password file '%s' is not a regular file", file);
      close(fd);
      return 1;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
      kjs_adm_error("user add: password file '%s' is open to other users (mode %03o): run "
                    "'chmod 600 %s'",
                    file, (unsigned)(sb.st_mode & 0777), file);
      close(fd);
      return 1;
    }
    int r = read_line(fd, pw, size);
    close(fd);
    if (r) {
      kjs_adm_error("user add: the first line of '%s' is longer than %d bytes", file, PASSWORD_MAX);
      return 1;
    }
    return 0;
  }
  const char *env = getenv("KINERJAD_PASSWORD");
  if (env && *env) {
    snprintf(pw, size, "%s", env);
    return 0;
  }
  if (!isatty(0)) {
    kjs_adm_error("user add: no password: give --password-file FILE or $KINERJAD_PASSWORD, or run "
                  "it at a terminal to be asked");
    return 1;
  }
  char again[PASSWORD_MAX + 2], prompt[128];
  snprintf(prompt, sizeof prompt, "password for %s: ", name);
  if (ask(0, prompt, pw, size) || ask(0, "the same password again: ", again, sizeof again)) {
    kjs_adm_error("user add: cannot read the password from the terminal");
    return 1;
  }
  int same = !strcmp(pw, again);
  memset(again, 0, sizeof again);
  if (!same) {
    kjs_adm_error("user add: the two passwords differ: nothing changed");
    return 1;
  }
  return 0;
}

static int user_add(kjs_config *cfg, const char *name, const char *role, const char *file) {
  if (bad_user_name("user add", name))
    return 1;
  if (!role || (strcmp(role, "admin") != 0 && strcmp(role, "analyst") != 0)) {
    kjs_adm_error(role ? "user add: --role must be admin or analyst, not '%s'"
                       : "user add: --role admin|analyst is required%s",
                  role ? role : "");
    return 1;
  }
  kjs_store *st;
  if (kjs_adm_open(cfg, &st)) /* before asking: no password typed for nothing */
    return 1;
  char pw[PASSWORD_MAX + 2], hash[KJ_PASSHASH_MAX];
  int rc = get_password(file, name, pw, sizeof pw) || bad_password(pw);
  kj_err e;
  kj_err_clear(&e);
  if (!rc &&
      (kj_pass_hash(pw, hash, sizeof hash, &e) || kjs_store_user_add(st, name, role, hash, &e))) {
    kjs_adm_error("user add: %s", e.msg);
    rc = 1;
  }
  memset(pw, 0, sizeof pw);
  if (!rc)
    printf("added user %s (%s)\n", name, role);
  kjs_store_close(st);
  return rc;
}

static int user_list(kjs_config *cfg, int json) {
  kjs_store *st;
  if (kjs_adm_open(cfg, &st))
    return 1;
  cJSON *arr = NULL;
  kj_err e;
  kj_err_clear(&e);
  int rc = 0;
  if (kjs_store_user_list(st, &arr, &e)) {
    kjs_adm_error("%s", e.msg);
    rc = 1;
  } else if (json) {
    char *t = cJSON_Print(arr);
    printf("%s\n", t ? t : "[]");
    free(t);
  } else if (!cJSON_GetArraySize(arr)) {
    printf("no users (add one with 'kinerjad user add NAME --role admin|analyst')\n");
  } else {
    printf("%-24s %-8s %-20s %s\n", "NAME", "ROLE", "CREATED", "LAST SIGN-IN");
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
      char created[32], last[32];
      kjs_adm_time(cJSON_GetObjectItem(o, "created")->valuedouble, created, sizeof created);
      const cJSON *ll = cJSON_GetObjectItem(o, "last_login");
      kjs_adm_time(cJSON_IsNumber(ll) ? ll->valuedouble : 0, last, sizeof last);
      printf("%-24s %-8s %-20s %s\n", cJSON_GetObjectItem(o, "name")->valuestring,
             cJSON_GetObjectItem(o, "role")->valuestring, created, last);
    }
  }
  cJSON_Delete(arr);
  kjs_store_close(st);
  return rc;
}

int kjs_admin_user(kjs_config *cfg, int argc, char **argv) {
  const char *sub = argc > 0 ? argv[0] : NULL;
  if (!sub || kjs_adm_want_help(argc, argv)) {
    fputs(user_help, sub ? stdout : stderr);
    return sub ? 0 : 1;
  }
  const char *name = NULL, *role = NULL, *file = NULL;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--role") && i + 1 < argc)
      role = argv[++i];
    else if (!strcmp(a, "--password-file") && i + 1 < argc)
      file = argv[++i];
    else if (!strcmp(a, "--json"))
      json = 1;
    else if (a[0] != '-' && !name)
      name = a;
    else {
      static const char *const known[] = {"--role", "--password-file", "--json", NULL};
      char cmd[40];
      snprintf(cmd, sizeof cmd, "user %s", sub);
      kjs_adm_bad_arg(cmd, a, known);
      return 1;
    }
  }
  if (!strcmp(sub, "add")) {
    if (!name) {
      kjs_adm_error("user add: which user? (kinerjad user add NAME --role admin|analyst)");
      return 1;
    }
    return user_add(cfg, name, role, file);
  }
  if (!strcmp(sub, "list")) {
    if (name || role || file) {
      kjs_adm_error("user list: takes only --json");
      return 1;
    }
    return user_list(cfg, json);
  }
  if (!strcmp(sub, "remove")) {
    if (!name) {
      kjs_adm_error("user remove: which user? (see 'kinerjad user list')");
      return 1;
    }
    kjs_store *st;
    if (kjs_adm_open(cfg, &st))
      return 1;
    kj_err e;
    kj_err_clear(&e);
    int rc = 0;
    if (kjs_store_user_remove(st, name, &e)) {
      kjs_adm_error("user remove: %s", e.msg);
      rc = 1;
    } else {
      printf("removed user %s (signed-in sessions end at their next request)\n", name);
    }
    kjs_store_close(st);
    return rc;
  }
  static const char *const subs[] = {"add", "list", "remove"};
  kjs_adm_bad_word("user command", sub, subs, 3);
  return 1;
}

/* ---- token list / revoke ------------------------------------------------ */

static const char token_help[] =
    "usage: kinerjad token list [--json]\n"
    "       kinerjad token revoke ID\n\n"
    "list shows every token: devices' (office, name, enrolment code) and those of\n"
    "people and scripts ('token add'), with when each was made, last used (to the\n"
    "minute) and revoked.  revoke takes effect at once, also while serve runs.\n\n"
    "  --json       one JSON array (list; default a table)\n"
    "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
    "\nexample: kinerjad token list\n";

int kjs_admin_token(kjs_config *cfg, int argc, char **argv) {
  const char *sub = argv[0];
  if (kjs_adm_want_help(argc, argv)) {
    fputs(token_help, stdout);
    return 0;
  }
  const char *id = NULL;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json") && !strcmp(sub, "list"))
      json = 1;
    else if (argv[i][0] != '-' && !id && !strcmp(sub, "revoke"))
      id = argv[i];
    else {
      static const char *const known[] = {"--json", NULL};
      char cmd[40];
      snprintf(cmd, sizeof cmd, "token %s", sub);
      kjs_adm_bad_arg(cmd, argv[i], known);
      return 1;
    }
  }
  if (!strcmp(sub, "revoke") && !id) {
    kjs_adm_error("token revoke: which ID? (see 'kinerjad token list')");
    return 1;
  }
  kjs_store *st;
  if (kjs_adm_open(cfg, &st))
    return 1;
  kj_err e;
  kj_err_clear(&e);
  int rc = 0;
  cJSON *arr = NULL;
  if (id) {
    if (kjs_store_token_revoke(st, id, &e)) {
      kjs_adm_error("token revoke: %s", e.msg);
      rc = 1;
    } else {
      printf("revoked %s\n", id);
    }
  } else if (kjs_store_token_list(st, 0, &arr, &e)) {
    kjs_adm_error("%s", e.msg);
    rc = 1;
  } else if (json) {
    char *t = cJSON_Print(arr);
    printf("%s\n", t ? t : "[]");
    free(t);
  } else {
    printf("%-14s %-7s %-12s %-8s %-20s %-20s %-8s %s\n", "ID", "ROLE", "OFFICE", "STATUS",
           "CREATED", "LAST SEEN", "ENROL", "NAME");
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
      char created[32], seen[32];
      const cJSON *ls = cJSON_GetObjectItem(o, "last_seen"), *of = cJSON_GetObjectItem(o, "office"),
                  *nm = cJSON_GetObjectItem(o, "name"), *en = cJSON_GetObjectItem(o, "enrolment");
      kjs_adm_time(cJSON_GetObjectItem(o, "created")->valuedouble, created, sizeof created);
      kjs_adm_time(cJSON_IsNumber(ls) ? ls->valuedouble : 0, seen, sizeof seen);
      printf("%-14s %-7s %-12s %-8s %-20s %-20s %-8s ", cJSON_GetObjectItem(o, "id")->valuestring,
             cJSON_GetObjectItem(o, "role")->valuestring,
             cJSON_IsString(of) ? of->valuestring : "-",
             cJSON_IsNull(cJSON_GetObjectItem(o, "revoked")) ? "active" : "revoked", created, seen,
             cJSON_IsString(en) ? en->valuestring : "-");
      kj_term_fputs(cJSON_IsString(nm) ? nm->valuestring : "", stdout); /* any label, escaped */
      putchar('\n');
    }
    /* people's dashboard sessions join this list when the dashboard exists */
  }
  cJSON_Delete(arr);
  kjs_store_close(st);
  return rc;
}

/* ---- device add's enrolment code --------------------------------------- */

int kjs_admin_enrol_print(kjs_store *st, const kjs_config *cfg, const char *device,
                          const char *token) {
  char code[KJ_ENROL_CODE_SIZE];
  int64_t expires = 0;
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_enrol_issue(st, cfg->cert_file, device, token, code, &expires, &e);
  if (rc == KJ_ENOENT) {
    fprintf(stderr,
            "kinerjad: warning: no certificate at '%s': no enrolment code (give the PC "
            "the token and the certificate instead)\n",
            cfg->cert_file);
    return 0;
  }
  if (rc) {
    kjs_adm_error("device add: the device is added, but its enrolment code is not: %s", e.msg);
    return 1;
  }
  char until[32];
  kjs_adm_time((double)expires, until, sizeof until);
  printf("enrolment code: %s\n", code);
  printf("enrolment code valid until %s, once: on the PC run\n"
         "  kinerja init --server https://THIS-SERVER:PORT --enrol %s\n",
         until, code);
  return 0;
}
