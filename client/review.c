/* review.c - approve or reject one activity (review.h). */
#include "review.h"

#include <stdio.h>

#include "i18n.h"

kj_code kjc_review_activity(kjc_store *s, const char *id, const char *status, const char *reviewer,
                            const char *reason, int64_t now_ms, kj_rstate *st, int *res,
                            kj_err *err) {
  kj_rstate own = {0}; /* filled by kjc_record_get when st is NULL */
  kj_rstate *cur = st ? st : &own;
  kj_code c = kjc_record_get(s, KJ_T_NONE, id, cur, err);
  if (!c && cur->rec.deleted)
    c = kj_fail(err, KJ_ENOENT, _("record '%s' is deleted"), id);
  if (!c && cur->rec.type != KJ_T_ACTIVITY)
    c = kj_fail(err, KJ_EINVAL, _("record '%s' is a %s: only activities are approved or rejected"),
                cur->rec.id, kj_type(cur->rec.type)->name);
  if (c)
    goto out;
  const kj_type_def *t = kj_type(KJ_T_ACTIVITY);
  int fstatus = kj_field_index(t, "status"), freviewer = kj_field_index(t, "reviewed_by");
  kj_change ch;
  kj_change_init(&ch, KJ_T_ACTIVITY);
  snprintf(ch.rec.id, sizeof ch.rec.id, "%s", cur->rec.id);
  snprintf(ch.author, sizeof ch.author, "%s", reviewer);
  if (kj_record_set(&ch.rec, fstatus, status) || kj_record_set(&ch.rec, freviewer, reviewer)) {
    kj_change_release(&ch);
    c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    goto out;
  }
  ch.mask = (1u << fstatus) | (1u << freviewer);
  c = kjc_store_write(s, &ch, KJC_CHANGE_DIFF | KJC_CHANGE_EXISTING | KJC_CHANGE_NAME_RECORD, res,
                      err);
  kj_change_release(&ch);
  if (!c)
    c = kjc_review_note(s, cur->rec.id, status, reviewer, reason, now_ms, err);
out:
  if (!st)
    kj_rstate_release(&own);
  return c;
}
