/* main.c - the kinerjad program: everything is in kj_server (admin.c), but
 * `migrate-store` (migrate_store.c, issue 19). */
#include <string.h>

#include "admin.h"
#include "migrate_store.h"

int main(int argc, char **argv) {
  /* the command is the first word that is not --data DIR */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--data")) {
      i++;
      continue;
    }
    if (!strncmp(argv[i], "--data=", 7))
      continue;
    if (!strcmp(argv[i], "migrate-store"))
      return kjs_migrate_store_main(argc, argv);
    break;
  }
  return kjs_admin_main(argc, argv);
}
