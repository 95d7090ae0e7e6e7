/* plat.h - what differs between Linux and Windows, behind small functions
 * (issue 20 point 2; docs/windows-port.md).  Two implementations:
 * plat_posix.c (Linux, the behaviour kinerja always had) and plat_win.c
 * (Windows, MinGW-w64); common/CMakeLists.txt picks one.  No other file of
 * common/, proto/, http/ or client/ tests for the platform.
 *
 * Paths are UTF-8 on both systems (on Windows, converted to UTF-16 for the
 * wide API).  Functions returning kj_code fill err with a message naming
 * the path. */
#ifndef KJ_PLAT_H
#define KJ_PLAT_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "err.h"

/* Called first in main: on Windows the console prints UTF-8
 * (SetConsoleOutputCP), stdin, stdout and stderr are binary (CSV and JSON keep
 * their "\n") and ANSI escapes work on stderr; nothing on Linux. */
void kj_plat_init(void);

/* 1 when fd (0, 1 or 2) is a terminal (a console on Windows), else 0. */
int kj_is_terminal(int fd);

/* Turn off the echo of the terminal on stdin, for a secret typed at a
 * prompt: 1 when it was turned off (call kj_term_echo_restore after the
 * line is read), 0 when stdin is no terminal or it cannot be done. */
int kj_term_echo_off(void);
void kj_term_echo_restore(void);

/* Open path for reading (binary, not inherited by child processes):
 * a file descriptor, or -1 with errno set. */
int kj_open_read(const char *path);

/* Create path, which must not exist, for writing, readable and writable by
 * its owner only whatever the umask (0600 on Linux; on Windows an ACL,
 * not inheriting the folder's, that lets in this user, SYSTEM and the
 * Administrators alone: docs/operations.md "Office PCs on Windows").
 * A file descriptor, or -1 with errno set (EEXIST when it exists). */
int kj_file_create_private(const char *path);

/* Make path readable and writable by its owner only (chmod 0600; on
 * Windows the protected ACL of kj_file_create_private). */
kj_code kj_file_make_private(const char *path, kj_err *err);

/* Create or truncate path for writing with permission bits mode (e.g.
 * 0600, 0644) whatever the umask (Windows: the folder's ACL; mode only
 * decides nothing).  A file descriptor, or -1 with errno set. */
int kj_file_create_mode(const char *path, unsigned mode);

/* Write an open file's data through to the disk (fsync / _commit): 0, or
 * -1 with errno set. */
int kj_fd_sync(int fd);

/* A connected pair of local stream sockets, not inherited by child
 * processes (socketpair(AF_UNIX)): 0, or -1 with errno set.  Windows has
 * no such pair: -1 with errno ENOSYS (only the HTTP tests feed a server
 * through one: http/net.c kjh__net_feed). */
int kj_socketpair(int sv[2]);

/* The permission bits (0777 mask) of a file that stat/fstat described, as
 * POSIX sees them.  Windows keeps no such bits (MinGW's stat says 0666 for
 * every writable file): the file's access is its folder's ACL, so this
 * gives 0600, the owner's alone. */
unsigned kj_file_mode(const struct stat *sb);

/* 1 when the file that stat described belongs to the user running this
 * process (the one who may chmod it), else 0.  Windows: 1 (see
 * kj_file_mode). */
int kj_file_is_mine(const struct stat *sb);

/* Write path's data through to the disk (fsync / FlushFileBuffers). */
kj_code kj_file_sync(const char *path, kj_err *err);

/* Make a rename or a creation inside dir durable (fsync of the directory
 * on Linux; on Windows NTFS journals it and kj_file_replace writes
 * through, so this succeeds without doing anything). */
kj_code kj_dir_sync(const char *dir, kj_err *err);

/* Rename from to to, replacing to if it exists, atomically where the
 * system can (rename(2) / MoveFileExW with MOVEFILE_REPLACE_EXISTING and
 * MOVEFILE_WRITE_THROUGH). */
kj_code kj_file_replace(const char *from, const char *to, kj_err *err);

/* The absolute, canonical form of path (realpath / GetFullPathNameW) in
 * out[size] (UTF-8): KJ_OK, KJ_ENOENT (with errno) when path does not
 * exist, KJ_ETOOBIG when it does not fit. */
kj_code kj_path_absolute(const char *path, char *out, size_t size, kj_err *err);

/* The database used when neither --db nor $KINERJA_DB names one (UTF-8,
 * static storage): "kinerja.db" in the working directory on Linux;
 * %ProgramData%\kinerja\kinerja.db on Windows, where the installer keeps
 * it (the folder is made when missing). */
const char *kj_default_db(void);

/* The directory for temporary files (static or environment storage, no
 * trailing slash): $TMPDIR when set and not empty, else "/tmp".  The same
 * rule on both systems (kinerja's export and kinerjad's dashboard export
 * name their temporary files under it), hence defined here once. */
static inline const char *kj_tmp_dir(void) {
  const char *d = getenv("TMPDIR");
  return d && *d ? d : "/tmp";
}

/* The folder of the running program, UTF-8 without a trailing separator
 * ("/usr/local/bin", C:\Program Files\kinerja), into out[size]: 0, or -1
 * when it cannot be known or does not fit (Linux: /proc/self/exe; Windows:
 * GetModuleFileNameW).  i18n_gettext.c finds the catalogue from it. */
int kj_program_dir(char *out, size_t size);

/* Make libintl look messages up in language lang (a catalogue's: "id")
 * whatever the environment asks for, without changing the C library's
 * global locale (numbers, strerror and collation stay "C").  For
 * i18n_gettext.c, whose lookups are all Indonesian (i18n.c answers English
 * itself).
 *   kj_messages_lang_init(lang): once, in main before any thread starts;
 *     0, or -1 when it cannot be done.
 *   kj_messages_lang_enter() before each lookup, on the calling thread;
 *     kj_messages_lang_leave(its result) after it.
 * Linux (glibc's libintl translates nothing under the "C" locale, and
 * reads $LANGUAGE under any other): $LANGUAGE=lang, and a C.UTF-8 locale
 * (newlocale) that enter makes the calling thread's own (uselocale) and
 * leave takes back.  Windows (GNU libintl, scripts/windows-deps: no
 * per-thread locale; at each lookup it reads $LANGUAGE unless the first
 * set of $LC_ALL, $LC_MESSAGES, $LANG is "C", else the user's Windows
 * language): $LANGUAGE=lang and $LC_ALL=lang in the process's environment,
 * which the C runtime's locale never reads (its setlocale ignores the
 * environment); enter and leave do nothing. */
int kj_messages_lang_init(const char *lang);
void *kj_messages_lang_enter(void);
void kj_messages_lang_leave(void *saved);

/* Set the environment variable name to value unless it is set already. */
void kj_env_default(const char *name, const char *value);

/* On Ctrl-C or a request to stop (SIGINT/SIGTERM; on Windows Ctrl-C,
 * Ctrl-Break, closing the console, logoff, shutdown), set *flag to 1 and
 * wake kj_sleep_ms.  Also ignores SIGPIPE where it exists (a closed
 * connection is an error return, not a signal).  Call once. */
void kj_on_interrupt(volatile int *flag);

/* Ignore SIGPIPE where the system has it (nothing on Windows). */
void kj_ignore_sigpipe(void);

/* Sleep ms milliseconds, returning early once kj_on_interrupt's flag is
 * set.  Never fails. */
void kj_sleep_ms(long ms);

/* The CPU time this process has used, user and system, in ms
 * (clock_gettime(CLOCK_PROCESS_CPUTIME_ID); GetProcessTimes on Windows,
 * where C's clock() counts wall time), or -1 when the system cannot say. */
int64_t kj_cpu_ms(void);

/* Broken-down UTC time of t seconds since the epoch (gmtime_r / gmtime_s):
 * tm, or NULL when t is out of range. */
struct tm *kj_time_utc(int64_t t, struct tm *tm);

/* 1 when e, a system error that SQLite saw (sqlite3_system_errno), means
 * that the disk or the user's quota is full: errno ENOSPC, EFBIG or EDQUOT
 * on Linux; ERROR_DISK_FULL or ERROR_HANDLE_DISK_FULL on Windows. */
int kj_errno_is_disk_full(int e);

/* The first IPv4 address (dotted, into out[size]) of a network interface
 * that is up and not loopback: this PC's address on the office network
 * (the office app's kiosk address).  0, or -1 when there is none or it
 * cannot be known (Windows: not yet; the caller uses the host name). */
int kj_lan_ipv4(char *out, size_t size);

#endif
