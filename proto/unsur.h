/* unsur.h - the nine elements (unsur) of the citizen satisfaction survey and
 * the words of its answers, as PermenPANRB 14/2017 (Lampiran, the sample
 * questionnaire) words them.  One table for every form and report that names
 * an unsur: the kiosk and survey pages get it as JSON from the office app. */
#ifndef KJ_UNSUR_H
#define KJ_UNSUR_H

#define KJ_UNSUR_COUNT 9 /* u1..u9 of a survey record */
#define KJ_UNSUR_SCALE 4 /* answers score 1..4 */

typedef struct {
  const char *field;                  /* "u1".."u9" */
  const char *name;                   /* "Persyaratan", ... (Indonesian) */
  const char *name_en;                /* "Requirements", ... */
  const char *answer[KJ_UNSUR_SCALE]; /* the words for scores 1..4 */
} kj_unsur_def;

/* The unsur i (0..8, in the order of u1..u9); NULL outside that range.
 * Static storage: never freed. */
const kj_unsur_def *kj_unsur(int i);

#endif
