/* wine_skip.c - linked into the client tests that run kinerja.exe under
 * Wine (tests/windows/CMakeLists.txt).  Before main: exit 77 (ctest's
 * SKIP_RETURN_CODE) with the reason when Wine or the cross-built
 * kinerja.exe is missing, and run only the cmocka tests matching
 * $KJT_TEST_FILTER (a glob) when it is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

__attribute__((constructor)) static void wine_check(void) {
  const char *wine = getenv("KJ_WINE"), *exe = getenv("KJ_WINE_EXE");
  if (!wine || !*wine || access(wine, X_OK) != 0) {
    printf("SKIP: no Wine (apt-get install wine wine64, or scripts/install-deps --windows)\n");
    exit(77);
  }
  if (!exe || access(exe, R_OK) != 0) {
    printf("SKIP: no kinerja.exe at '%s' (run 'make windows' first)\n", exe ? exe : "");
    exit(77);
  }
  const char *f = getenv("KJT_TEST_FILTER");
  if (f && *f)
    cmocka_set_test_filter(f);
}
