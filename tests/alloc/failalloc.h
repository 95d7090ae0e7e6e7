/* failalloc.h - allocation failure injection for tests (tests/alloc).
 *
 * The test program is linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc,--wrap=strdup,--wrap=strndup, so every call of those in
 * our static libraries (kj_common, kj_proto, kj_client, kj_server) and in
 * the test goes through a counter.  fa_install() routes the allocations of
 * the shared libraries we drive through the same counter: cJSON
 * (cJSON_InitHooks) and SQLite (SQLITE_CONFIG_MALLOC).  libcsv allocates
 * through proto/csvio.c's realloc function (wrapped); zlib through the
 * zalloc of common/gz.c (wrapped calloc).
 *
 * While armed with n > 0, the n-th counted allocation returns NULL (and,
 * with persist, every later one too), like curl's `runtests -t` and
 * SQLite's fault injection.  Each allocation's call site (return address)
 * is recorded, so a driver can say how many distinct sites it reached and
 * where the failure was injected.
 */
#ifndef KJ_FAILALLOC_H
#define KJ_FAILALLOC_H

#include <stddef.h>
#include <stdio.h>

enum { FA_LIBC = 0, FA_CJSON = 1, FA_SQLITE = 2, FA__KINDS = 3 };

/* Install the cJSON and SQLite hooks.  Call before any SQLite use
 * (sqlite3_initialize). */
void fa_install(void);

/* Install the cJSON hooks again (after code that may have installed its
 * own, which would then be counted through malloc at one site). */
void fa_cjson_hooks(void);

/* Start counting: allocation number n (1-based) fails; n = 0 fails none.
 * persist: every allocation after the n-th fails as well. */
void fa_arm(long n, int persist);
/* Stop counting; returns the number of allocations counted while armed. */
long fa_disarm(void);
/* 1 when the armed run reached its n-th allocation (a failure was injected). */
int fa_hit(void);

/* Sites: every distinct return address seen while armed (per kind), and
 * the sites where a failure was injected, since the last fa_sites_reset. */
void fa_sites_reset(void);
size_t fa_sites_seen(int kind);
size_t fa_sites_failed(int kind);
/* Sites where a failure was injected since the start (never reset). */
size_t fa_sites_failed_total(int kind);
/* Each site seen as "site KIND FILE+OFFSET" (addr2line -e FILE OFFSET). */
void fa_sites_dump(FILE *out);
/* The return address of the allocation that failed in the last armed run. */
void *fa_last_site(void);

#endif
