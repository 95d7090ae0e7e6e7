/* wire.h - the JSON messages between kinerja and kinerjad (cJSON).
 *
 * A change is what one command did to one record: the fields it set (or
 * cleared), all stamped with one hybrid-logical-clock stamp, or a delete.
 * A record state is a whole record with a stamp per field, as stored and
 * as pulled.  docs/protocol.md describes the JSON; this file is the code.
 */
#ifndef KJ_WIRE_H
#define KJ_WIRE_H

#include <cJSON.h>
#include <stdint.h>

#include "err.h"
#include "hlc.h"
#include "record.h"

typedef struct kj_stamp {
  kj_hlc hlc;                     /* 0 = never written */
  char device[KJ_DEVICE_MAX + 1]; /* tie-break: larger device id wins */
} kj_stamp;

/* The author of a change (domain "Who may write what"): the NIP of the
 * person signed in, "operator" (the office's data-entry account) or
 * "admin" (a BKD administrator).  Sent from protocol 2 on. */
#define KJ_AUTHOR_MAX 18
/* 1 when s is an author: "operator", "kiosk" (a citizen at the office app's
 * kiosk: the office app writes it on surveys only), "admin" or a NIP (kj_nip_valid). */
int kj_author_valid(const char *s);

typedef struct kj_change {
  int64_t seq;                    /* client: outbox sequence, unique per device */
  kj_record rec;                  /* type, id, deleted, and the values of the fields in mask */
  uint32_t mask;                  /* bit i: field i is set by this change (NULL value = clear) */
  kj_hlc hlc;                     /* stamp of every field of this change and of a delete */
  char device[KJ_DEVICE_MAX + 1]; /* origin device (set by the server from the token) */
  int needs;                      /* client outbox: the protocol its row waits for (not sent) */
  char author[KJ_AUTHOR_MAX + 1]; /* who made it: "operator", "admin" or a NIP; "" = not said */
  /* 1: the values outlive every state merged from this change, which may
   * then point at them instead of copying (kj_merge_apply, kj_record_lend):
   * the server's push, whose states live within the request */
  int lend;
} kj_change;

/* A field this program does not know, received from a newer peer (a pull
 * page of a newer server): kept with its stamp, stored, merged by the same
 * rule, never dropped (docs/protocol.md "Versions"). */
typedef struct kj_xfield {
  char *name;  /* owned; 1-64 of [a-z0-9_] */
  char *value; /* owned; NULL = cleared */
  kj_stamp st;
} kj_xfield;

#define KJ_MAX_XFIELDS 32 /* unknown fields kept per record */

typedef struct kj_rstate {
  kj_record rec;              /* current values, deleted flag */
  kj_stamp st[KJ_MAX_FIELDS]; /* per-field stamp */
  kj_stamp del;               /* stamp of the delete when rec.deleted */
  int nx;                     /* unknown fields kept: x[0..nx-1], owned */
  kj_xfield *x;
} kj_rstate;

void kj_change_init(kj_change *c, kj_rtype t);
void kj_change_release(kj_change *c);
void kj_rstate_init(kj_rstate *s, kj_rtype t);
void kj_rstate_release(kj_rstate *s);

/* Change <-> JSON object:
 *   {"seq":12,"id":"0190...","type":"survey","hlc":"1234","del":true,
 *    "f":{"office":"36.73.01","u1":"4","comment":null}}
 * "del" is present only for a delete (a delete has no "f"); "f" only names
 * fields in mask.  "author" (protocol 2, see kj_author_valid) is written
 * when c->author is set and is optional on input.  "seq" is optional on input (default 0); an
 * optional "device" (1-40 characters, no '/' or spaces) is written when c->device is set; a server
 * overwrites it with the device of the token.  Unknown keys are an error. Decoding validates shape
 * (types, known type and field names, a stamp) but not field values: callers run kj_record_validate
 * on the merged record. On error (KJ_EPROTO) err names what is wrong, the caller adds where: "field
 * 'u1': must be a string or null", "unknown type 'x'", "unknown field 'x'", "'hlc': must be a stamp
 * (a decimal string)"; c is then released. */
cJSON *kj_change_to_json(const kj_change *c);
kj_code kj_change_from_json(const cJSON *o, kj_change *c, kj_err *err); /* c uninitialised */
/* The same with the values lent from o's strings (kj_record_lend), no copy:
 * o must outlive c (kj_push_decode's parsed body, kept in the request). */
kj_code kj_change_from_json_lent(const cJSON *o, kj_change *c, kj_err *err);

/* Record state <-> JSON object (pull pages, the server's storage):
 *   {"id":..,"type":..,"del":false,"f":{"u1":"4",...},
 *    "s":"1234/dev-a", "t":{"u2":"1300/dev-b",...}, "dt":"1234/dev-a"}
 * "s" (protocol 3, KJ_PROTOCOL_STATE_S) is the stamp of every value in "f"
 * that "t" does not stamp; "t" holds the other stamps: the values stamped
 * otherwise and the cleared fields (a stamp, no value); without "s" (the
 * form of protocols 1 and 2, still read) "t" stamps every field.  "dt"
 * is the delete stamp, present exactly when "del" is true.  A value
 * without a stamp is an error; on error s is released.
 * kj_rstate_to_json writes the form with "s" (the common stamp of
 * kj_rstate_common_stamp; "t" left out when it would be empty); the
 * server stores that text (kj_rstate_json, proto/msg.h). */
cJSON *kj_rstate_to_json(const kj_rstate *s);
/* The stamp most of s's valued known fields carry (the first of the most
 * frequent), pointing into s; NULL when no known field has a value. */
const kj_stamp *kj_rstate_common_stamp(const kj_rstate *s);
/* Unknown fields of s: find by name (NULL when absent), or add/replace one
 * (copies name and value; KJ_ETOOBIG past KJ_MAX_XFIELDS, KJ_ENOMEM). */
kj_xfield *kj_rstate_xfind(const kj_rstate *s, const char *name);
kj_code kj_rstate_xput(kj_rstate *s, const char *name, const char *value, const kj_stamp *st);
kj_code kj_rstate_from_json(const cJSON *o, kj_rstate *s, kj_err *err); /* s uninitialised */

/* The same state for a peer of protocol version `peer` (>= 1): fields and
 * values newer than the peer (kj_value_since) and unknown fields are left
 * out, so an older program never meets a field it cannot read; a peer
 * before KJ_PROTOCOL_STATE_S gets every stamp in "t" and no "s".  NULL when
 * the peer does not know the type (the caller skips the record) or on
 * out of memory; kj_type_since tells which. */
cJSON *kj_rstate_to_json_for(const kj_rstate *s, int peer);

/* Decoding is strict about shape and lenient about the future: a field
 * name this program does not know (of a known type) is kept in s->x with
 * its stamp; a type it does not know is KJ_EVERSION ("unknown type 'x'"),
 * which a reader skips (a newer peer's record); every other problem is
 * KJ_EPROTO. */

/* The client's stored form of a state (column records.state): the fields
 * by name, with the most common stamp written once:
 *   {"f":{"u1":"4",...},"s":"HLC/DEV","t":{"u2":"HLC/DEV2","age":"HLC/DEV"},
 *    "d":"HLC/DEV"}
 * A field in "f" has stamp "s" unless "t" names it; a cleared field (a
 * stamp, no value) is always in "t"; "d" is the delete stamp.  Type, id and
 * the deleted flag are the caller's (table columns).  Unknown fields are
 * kept like the others.  Encode returns malloc'd text (NULL: out of
 * memory); decode fills s (uninitialised; released on error) and returns
 * KJ_EPROTO naming what is wrong. */
char *kj_rstate_store_encode(const kj_rstate *s);
kj_code kj_rstate_store_decode(const char *text, kj_rtype type, const char *id, int deleted,
                               kj_rstate *s, kj_err *err);

/* "1234/dev-a" <-> stamp.  Parse wants hlc > 0 and a device of 1-40
 * characters without '/' or spaces; KJ_EINVAL otherwise.  Format writes
 * at most KJ_STAMP_STRMAX bytes. */
#define KJ_STAMP_STRMAX (KJ_HLC_STRMAX + 1 + KJ_DEVICE_MAX + 1)
kj_code kj_stamp_parse(const char *s, kj_stamp *out);
void kj_stamp_format(const kj_stamp *st, char *out, size_t size);

#endif
