/* suggest.c - "did you mean ...?" (see suggest.h). */
#include "suggest.h"

#include <string.h>

#define SUGGEST_MAX 64

int kj_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
    return 1000;
  int d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < v)
        v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v)
        v = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  return d[la][lb];
}

int kj_suggest_near(const char *typed, const char *candidate) {
  if (!typed || !candidate)
    return 0;
  size_t lt = strlen(typed), lc = strlen(candidate), longer = lt > lc ? lt : lc;
  int dist = kj_edit_distance(typed, candidate);
  return dist <= 2 && (size_t)dist * 2 < longer;
}

const char *kj_suggest(const char *typed, const char *const *candidates, size_t n) {
  const char *best = NULL;
  int bestd = 3; /* at most 2 edits */
  for (size_t k = 0; k < n; k++) {
    if (!candidates[k] || !kj_suggest_near(typed, candidates[k]))
      continue;
    int dist = kj_edit_distance(typed, candidates[k]);
    if (dist < bestd) {
      bestd = dist;
      best = candidates[k];
    }
  }
  return best;
}
