/* admin_bkd.h - the kinerjad commands of the BKD's people (issue 18):
 * `user`, `token list|revoke`, `export`, and the enrolment code that
 * `device add` prints.  admin.c's dispatch table calls these; the helpers
 * below are what they share (the same messages as admin.c's). */
#ifndef KJS_ADMIN_BKD_H
#define KJS_ADMIN_BKD_H

#include <stdarg.h>

#include "config.h"
#include "store.h"

/* kinerjad user add|list|remove ... (argv after "user"); exit status. */
int kjs_admin_user(kjs_config *cfg, int argc, char **argv);
/* kinerjad token list|revoke ... (argv after "token"); exit status. */
int kjs_admin_token(kjs_config *cfg, int argc, char **argv);
/* kinerjad export TYPE ... (argv after "export"); exit status. */
int kjs_admin_export(kjs_config *cfg, int argc, char **argv);

/* After `device add` made device with token: make its enrolment code
 * (server/kjs_enrol.h) and print "enrolment code: CODE" and its expiry; a
 * data directory without a certificate gets a warning instead.  0, or 1
 * after a message when the code cannot be stored. */
int kjs_admin_enrol_print(kjs_store *st, const kjs_config *cfg, const char *device,
                          const char *token);

/* --- shared by the files above ------------------------------------------ */

/* "kinerjad: MESSAGE" on stderr, control characters escaped. */
void kjs_adm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The config loaded and the store opened into *st: 0, or 1 after a message. */
int kjs_adm_open(kjs_config *cfg, kjs_store **st);
/* 1 when argv holds --help or -h. */
int kjs_adm_want_help(int argc, char **argv);
/* A word the command does not take (see admin.c bad_arg): a known option
 * without its value, a mistyped option (with the closest of known, a
 * NULL-terminated list), or an argument too many. */
void kjs_adm_bad_arg(const char *cmd, const char *a, const char *const *known);
/* An unknown subcommand with the closest of known[0..n). */
void kjs_adm_bad_word(const char *what, const char *a, const char *const *known, size_t n);
/* ms since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (or "-" for 0 / negative). */
void kjs_adm_time(double ms, char *out, size_t size);

#endif
