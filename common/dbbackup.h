/* dbbackup.h - a consistent copy of a live SQLite database (both programs'
 * `backup FILE`). */
#ifndef KJ_DBBACKUP_H
#define KJ_DBBACKUP_H
#include "err.h"

/* Copy the database at src to dest with SQLite's online backup API, a few
 * hundred pages at a time so that writers (kinerjad serve, kinerja sync
 * --watch) wait at most a moment.  Refuses an existing dest; writes
 * dest.tmp (mode 0600), checks it with PRAGMA integrity_check, fsyncs it and renames it
 * to dest.  *pages (may be NULL) gets the number of pages copied. */
kj_code kj_db_backup(const char *src, const char *dest, int *pages, kj_err *err);

#endif
