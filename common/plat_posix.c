/* plat_posix.c - plat.h on Linux (and other POSIX systems). */
#include "plat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <locale.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "i18n.h"
#include "uuid.h"

void kj_plat_init(void) {}

int kj_is_terminal(int fd) {
  return isatty(fd);
}

static struct termios echo_saved;

int kj_term_echo_off(void) {
  struct termios quiet;
  if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &echo_saved) != 0)
    return 0;
  quiet = echo_saved;
  quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
  quiet.c_lflag |= ICANON;
  return tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
}

void kj_term_echo_restore(void) {
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &echo_saved);
}

int kj_open_read(const char *path) {
  return open(path, O_RDONLY | O_CLOEXEC);
}

int kj_file_create_private(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  if (fchmod(fd, 0600) != 0) { /* whatever the umask */
    int e = errno;
    close(fd);
    unlink(path);
    errno = e;
    return -1;
  }
  return fd;
}

int kj_file_create_mode(const char *path, unsigned mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
  if (fd < 0)
    return -1;
  if (fchmod(fd, (mode_t)mode) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int kj_fd_sync(int fd) {
  return fsync(fd);
}

int kj_socketpair(int sv[2]) {
  return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

kj_code kj_file_make_private(const char *path, kj_err *err) {
  if (chmod(path, 0600) != 0)
    return kj_fail(err, KJ_EIO, _("cannot close '%s' to other users: %s"), path, strerror(errno));
  return KJ_OK;
}

unsigned kj_file_mode(const struct stat *sb) {
  return (unsigned)(sb->st_mode & 0777);
}

int kj_file_is_mine(const struct stat *sb) {
  return sb->st_uid == geteuid();
}

static kj_code fsync_path(const char *path, int dir, kj_err *err) {
  int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0 || fsync(fd) != 0) {
    kj_code c = kj_fail(err, KJ_EIO, _("cannot sync '%s': %s"), path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return c;
  }
  close(fd);
  return KJ_OK;
}

kj_code kj_file_sync(const char *path, kj_err *err) {
  return fsync_path(path, 0, err);
}

kj_code kj_dir_sync(const char *dir, kj_err *err) {
  return fsync_path(dir, 1, err);
}

kj_code kj_file_replace(const char *from, const char *to, kj_err *err) {
  if (rename(from, to) != 0)
    return kj_fail(err, KJ_EIO, _("cannot rename '%s' to '%s': %s"), from, to, strerror(errno));
  return KJ_OK;
}

kj_code kj_path_absolute(const char *path, char *out, size_t size, kj_err *err) {
  char abs[PATH_MAX];
  if (!realpath(path, abs)) {
    int e = errno;
    kj_fail(err, KJ_ENOENT, _("cannot find '%s': %s"), path, strerror(e));
    errno = e;
    return KJ_ENOENT;
  }
  size_t n = strlen(abs);
  if (n >= size)
    return kj_fail(err, KJ_ETOOBIG, _("path '%s' is too long"), abs);
  memcpy(out, abs, n + 1);
  return KJ_OK;
}

const char *kj_default_db(void) {
  return "kinerja.db";
}

int kj_program_dir(char *out, size_t size) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return -1;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash)
    return -1;
  *slash = 0;
  size_t len = (size_t)(slash - exe);
  if (len >= size)
    return -1;
  memcpy(out, exe, len + 1);
  return 0;
}

static locale_t messages_locale;

int kj_messages_lang_init(const char *lang) {
  if (!messages_locale)
    messages_locale = newlocale(LC_MESSAGES_MASK, "C.UTF-8", (locale_t)0);
  if (!messages_locale)
    return -1;
  return setenv("LANGUAGE", lang, 1) ? -1 : 0;
}

void *kj_messages_lang_enter(void) {
  /* (locale_t)0, before kj_messages_lang_init, changes nothing */
  return uselocale(messages_locale);
}

void kj_messages_lang_leave(void *saved) {
  uselocale((locale_t)saved);
}

void kj_env_default(const char *name, const char *value) {
  setenv(name, value, 0);
}

static volatile int *interrupt_flag;

static void on_signal(int sig) {
  (void)sig;
  if (interrupt_flag)
    *interrupt_flag = 1;
}

void kj_ignore_sigpipe(void) {
  signal(SIGPIPE, SIG_IGN);
}

void kj_on_interrupt(volatile int *flag) {
  interrupt_flag = flag;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: a sleep wakes up */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  kj_ignore_sigpipe();
}

void kj_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (!(interrupt_flag && *interrupt_flag) && nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
}

int64_t kj_cpu_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
    return -1;
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct tm *kj_time_utc(int64_t t, struct tm *tm) {
  time_t tt = (time_t)t;
  return gmtime_r(&tt, tm);
}

int kj_errno_is_disk_full(int e) {
  return e == ENOSPC || e == EFBIG || e == EDQUOT;
}

kj_code kj_random_bytes(void *buf, unsigned long n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return KJ_EIO;
    }
    p += r;
    n -= (unsigned long)r;
  }
  return KJ_OK;
}

int kj_lan_ipv4(char *out, size_t size) {
  struct ifaddrs *all;
  if (getifaddrs(&all) != 0)
    return -1;
  int r = -1;
  for (struct ifaddrs *i = all; i && r; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
        (i->ifa_flags & IFF_LOOPBACK))
      continue;
    if (inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, out,
                  (socklen_t)size))
      r = 0;
  }
  freeifaddrs(all);
  return r;
}
