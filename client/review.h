/* review.h - approve or reject one activity (domain.md "activity": status
 * and reviewed_by), the one function behind `kinerja approve|reject --as`
 * (client/cmd_record.c) and the office app's Persetujuan page
 * (client/ui_api.c). */
#ifndef KJC_REVIEW_H
#define KJC_REVIEW_H

#include <stdint.h>

#include "err.h"
#include "store.h"

/* Set activity id's status to `status` ("approved" or "rejected") with
 * reviewed_by = reviewer, as a change whose author is reviewer (a NIP the
 * caller signed in), through kjc_store_write's rules, and note the review
 * (with reason, NULL = none) in the table reviews at now_ms.  Joins the
 * caller's transaction (or runs in one of its own).  st (may be NULL)
 * receives the activity as it was before (initialised by the call on
 * every answer: release it); *res (may be NULL) gets KJC_WRITE_* (NOCHANGE:
 * it was so already).  Refusals, nothing written, err naming the record:
 *   KJ_ENOENT  no such record, or deleted
 *   KJ_EINVAL  not an activity, or the result breaks a rule
 *   KJ_EEXIST  (from the store)
 * other codes (KJ_EDB, KJ_EFULL, KJ_ENOMEM) are store failures. */
kj_code kjc_review_activity(kjc_store *s, const char *id, const char *status, const char *reviewer,
                            const char *reason, int64_t now_ms, kj_rstate *st, int *res,
                            kj_err *err);

#endif
