/* plat_win.c - plat.h on Windows (MinGW-w64; docs/windows-port.md). */
#include "plat.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
/* after windows.h */
#include <aclapi.h>
#include <bcrypt.h>
#include <sddl.h>

#include "uuid.h"

/* UTF-8 to a malloc'd UTF-16 string, NULL (errno EINVAL/ENOMEM) when it
 * is no UTF-8 or memory runs out. */
static wchar_t *wide(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  if (n <= 0) {
    errno = EINVAL;
    return NULL;
  }
  wchar_t *w = malloc((size_t)n * sizeof *w);
  if (!w) {
    errno = ENOMEM;
    return NULL;
  }
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
  return w;
}

/* Windows' last error as text (English where the system has it). */
static const char *win_msg(DWORD e, char *buf, size_t size) {
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, e,
                           MAKELANGID(LANG_ENGLISH, SUBLANG_DEFAULT), buf, (DWORD)size, NULL);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == '.'))
    buf[--n] = 0;
  if (n == 0)
    snprintf(buf, size, "Windows error %lu", (unsigned long)e);
  return buf;
}

void kj_plat_init(void) {
  SetConsoleOutputCP(CP_UTF8);
  SetConsoleCP(CP_UTF8);
  _setmode(_fileno(stdout), _O_BINARY);
  _setmode(_fileno(stdin), _O_BINARY);
  _setmode(_fileno(stderr), _O_BINARY);
  HANDLE h = GetStdHandle(STD_ERROR_HANDLE);
  DWORD mode;
  if (h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode))
    SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
}

static HANDLE std_handle(int fd) {
  return GetStdHandle(fd == 0 ? STD_INPUT_HANDLE : fd == 1 ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
}

int kj_is_terminal(int fd) {
  DWORD mode;
  if (fd < 0 || fd > 2)
    return 0;
  HANDLE h = std_handle(fd);
  return h != INVALID_HANDLE_VALUE && h != NULL && GetConsoleMode(h, &mode) != 0;
}

static DWORD echo_saved;

int kj_term_echo_off(void) {
  HANDLE h = GetStdHandle(STD_INPUT_HANDLE);
  if (h == INVALID_HANDLE_VALUE || !GetConsoleMode(h, &echo_saved))
    return 0;
  return SetConsoleMode(h, (echo_saved & ~(DWORD)ENABLE_ECHO_INPUT) | ENABLE_LINE_INPUT) != 0;
}

void kj_term_echo_restore(void) {
  SetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), echo_saved);
}

int kj_open_read(const char *path) {
  wchar_t *w = wide(path);
  if (!w)
    return -1;
  int fd = _wopen(w, _O_RDONLY | _O_BINARY | _O_NOINHERIT);
  free(w);
  return fd;
}

/* A security descriptor whose DACL, protected from the folder's
 * inherited entries, gives full access to this process's user, SYSTEM and
 * the Administrators alone: Windows' form of mode 0600 (under Wine it
 * becomes mode 0600 too).  LocalFree it; NULL when it cannot be made. */
static PSECURITY_DESCRIPTOR private_sd(void) {
  HANDLE tok;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
    return NULL;
  unsigned char buf[256];
  DWORD n = 0;
  wchar_t *sid = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  if (GetTokenInformation(tok, TokenUser, buf, sizeof buf, &n) &&
      ConvertSidToStringSidW(((TOKEN_USER *)buf)->User.Sid, &sid)) {
    wchar_t sddl[256];
    _snwprintf(sddl, sizeof sddl / sizeof sddl[0] - 1, L"D:P(A;;FA;;;%ls)(A;;FA;;;SY)(A;;FA;;;BA)",
               sid);
    sddl[sizeof sddl / sizeof sddl[0] - 1] = 0;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, NULL))
      sd = NULL;
    LocalFree(sid);
  }
  CloseHandle(tok);
  return sd;
}

static int errno_of(DWORD e) {
  switch (e) {
  case ERROR_FILE_EXISTS:
  case ERROR_ALREADY_EXISTS:
    return EEXIST;
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND:
    return ENOENT;
  case ERROR_ACCESS_DENIED:
    return EACCES;
  case ERROR_DISK_FULL:
  case ERROR_HANDLE_DISK_FULL:
    return ENOSPC;
  default:
    return EIO;
  }
}

int kj_file_create_private(const char *path) {
  wchar_t *w = wide(path);
  if (!w)
    return -1;
  SECURITY_ATTRIBUTES sa = {sizeof sa, private_sd(), FALSE};
  if (!sa.lpSecurityDescriptor) {
    free(w);
    errno = EACCES;
    return -1;
  }
  HANDLE h = CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         &sa, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
  DWORD e = GetLastError();
  LocalFree(sa.lpSecurityDescriptor);
  free(w);
  if (h == INVALID_HANDLE_VALUE) {
    errno = errno_of(e);
    return -1;
  }
  int fd = _open_osfhandle((intptr_t)h, _O_WRONLY | _O_BINARY);
  if (fd < 0)
    CloseHandle(h);
  return fd;
}

kj_code kj_file_make_private(const char *path, kj_err *err) {
  char m[160];
  wchar_t *w = wide(path);
  PSECURITY_DESCRIPTOR sd = private_sd();
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  DWORD e = ERROR_ACCESS_DENIED;
  if (w && sd && GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted))
    e = SetNamedSecurityInfoW(w, SE_FILE_OBJECT,
                              DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, NULL,
                              NULL, dacl, NULL);
  if (sd)
    LocalFree(sd);
  free(w);
  if (e != ERROR_SUCCESS)
    return kj_fail(err, KJ_EIO, "cannot close '%s' to other users: %s", path,
                   win_msg(e, m, sizeof m));
  return KJ_OK;
}

int kj_file_create_mode(const char *path, unsigned mode) {
  (void)mode;
  wchar_t *w = wide(path);
  if (!w)
    return -1;
  int fd =
      _wopen(w, _O_WRONLY | _O_CREAT | _O_TRUNC | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
  free(w);
  return fd;
}

int kj_fd_sync(int fd) {
  return _commit(fd);
}

int kj_socketpair(int sv[2]) {
  (void)sv;
  errno = ENOSYS;
  return -1;
}

unsigned kj_file_mode(const struct stat *sb) {
  (void)sb;
  return 0600;
}

int kj_file_is_mine(const struct stat *sb) {
  (void)sb;
  return 1;
}

kj_code kj_file_sync(const char *path, kj_err *err) {
  char m[160];
  wchar_t *w = wide(path);
  if (!w)
    return kj_fail(err, KJ_EIO, "cannot sync '%s': %s", path, strerror(errno));
  HANDLE h = CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, NULL);
  free(w);
  if (h == INVALID_HANDLE_VALUE)
    return kj_fail(err, KJ_EIO, "cannot sync '%s': %s", path, win_msg(GetLastError(), m, sizeof m));
  BOOL ok = FlushFileBuffers(h);
  DWORD e = GetLastError();
  CloseHandle(h);
  if (!ok)
    return kj_fail(err, KJ_EIO, "cannot sync '%s': %s", path, win_msg(e, m, sizeof m));
  return KJ_OK;
}

kj_code kj_dir_sync(const char *dir, kj_err *err) {
  (void)dir;
  (void)err;
  return KJ_OK;
}

kj_code kj_file_replace(const char *from, const char *to, kj_err *err) {
  char m[160];
  wchar_t *wf = wide(from), *wt = wide(to);
  BOOL ok = wf && wt && MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH);
  DWORD e = GetLastError();
  free(wf);
  free(wt);
  if (!ok)
    return kj_fail(err, KJ_EIO, "cannot rename '%s' to '%s': %s", from, to,
                   win_msg(e, m, sizeof m));
  return KJ_OK;
}

kj_code kj_path_absolute(const char *path, char *out, size_t size, kj_err *err) {
  wchar_t *w = wide(path);
  if (!w) {
    kj_fail(err, KJ_ENOENT, "cannot find '%s': %s", path, strerror(errno));
    errno = ENOENT;
    return KJ_ENOENT;
  }
  DWORD attr = GetFileAttributesW(w);
  if (attr == INVALID_FILE_ATTRIBUTES) {
    free(w);
    kj_fail(err, KJ_ENOENT, "cannot find '%s': %s", path, strerror(ENOENT));
    errno = ENOENT;
    return KJ_ENOENT;
  }
  wchar_t full[32768];
  DWORD n = GetFullPathNameW(w, sizeof full / sizeof full[0], full, NULL);
  free(w);
  if (n == 0 || n >= sizeof full / sizeof full[0])
    return kj_fail(err, KJ_ETOOBIG, "path '%s' is too long", path);
  int k = WideCharToMultiByte(CP_UTF8, 0, full, -1, out, (int)(size > INT32_MAX ? INT32_MAX : size),
                              NULL, NULL);
  if (k <= 0)
    return kj_fail(err, KJ_ETOOBIG, "path '%s' is too long", path);
  return KJ_OK;
}

const char *kj_default_db(void) {
  static char path[1024];
  if (path[0])
    return path;
  wchar_t dir[600];
  DWORD n = GetEnvironmentVariableW(L"ProgramData", dir, 560);
  if (n == 0 || n >= 560)
    return "kinerja.db";
  wcscat(dir, L"\\kinerja");
  CreateDirectoryW(dir, NULL); /* the installer's, or made now */
  wcscat(dir, L"\\kinerja.db");
  if (WideCharToMultiByte(CP_UTF8, 0, dir, -1, path, (int)sizeof path, NULL, NULL) <= 0) {
    path[0] = 0;
    return "kinerja.db";
  }
  return path;
}

int kj_program_dir(char *out, size_t size) {
  enum { WMAX = 32768 }; /* the longest path Windows has */
  wchar_t *w = malloc(WMAX * sizeof *w);
  if (!w)
    return -1;
  DWORD n = GetModuleFileNameW(NULL, w, WMAX);
  int ok = n > 0 && n < WMAX;
  while (ok && n > 0 && w[n - 1] != L'\\' && w[n - 1] != L'/')
    n--;
  ok = ok && n > 0 && size > 0 && size <= INT_MAX;
  if (ok) {
    w[n - 1] = 0; /* the exe's name gone, and its separator */
    ok = WideCharToMultiByte(CP_UTF8, 0, w, -1, out, (int)size, NULL, NULL) > 0;
  }
  free(w);
  return ok ? 0 : -1;
}

int kj_messages_lang_init(const char *lang) {
  return _putenv_s("LANGUAGE", lang) || _putenv_s("LC_ALL", lang) ? -1 : 0;
}

void *kj_messages_lang_enter(void) {
  return NULL;
}

void kj_messages_lang_leave(void *saved) {
  (void)saved;
}

void kj_env_default(const char *name, const char *value) {
  if (!getenv(name))
    _putenv_s(name, value);
}

static volatile int *interrupt_flag;
static HANDLE interrupt_event;

/* Runs in a thread of its own: it sets the flag and wakes kj_sleep_ms.
 * TRUE: handled.  After Ctrl-C and Ctrl-Break the process goes on and
 * stops at its next check.  After a close, logoff or shutdown Windows ends
 * the process as soon as the handler returns (and after 5 s at most), so
 * the handler waits 4.5 s: the program's own exit usually comes first. */
static BOOL WINAPI on_ctrl(DWORD type) {
  if (interrupt_flag)
    *interrupt_flag = 1;
  if (interrupt_event)
    SetEvent(interrupt_event);
  if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT)
    Sleep(4500);
  return TRUE;
}

void kj_ignore_sigpipe(void) {}

void kj_on_interrupt(volatile int *flag) {
  interrupt_flag = flag;
  if (!interrupt_event)
    interrupt_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  SetConsoleCtrlHandler(on_ctrl, TRUE);
}

void kj_sleep_ms(long ms) {
  if (interrupt_flag && *interrupt_flag)
    return;
  if (interrupt_event)
    WaitForSingleObject(interrupt_event, (DWORD)(ms < 0 ? 0 : ms));
  else
    Sleep((DWORD)(ms < 0 ? 0 : ms));
}

int64_t kj_cpu_ms(void) {
  FILETIME created, exited, kernel, user;
  if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user))
    return -1;
  ULARGE_INTEGER k = {.u = {kernel.dwLowDateTime, kernel.dwHighDateTime}};
  ULARGE_INTEGER u = {.u = {user.dwLowDateTime, user.dwHighDateTime}};
  return (int64_t)((k.QuadPart + u.QuadPart) / 10000); /* 100 ns units */
}

struct tm *kj_time_utc(int64_t t, struct tm *tm) {
  __time64_t tt = (__time64_t)t;
  return _gmtime64_s(tm, &tt) == 0 ? tm : NULL;
}

int kj_errno_is_disk_full(int e) {
  /* e is what sqlite3_system_errno gives: on Windows, GetLastError() */
  return e == ERROR_DISK_FULL || e == ERROR_HANDLE_DISK_FULL;
}

kj_code kj_random_bytes(void *buf, unsigned long n) {
  unsigned char *p = buf;
  while (n > 0) {
    ULONG k = n > 0x40000000UL ? 0x40000000UL : (ULONG)n;
    if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, p, k, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
      return KJ_EIO;
    p += k;
    n -= k;
  }
  return KJ_OK;
}

int kj_lan_ipv4(char *out, size_t size) {
  (void)size;
  out[0] = 0;
  return -1; /* not yet (GetAdaptersAddresses): the caller uses the host name */
}
