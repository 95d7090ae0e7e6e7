/* failalloc.c - see failalloc.h */
#define _GNU_SOURCE /* dladdr */
#include "failalloc.h"

#include <cJSON.h>
#include <dlfcn.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static atomic_int g_armed;
static atomic_long g_count;
static long g_fail_at;
static int g_persist;
static atomic_int g_hit;
static void *_Atomic g_last;

/* Open-addressed sets of return addresses (no allocation in the hook). */
#define SET_SIZE 16384
typedef struct site_set {
  uintptr_t a[SET_SIZE];
  size_t n;
} site_set;
static site_set g_seen[FA__KINDS], g_failed[FA__KINDS], g_all[FA__KINDS];

static void set_add(site_set *s, void *ra) {
  uintptr_t v = (uintptr_t)ra;
  if (!v)
    return;
  size_t i = (size_t)((v >> 2) * 0x9E3779B97F4A7C15ull) & (SET_SIZE - 1);
  for (size_t k = 0; k < SET_SIZE; k++, i = (i + 1) & (SET_SIZE - 1)) {
    if (s->a[i] == v)
      return;
    if (!s->a[i]) {
      if (s->n < SET_SIZE / 2) { /* keep it sparse; beyond that stop counting */
        s->a[i] = v;
        s->n++;
      }
      return;
    }
  }
}

/* 1 when this allocation must fail. */
static int should_fail(int kind, void *ra) {
  if (!atomic_load(&g_armed))
    return 0;
  long n = atomic_fetch_add(&g_count, 1) + 1;
  set_add(&g_seen[kind], ra);
  if (g_fail_at > 0 && (n == g_fail_at || (g_persist && n > g_fail_at))) {
    if (n == g_fail_at) {
      atomic_store(&g_hit, 1);
      g_last = ra;
      set_add(&g_failed[kind], ra);
      set_add(&g_all[kind], ra);
    }
    return 1;
  }
  return 0;
}

void *__wrap_malloc(size_t n) {
  return should_fail(FA_LIBC, __builtin_return_address(0)) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m) {
  return should_fail(FA_LIBC, __builtin_return_address(0)) ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n) {
  return should_fail(FA_LIBC, __builtin_return_address(0)) ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s) {
  return should_fail(FA_LIBC, __builtin_return_address(0)) ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n) {
  return should_fail(FA_LIBC, __builtin_return_address(0)) ? NULL : __real_strndup(s, n);
}

/* ---- cJSON ---- */

static void *cj_malloc(size_t n) {
  return should_fail(FA_CJSON, __builtin_return_address(0)) ? NULL : __real_malloc(n);
}

static void cj_free(void *p) {
  free(p);
}

/* ---- SQLite ---- */

static void *sq_malloc(int n) {
  return should_fail(FA_SQLITE, __builtin_return_address(0)) ? NULL : __real_malloc((size_t)n);
}

static void sq_free(void *p) {
  free(p);
}

static void *sq_realloc(void *p, int n) {
  return should_fail(FA_SQLITE, __builtin_return_address(0)) ? NULL : __real_realloc(p, (size_t)n);
}

static int sq_size(void *p) {
  return p ? (int)malloc_usable_size(p) : 0;
}

static int sq_roundup(int n) {
  return (n + 7) & ~7;
}

static int sq_init(void *ud) {
  (void)ud;
  return SQLITE_OK;
}

static void sq_shutdown(void *ud) {
  (void)ud;
}

void fa_cjson_hooks(void) {
  cJSON_Hooks h = {cj_malloc, cj_free};
  cJSON_InitHooks(&h);
}

void fa_install(void) {
  fa_cjson_hooks();
  static const sqlite3_mem_methods m = {sq_malloc,  sq_free, sq_realloc,  sq_size,
                                        sq_roundup, sq_init, sq_shutdown, NULL};
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK) {
    fprintf(stderr, "failalloc: SQLite was initialised before fa_install\n");
    abort();
  }
  /* SQLite's lookaside buffers would hide most small allocations */
  sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
}

void fa_arm(long n, int persist) {
  atomic_store(&g_count, 0);
  atomic_store(&g_hit, 0);
  g_last = NULL;
  g_fail_at = n;
  g_persist = persist;
  atomic_store(&g_armed, 1);
}

long fa_disarm(void) {
  atomic_store(&g_armed, 0);
  return atomic_load(&g_count);
}

int fa_hit(void) {
  return atomic_load(&g_hit);
}

void *fa_last_site(void) {
  return g_last;
}

void fa_sites_reset(void) {
  memset(g_seen, 0, sizeof g_seen);
  memset(g_failed, 0, sizeof g_failed);
}

size_t fa_sites_seen(int kind) {
  return g_seen[kind].n;
}

size_t fa_sites_failed(int kind) {
  return g_failed[kind].n;
}

size_t fa_sites_failed_total(int kind) {
  return g_all[kind].n;
}

void fa_sites_dump(FILE *out) {
  static const char *const names[FA__KINDS] = {"libc", "cJSON", "SQLite"};
  for (int k = 0; k < FA__KINDS; k++)
    for (size_t i = 0; i < SET_SIZE; i++) {
      if (!g_seen[k].a[i])
        continue;
      Dl_info info;
      void *a = (void *)g_seen[k].a[i];
      if (dladdr(a, &info) && info.dli_fname)
        fprintf(out, "site %s %s+0x%lx\n", names[k], info.dli_fname,
                (unsigned long)((uintptr_t)a - (uintptr_t)info.dli_fbase));
      else
        fprintf(out, "site %s %p\n", names[k], a);
    }
}
