/* dbbackup.c - online backup of a SQLite database (see dbbackup.h). */
#include "dbbackup.h"
#include "plat.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"

#define STEP_PAGES 256

static kj_code copy(sqlite3 *from, sqlite3 *to, const char *src, int *pages, kj_err *err) {
  sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
  if (!b)
    return kj_fail(err, KJ_EDB, _("cannot start the backup of '%s': %s"), src, sqlite3_errmsg(to));
  int rc;
  do {
    rc = sqlite3_backup_step(b, STEP_PAGES);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      sqlite3_sleep(20);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  if (pages)
    *pages = sqlite3_backup_pagecount(b);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE)
    return kj_fail(err, KJ_EDB, _("backup of '%s' failed: %s"), src, sqlite3_errstr(rc));
  return KJ_OK;
}

static kj_code check(sqlite3 *db, const char *path, kj_err *err) {
  sqlite3_stmt *st = NULL;
  kj_code c = KJ_OK;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
    return kj_fail(err, KJ_EDB, _("cannot check '%s': %s"), path, sqlite3_errmsg(db));
  int rc = sqlite3_step(st);
  const char *r = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
  if (!r || strcmp(r, "ok") != 0)
    c = kj_fail(err, KJ_EDB, _("the copy '%s' fails its integrity check: %s"), path,
                r ? r : sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return c;
}

kj_code kj_db_backup(const char *src, const char *dest, int *pages, kj_err *err) {
  if (access(dest, F_OK) == 0)
    return kj_fail(err, KJ_EEXIST, _("'%s' already exists: not overwriting it"), dest);
  if (access(src, R_OK) != 0)
    return kj_fail(err, KJ_ENOENT, _("cannot read '%s': %s"), src, strerror(errno));
  size_t n = strlen(dest) + 5;
  char *tmp = malloc(n);
  if (!tmp)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  snprintf(tmp, n, "%s.tmp", dest);
  unlink(tmp); /* what an interrupted backup left */
  sqlite3 *from = NULL, *to = NULL;
  kj_code c = KJ_OK;
  if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    c = kj_fail(err, KJ_EDB, _("cannot open '%s': %s"), src, sqlite3_errmsg(from));
  } else if (sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
             SQLITE_OK) {
    c = kj_fail(err, KJ_EIO, _("cannot create '%s': %s"), tmp, sqlite3_errmsg(to));
  } else {
    kj_file_make_private(tmp, NULL); /* it holds tokens (hashed on the server, plain on a PC) */
    sqlite3_busy_timeout(from, 5000);
    c = copy(from, to, src, pages, err);
    if (!c)
      c = check(to, dest, err);
  }
  sqlite3_close(from);
  if (to && sqlite3_close(to) != SQLITE_OK && !c)
    c = kj_fail(err, KJ_EIO, _("cannot close '%s'"), tmp);
  if (!c)
    c = kj_file_sync(tmp, err);
  if (!c)
    c = kj_file_replace(tmp, dest, err);
  if (!c) {
    char *dir = strdup(dest), *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
      *(slash == dir ? slash + 1 : slash) = 0;
    c = kj_dir_sync(slash ? dir : ".", err);
    free(dir);
  }
  if (c)
    unlink(tmp);
  free(tmp);
  return c;
}
