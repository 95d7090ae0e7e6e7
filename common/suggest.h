/* suggest.h - "did you mean ...?" for mistyped commands and options. */
#ifndef KJ_SUGGEST_H
#define KJ_SUGGEST_H
#include <stddef.h>

/* Edit distance between a and b: insertions, deletions, substitutions and
 * swaps of two neighbours ("snyc" -> "sync") each count one (optimal
 * string alignment).  Strings over 64 bytes are "far" (a large number). */
int kj_edit_distance(const char *a, const char *b);

/* 1 when candidate is close enough to typed to be what was meant: at
 * most 2 edits (kj_edit_distance), and fewer edits than half of the
 * longer word's length, so "Paspor" never "means" "KTP-el" (6 edits) nor
 * "KK" "KB" (1 edit of 2).  0 otherwise, and for NULL. */
int kj_suggest_near(const char *typed, const char *candidate);

/* The candidate closest to typed, or NULL when none is close enough: at
 * most 2 edits, and fewer than half of the longer word's length, so a
 * short word does not "mean" any other short word.  Ties go to the first
 * candidate. */
const char *kj_suggest(const char *typed, const char *const *candidates, size_t n);

#endif
