/* admin.h - the `kinerjad` command line: init, serve, device, token,
 * import, conflicts, report, recompute (docs/operations.md). */
#ifndef KJS_ADMIN_H
#define KJS_ADMIN_H

/* Run one command; returns the exit status.  Messages go to stdout and
 * errors to stderr as "kinerjad: ...". */
int kjs_admin_main(int argc, char **argv);

#endif
