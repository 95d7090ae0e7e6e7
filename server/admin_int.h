/* admin_int.h - what the kinerjad command files share (admin.c and
 * admin_person.c): the context a command runs with. */
#ifndef KJS_ADMIN_INT_H
#define KJS_ADMIN_INT_H

#include "config.h"

typedef struct cmd_ctx {
  kjs_config cfg;
  int argc;
  char **argv; /* after the command name(s) */
} cmd_ctx;

/* `kinerjad person activate NIP [--days N]` (admin_person.c): returns the
 * exit status, messages on stdout, errors on stderr. */
int kjs_cmd_person(cmd_ctx *c);

#endif
