/* merge.h - the merge rules, the same on server and client.
 *
 * Fields merge one by one: the higher stamp wins (hlc, then device id, byte
 * order); equal stamps mean the same write, nothing changes.  A delete wins
 * over any edit, before or after it, and a deleted id stays deleted.  The
 * result is the same whatever order changes arrive in.
 *
 * Field values keep merging under a tombstone (deleted = any delete seen,
 * `del` = the highest delete stamp): readers ignore them, and it is what
 * keeps the state order-independent and the record's office known for
 * routing the tombstone.  A conflict is reported only when the two values
 * differ and come from different devices.
 */
#ifndef KJ_MERGE_H
#define KJ_MERGE_H

#include "wire.h"

/* <0, 0, >0 like strcmp. */
int kj_stamp_cmp(const kj_stamp *a, const kj_stamp *b);

/* One overwritten concurrent value: `field` of record `id` had `loser`
 * (NULL = absent) stamped `loser_st`, and `winner` stamped `winner_st` won. */
typedef struct kj_conflict {
  const char *id;
  const char *field;
  const char *loser, *winner;
  const kj_stamp *loser_st, *winner_st;
} kj_conflict;

typedef void (*kj_conflict_fn)(const kj_conflict *c, void *ud);

/* Apply change c (its hlc and device set, else KJ_EINVAL) to state s.  A new
 * record is a state whose rec.type is KJ_T_NONE: it takes c's type.  A
 * change of another type than s is KJ_EINVAL.  Every value that loses to a
 * different device's value is reported through fn (may be NULL): a kept
 * value beaten by the change, or a change's value beaten by the kept one.
 * *changed = 1 when s changed, else 0.  KJ_OK, or KJ_EINVAL / KJ_ENOMEM with
 * err filled (s may then be partly merged: the caller drops it).  With
 * c->lend, s points at c's values instead of copying them (s must then be
 * released before c's values go). */
kj_code kj_merge_apply(kj_rstate *s, const kj_change *c, kj_conflict_fn fn, void *ud, int *changed,
                       kj_err *err);

/* Merge a whole remote state (a pull) into s, field by field, same rules. */
kj_code kj_merge_join(kj_rstate *s, const kj_rstate *remote, kj_conflict_fn fn, void *ud,
                      int *changed, kj_err *err);

#endif
