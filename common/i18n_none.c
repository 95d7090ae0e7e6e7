/* i18n_none.c - i18n.h without a catalogue: kinerja.exe (MinGW-w64 has no
 * libintl), whose messages stay English (docs/windows-port.md). */
#include "i18n.h"

int kj__catalog_open(void) {
  return -1;
}

const char *kj__catalog_text(const char *one, const char *many, unsigned long n, int plural) {
  return plural && n != 1 ? many : one;
}
