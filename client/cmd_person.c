/* cmd_person.c - `kinerja person setup|list` and signing in with --as
 * (client/person.h, docs/operations.md "People and PINs"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "i18n.h"
#include "log.h"
#include "person.h"
#include "plat.h"
#include "text.h"

/* One line from stdin into out[size] without its line end; at a terminal
 * the prompt goes to stderr first and, for a secret, nothing is echoed.
 * 0, or -1 at end of input. */
static int read_line(const char *prompt, int secret, char *out, size_t size) {
  int tty = kj_is_terminal(0);
  int restore = 0;
  if (tty) {
    fputs(prompt, stderr);
    fflush(stderr);
    if (secret)
      restore = kj_term_echo_off();
  }
  int r = fgets(out, (int)size, stdin) ? 0 : -1;
  if (restore) {
    kj_term_echo_restore();
    fputc('\n', stderr);
  }
  if (r == 0)
    out[strcspn(out, "\r\n")] = 0;
  else
    out[0] = 0;
  return r;
}

/* The PIN of nip when given without a prompt: --pin-file FILE (its first
 * line), else $KINERJA_PIN.  1 with pin filled, 0 when neither is given,
 * -1 after a message. */
static int pin_given(const char *pin_file, char *pin, size_t size) {
  if (pin_file) {
    FILE *f = fopen(pin_file, "r");
    if (!f) {
      kjc_error(_("cannot read --pin-file '%s': %s"), pin_file, strerror(errno));
      return -1;
    }
    /* as a token file: a PIN others may read is not a secret */
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
      kjc_error(_("--pin-file '%s' is not a regular file"), pin_file);
      fclose(f);
      return -1;
    }
    if (kj_file_mode(&sb) & (S_IRWXG | S_IRWXO)) {
      kjc_error(_("--pin-file '%s' is open to other users (mode %03o): run 'chmod 600 %s'"),
                pin_file, kj_file_mode(&sb), pin_file);
      fclose(f);
      return -1;
    }
    if (!fgets(pin, (int)size, f))
      pin[0] = 0;
    fclose(f);
    pin[strcspn(pin, "\r\n")] = 0;
    return 1;
  }
  const char *e = getenv("KINERJA_PIN");
  if (e && *e) {
    snprintf(pin, size, "%s", e);
    return 1;
  }
  return 0;
}

int kjc_sign_in(kjc_store *s, const char *nip, const char *pin_file,
                char author[KJ_AUTHOR_MAX + 1]) {
  if (!kj_nip_valid(nip)) {
    kjc_error(_("--as: '%s' is not a NIP (18 digits)"), nip);
    return KJC_EXIT_USAGE;
  }
  kj_err err;
  kj_err_clear(&err);
  /* no PIN here yet, or locked: say so before a PIN is typed for nothing
   * (the same message and exit status as after it) */
  if (kjc_person_can_signin(s, nip, NULL, &err)) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  char pin[KJC_PIN_MAX + 8];
  int g = pin_given(pin_file, pin, sizeof pin);
  if (g < 0)
    return KJC_EXIT_FAIL;
  if (!g) {
    char prompt[64];
    snprintf(prompt, sizeof prompt, _("PIN for %s: "), nip);
    read_line(prompt, 1, pin, sizeof pin);
  }
  if (!pin[0]) {
    kjc_error(_("--as %s: no PIN given: type it at a terminal, or give --pin-file FILE or "
                "$KINERJA_PIN"),
              nip);
    return KJC_EXIT_FAIL;
  }
  kj_code c = kjc_person_signin(s, nip, pin, NULL, &err);
  memset(pin, 0, sizeof pin);
  if (c) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  snprintf(author, KJ_AUTHOR_MAX + 1, "%s", nip);
  kj_log(KJ_LOG_DEBUG, "signed in as %s", nip);
  return 0;
}

int kjc_need_as(const kj_type_def *t, const char *as, const char *cmd) {
  if (t->type != KJ_T_RATING || as)
    return 0;
  kjc_error(_("%s rating: --as NIP is required: a rating is written by its rater, signed in with "
              "their PIN"),
            cmd);
  return KJC_EXIT_USAGE;
}

static const char setup_help[] =
    N_("usage: kinerja person setup NIP [--code CODE] [--pin-file FILE]\n"
       "\n"
       "Set the PIN of the employee NIP at this PC with the activation code the BKD\n"
       "gave them ('kinerjad person activate NIP'; it reaches this PC with 'kinerja\n"
       "sync').  Asks for the code and for the new PIN (6 to 32 digits) twice; the\n"
       "PIN is not shown as it is typed.  A code sets a PIN once; a forgotten PIN\n"
       "needs a new code.  Five wrong codes or PINs lock the person for 15 minutes.\n"
       "\n"
       "  --code CODE      the activation code (else asked)\n"
       "  --pin-file FILE  the new PIN is the first line of FILE (else $KINERJA_PIN,\n"
       "                   else asked twice)\n"
       "  --db PATH        database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja person setup 198001012005011001\n");

static int setup(int argc, char **argv) {
  const char *code = NULL, *pin_file = NULL;
  kjc_opt opts[] = {
      {"--code", 1, &code, NULL}, {"--pin-file", 1, &pin_file, NULL}, {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 1, &npos, setup_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos != 1) {
    kjc_error(_("person setup: expected NIP (see 'kinerja person setup --help')"));
    return KJC_EXIT_USAGE;
  }
  const char *nip = pos[0];
  if (!kj_nip_valid(nip)) {
    kjc_error(_("person setup: '%s' is not a NIP (18 digits)"), nip);
    return KJC_EXIT_USAGE;
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_WRITE)))
    return r;
  char code_buf[64], pin[KJC_PIN_MAX + 8], again[KJC_PIN_MAX + 8];
  kj_err err;
  kj_err_clear(&err);
  /* say so before the code and the PIN are typed for nothing */
  if (kjc_person_can_setup(s, nip, &err)) {
    kjc_error(_("person setup: %s"), err.msg);
    r = KJC_EXIT_FAIL;
    goto out;
  }
  if (!code) {
    read_line(_("activation code: "), 0, code_buf, sizeof code_buf);
    code = code_buf;
  }
  int g = pin_given(pin_file, pin, sizeof pin);
  if (g < 0) {
    r = KJC_EXIT_FAIL;
    goto out;
  }
  if (!g) {
    read_line(_("new PIN (6 to 32 digits): "), 1, pin, sizeof pin);
    if (kjc_pin_check(pin, &err)) {
      kjc_error(_("person setup: %s"), err.msg);
      r = KJC_EXIT_FAIL;
      goto out;
    }
    read_line(_("the new PIN again: "), 1, again, sizeof again);
    if (strcmp(pin, again) != 0) {
      kjc_error(_("person setup: the two PINs differ: nothing changed"));
      r = KJC_EXIT_FAIL;
      goto out;
    }
  }
  kjc_signin info;
  if (kjc_person_setup(s, nip, code, pin, &info, &err)) {
    kjc_error(_("person setup: %s"), err.msg);
    r = KJC_EXIT_FAIL;
    goto out;
  }
  printf(_("PIN set for %s: sign in with --as %s\n"), nip, nip);
out:
  memset(pin, 0, sizeof pin);
  memset(again, 0, sizeof again);
  memset(code_buf, 0, sizeof code_buf);
  kjc_store_close(s);
  return r;
}

static const char list_help[] = N_("usage: kinerja person list [--json]\n"
                                   "\n"
                                   "Who of this office's roster can sign in at this PC: name, "
                                   "whether a PIN is\n"
                                   "set, an activation code waiting, a lock and until when.\n"
                                   "\n"
                                   "  --json      a JSON array on stdout\n"
                                   "  --db PATH   database file (default $KINERJA_DB, else "
                                   "./kinerja.db)\n");

typedef struct list_ctx {
  kjc_store *s;
  int json, n;
  int64_t now;
  cJSON *arr;
} list_ctx;

static int list_row(void *ud, const kjc_person_view *p) {
  list_ctx *l = ud;
  char locked[48] = "", code[48] = "";
  int is_locked = p->locked_until_ms > l->now;
  if (is_locked)
    kjc_office_time(l->s, p->locked_until_ms, locked, sizeof locked);
  if (p->code_expires_ms)
    kjc_office_time(l->s, p->code_expires_ms, code, sizeof code);
  if (l->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "nip", p->nip);
    if (p->name)
      cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddBoolToObject(o, "pin", p->has_pin);
    if (is_locked)
      cJSON_AddStringToObject(o, "locked_until", locked);
    if (p->code_expires_ms)
      cJSON_AddStringToObject(o, "code_expires", code);
    cJSON_AddItemToArray(l->arr, o);
  } else {
    if (!l->n)
      printf("%-18s  %-24s  %-7s  %s\n", "NIP", _("NAME"), "PIN", _("NOTE"));
    printf("%-18s  ", p->nip);
    char name[25];
    snprintf(name, sizeof name, "%s", p->name ? p->name : "");
    kj_term_fputs(name, stdout);
    printf("%*s  %-7s  ", 24 - (int)kj_utf8_len(name) > 0 ? 24 - (int)kj_utf8_len(name) : 0, "",
           p->has_pin ? _("set") : _("not set"));
    const char *sep = "";
    if (is_locked) {
      printf(_("locked until %s"), locked);
      sep = "; ";
    }
    if (p->code_expires_ms > l->now)
      printf(_("%sactivation code waiting, valid until %s"), sep, code);
    else if (p->code_expires_ms)
      printf(_("%sactivation code expired %s"), sep, code);
    putchar('\n');
  }
  l->n++;
  return 0;
}

static int list(int argc, char **argv) {
  int json = 0;
  kjc_opt opts[] = {{"--json", 0, NULL, &json}, {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 1, &npos, list_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos) {
    kjc_error(_("person list: unexpected argument '%s'"), pos[0]);
    return KJC_EXIT_USAGE;
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_READ)))
    return r;
  list_ctx l = {s, json, 0, kjc_store_now_ms(s), json ? cJSON_CreateArray() : NULL};
  kj_err err;
  kj_err_clear(&err);
  if (kjc_person_each(s, list_row, &l, &err)) {
    kjc_error("%s", err.msg);
    r = KJC_EXIT_FAIL;
  } else if (json) {
    kjc_print_json(l.arr);
  } else if (!l.n) {
    printf(_("nobody of office '%s' is on the roster here yet (run 'kinerja sync')\n"),
           kjc_store_office(s));
  }
  cJSON_Delete(l.arr);
  kjc_store_close(s);
  return r;
}

static const char person_help[] =
    N_("usage: kinerja person setup NIP [--code CODE] [--pin-file FILE]\n"
       "       kinerja person list [--json]\n"
       "\n"
       "People sign in at this PC with a PIN (--as NIP on add, update, delete,\n"
       "import, approve, reject) so that their changes carry their NIP.\n"
       "'kinerja person setup --help' and 'kinerja person list --help' say more.\n");

int kjc_cmd_person(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(_(person_help), argc < 2 ? stderr : stdout);
    return argc < 2 ? KJC_EXIT_USAGE : 0;
  }
  if (!strcmp(argv[1], "setup"))
    return setup(argc - 1, argv + 1);
  if (!strcmp(argv[1], "list"))
    return list(argc - 1, argv + 1);
  kjc_error(_("person: unknown subcommand '%s' (setup or list)"), argv[1]);
  return KJC_EXIT_USAGE;
}
