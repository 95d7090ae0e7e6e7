/* main.c - the `kinerja` program: the command table and dispatch.
 *
 * Each command lives in a cmd_*.c file of kj_client.  To add one, declare
 * it in cli.h and add a row here.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "log.h"
#include "plat.h"
#include "suggest.h"

static const kjc_command commands[] = {
    {"init", kjc_cmd_init, N_("create the local database for an office")},
    {"config", kjc_cmd_config, N_("set or show server, token, ca")},
    {"add", kjc_cmd_add, N_("add a record: add TYPE FIELD=VALUE ...")},
    {"update", kjc_cmd_update, N_("change fields of a record: update ID FIELD=VALUE ...")},
    {"delete", kjc_cmd_delete, N_("delete a record (the delete syncs)")},
    {"show", kjc_cmd_show, N_("show one record")},
    {"approve", kjc_cmd_approve, N_("approve activities: approve ID... --as NIP")},
    {"reject", kjc_cmd_reject, N_("reject activities: reject ID... --as NIP [--reason TEXT]")},
    {"person", kjc_cmd_person, N_("PINs at this PC: person setup NIP, person list")},
    {"list", kjc_cmd_list, N_("list records of a type")},
    {"import", kjc_cmd_import, N_("import a CSV file: import TYPE FILE.csv")},
    {"export", kjc_cmd_export, N_("export records as CSV or JSON")},
    {"discard", kjc_cmd_discard, N_("drop a record's local changes: discard ID...")},
    {"status", kjc_cmd_status, N_("office, server, pending changes, last sync")},
    {"sync", kjc_cmd_sync, N_("push local changes, pull corrections and scores")},
    {"report", kjc_cmd_report, N_("the office's scores as last pulled")},
    {"backup", kjc_cmd_backup, N_("copy the database while it is in use: backup FILE")},
    {"ui", kjc_cmd_ui, N_("serve the office web app and keep syncing")},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *f) {
  fputs(_("usage: kinerja [--db PATH] COMMAND [ARGS]\n\n"
          "The database is --db PATH, else $KINERJA_DB, else ./kinerja.db.\n\n"
          "Commands:\n"),
        f);
  for (int i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-8s %s\n", commands[i].name, _(commands[i].summary));
  fputs(_("\n'kinerja COMMAND --help' explains each command.\n"), f);
}

int main(int argc, char **argv) {
  kj_plat_init(); /* Windows: UTF-8 console, binary stdout (common/plat.h) */
  kj_i18n_init(); /* Indonesian unless the environment asks for English (i18n.h) */
  kj_log_init("kinerja");
  int i = 1;
  while (i < argc && argv[i][0] == '-') {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(argv[i], "--version")) {
      printf("kinerja %s\n", KJ_VERSION);
      return 0;
    }
    if (!strcmp(argv[i], "--db") && i + 1 < argc) {
      kjc_set_db_path(argv[i + 1]);
      i += 2;
    } else if (!strncmp(argv[i], "--db=", 5)) {
      kjc_set_db_path(argv[i] + 5);
      i++;
    } else {
      static const char *const top[] = {"--db", "--help", "--version"};
      const char *meant = kj_suggest(argv[i], top, 3);
      if (meant)
        kjc_error(_("unknown option '%s' (did you mean '%s'?)"), argv[i], meant);
      else
        kjc_error(_("unknown option '%s' (see 'kinerja --help')"), argv[i]);
      return KJC_EXIT_USAGE;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return KJC_EXIT_USAGE;
  }
  const char *name = argv[i];
  for (int k = 0; k < NCOMMANDS; k++)
    if (!strcmp(commands[k].name, name))
      return commands[k].fn(argc - i, argv + i);

  const char *names[NCOMMANDS];
  for (int k = 0; k < NCOMMANDS; k++)
    names[k] = commands[k].name;
  const char *meant = kj_suggest(name, names, NCOMMANDS);
  if (meant)
    kjc_error(_("unknown command '%s' (did you mean '%s'?)"), name, meant);
  else
    kjc_error(_("unknown command '%s' (see 'kinerja --help')"), name);
  return KJC_EXIT_USAGE;
}
