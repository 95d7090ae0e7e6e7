/* cmd_init.c - `kinerja init` and `kinerja config`. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CA_MAX ((size_t)1024 * 1024)

static int check_server(const char *url) {
  if (strncmp(url, "https://", 8) != 0 || !url[8]) {
    kjc_error("server must be an https:// URL, not '%s'", url);
    return -1;
  }
  return 0;
}

/* Store the CA's absolute path and its contents (pinned at this moment). */
static kj_code set_ca(kjc_store *s, const char *file, kj_err *err) {
  char abs[PATH_MAX];
  if (!realpath(file, abs))
    return kj_fail(err, KJ_ENOENT, "cannot read CA file '%s': %s", file, strerror(errno));
  FILE *f = fopen(abs, "rb");
  if (!f)
    return kj_fail(err, KJ_EIO, "cannot read CA file '%s': %s", file, strerror(errno));
  char *pem = malloc(CA_MAX + 1);
  size_t n = pem ? fread(pem, 1, CA_MAX + 1, f) : 0;
  fclose(f);
  if (!pem)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  if (n <= CA_MAX)
    pem[n] = 0;
  if (n > CA_MAX || !n || !strstr(pem, "-----BEGIN CERTIFICATE-----")) {
    free(pem);
    return kj_fail(err, KJ_EINVAL, "'%s' is not a PEM certificate file", file);
  }
  kj_code c = kjc_meta_set(s, KJC_META_CA, abs, err);
  if (!c)
    c = kjc_meta_set(s, KJC_META_CA_PEM, pem, err);
  free(pem);
  return c;
}

static const char init_help[] =
    "usage: kinerja init --office CODE [--server URL] [--token TOKEN] [--ca FILE]\n"
    "\n"
    "Create the local database for office CODE (works with no network).\n"
    "Refuses to overwrite an existing database.\n"
    "\n"
    "  --office CODE   the office this PC records for (required), e.g. 36.73.04\n"
    "  --server URL    the central server, https:// (may be set later with 'config set')\n"
    "  --token TOKEN   this device's token from the BKD sysadmin\n"
    "  --ca FILE       PEM CA certificate to pin for the server (default: system store)\n"
    "  --db PATH       database file (default $KINERJA_DB, else ./kinerja.db)\n"
    "\n"
    "example: kinerja init --office 36.73.04 --server https://kinerja.bkd.example --token abc\n";

int kjc_cmd_init(int argc, char **argv) {
  const char *office = NULL, *server = NULL, *token = NULL, *ca = NULL;
  kjc_opt opts[] = {{"--office", 1, &office, NULL},
                    {"--server", 1, &server, NULL},
                    {"--token", 1, &token, NULL},
                    {"--ca", 1, &ca, NULL},
                    {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 0, &npos, init_help);
  if (r)
    return r < 0 ? 0 : r;
  if (!office) {
    kjc_error("init: --office CODE is required (see 'kinerja init --help')");
    return KJC_EXIT_USAGE;
  }
  kj_err err;
  kj_err_clear(&err);
  if (kj_record_validate_id(KJ_T_OFFICE, office, &err)) {
    kjc_error("init: bad office code '%s': %s", office, err.msg);
    return KJC_EXIT_USAGE;
  }
  if (server && check_server(server))
    return KJC_EXIT_USAGE;
  const char *path = kjc_db_path();
  if (kjc_store_create(path, office, &err)) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  kjc_store *s;
  if (kjc_open(&s, KJC_OPEN_WRITE))
    return KJC_EXIT_FAIL;
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
  if (c) {
    kjc_error("%s", err.msg);
    /* A half-made database is worse than none. */
    remove(path);
    return KJC_EXIT_FAIL;
  }
  printf("created '%s' for office %s\n", path, office);
  return 0;
}

static const char config_help[] =
    "usage: kinerja config set KEY VALUE\n"
    "       kinerja config get KEY\n"
    "\n"
    "Set or show a setting of this database.  KEY is one of:\n"
    "  server   the central server URL (https://)\n"
    "  token    this device's token\n"
    "  ca       PEM CA certificate file to pin (its contents are stored)\n"
    "  office, device (get only)\n"
    "\n"
    "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
    "\n"
    "example: kinerja config set server https://kinerja.bkd.example\n";

int kjc_cmd_config(int argc, char **argv) {
  char *pos[3];
  int npos, r = kjc_parse(argc, argv, NULL, pos, 3, &npos, config_help);
  if (r)
    return r < 0 ? 0 : r;
  int set = npos == 3 && !strcmp(pos[0], "set");
  int get = npos == 2 && !strcmp(pos[0], "get");
  if (!set && !get) {
    kjc_error("config: expected 'set KEY VALUE' or 'get KEY' (see 'kinerja config --help')");
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
    kjc_error("config: unknown key '%s' (server, token, ca%s)", key, set ? "" : ", office, device");
    return KJC_EXIT_USAGE;
  }
  kjc_store *s;
  if (kjc_open(&s, set ? KJC_OPEN_WRITE : KJC_OPEN_READ))
    return KJC_EXIT_FAIL;
  kj_err err;
  kj_err_clear(&err);
  kj_code c = KJ_OK;
  if (set) {
    if (!strcmp(key, "server") && check_server(pos[2])) {
      kjc_store_close(s);
      return KJC_EXIT_USAGE;
    }
    c = kjc_store_begin(s, &err);
    if (!c)
      c = !strcmp(key, "ca") ? set_ca(s, pos[2], &err) : kjc_meta_set(s, key, pos[2], &err);
    if (!c)
      c = kjc_store_commit(s, &err);
    else
      kjc_store_rollback(s);
  } else {
    char *v = NULL;
    c = kjc_meta_get(s, key, &v, &err);
    if (!c) {
      if (v)
        printf("%s\n", v);
      else
        c = kj_fail(&err, KJ_ENOENT, "config: '%s' is not set", key);
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
