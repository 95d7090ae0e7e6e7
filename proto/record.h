/* record.h - the record types of domain.md, their fields and validation.
 *
 * One definition for client and server.  A record is its type, its id and an
 * array of field values indexed like the type's field table.  Every value is
 * text (UTF-8, NUL-terminated, owned by the record); NULL means absent.  The
 * text is kept exactly as given (after validation), so CSV import -> export
 * -> import changes nothing.
 *
 * The `office` of an office record (survey, activity, complaint, rating,
 * target) is an ordinary field (index 0), so a central correction that moves
 * a record to another office merges like any other field.  Master data:
 * an office's id is its code; an employee's id is its nip and its office is
 * its `office` field; an indicator's id is its id and it has no office.
 */
#ifndef KJ_RECORD_H
#define KJ_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* In-memory handles of the types.  Their numbers are positions in the C
 * table and are never stored or sent: the database and the wire name a type
 * by kj_type_def.name and a field by kj_field_def.name (stable identities,
 * docs/protocol.md "Versions"). */
typedef enum {
  KJ_T_OFFICE,
  KJ_T_EMPLOYEE,
  KJ_T_INDICATOR,
  KJ_T_SURVEY,
  KJ_T_ACTIVITY,
  KJ_T_COMPLAINT,
  KJ_T_RATING,
  KJ_T_TARGET,
  KJ_T_SERVICE,
  KJ_T_ACTIVATION,
  KJ_T__COUNT,
  KJ_T_NONE = -1
} kj_rtype;

typedef enum {
  KJ_FT_TEXT,   /* UTF-8, length in characters min..max */
  KJ_FT_INT,    /* decimal integer min..max */
  KJ_FT_NUM,    /* plain decimal "12", "0.5" with at most `decimals` decimals
                   (6 when 0); >= 0, or > 0 when min == 1; at most max */
  KJ_FT_DATE,   /* YYYY-MM-DD */
  KJ_FT_PERIOD, /* 2026, 2026-Q1, 2026-01 */
  KJ_FT_NIP,    /* 18 digits: birth date, appointment YYYYMM, sex 1|2, seq */
  KJ_FT_ENUM,   /* one of choices */
  KJ_FT_CODE,   /* 1-32 of [0-9A-Za-z._-] */
  KJ_FT_MTEXT   /* multi-line TEXT: also allows newline and tab (domain.md "Records":
                   comment, description, summary, resolution) */
} kj_ftype;

/* Protocol versions (docs/protocol.md "Versions").  Version 1 is the
 * release of commit 0c3ceb2; version 2 added the fields and types of
 * the records' second version; version 3 (KJ_PROTOCOL_STATE_S) lets a
 * record state say its common stamp once ("s") instead of once per field
 * (proto/wire.h).  A type, field or enum value carries the version that
 * introduced it (`since`, 0 meaning 1): a peer of version v is never sent
 * anything newer than v. */
#define KJ_PROTOCOL_MIN 1
#define KJ_PROTOCOL_MAX 3
#define KJ_PROTOCOL_STATE_S 3

#define KJ_MAX_FIELDS 20
#define KJ_ID_MAX 36     /* UUID, office code, nip, indicator id */
#define KJ_DEVICE_MAX 40 /* device id text */

typedef struct kj_field_def {
  const char *name;
  kj_ftype ft;
  int required;
  long long min, max;         /* INT: value range; TEXT: length range; NUM: see above */
  const char *const *choices; /* ENUM: NULL-terminated list */
  int since;                  /* protocol version that added the field; 0 = 1 */
  int decimals;               /* NUM: most digits after the point; 0 = 6 */
} kj_field_def;

typedef struct kj_type_def {
  kj_rtype type;
  const char *name;    /* "survey": the TYPE of commands and the wire */
  const char *plural;  /* "surveys": the CSV file name without .csv */
  const char *id_name; /* CSV column of the id: "id", "code", "nip" */
  int master;          /* 1 for office, employee, indicator */
  int office_field;    /* index of the office field, -1 when none */
  int nfields;
  const kj_field_def *fields; /* the CSV columns other than the id column */
  int since;                  /* protocol version that added the type; 0 = 1 */
  int office_scoped;          /* master data that only its own office receives */
} kj_type_def;

typedef struct kj_record {
  kj_rtype type;
  char id[KJ_ID_MAX + 1];
  int deleted;
  char *v[KJ_MAX_FIELDS]; /* owned unless lent; NULL = absent */
  /* bit i: v[i] is lent (kj_record_lend): storage of someone else's that
   * outlives the record, never freed here */
  uint32_t lent;
} kj_record;

/* The type table. */
const kj_type_def *kj_type(kj_rtype t);
/* By name: accepts "survey" and "surveys"; NULL when unknown. */
const kj_type_def *kj_type_by_name(const char *name);
/* Index of a field of t, -1 when t has no such field. */
int kj_field_index(const kj_type_def *t, const char *name);

/* The protocol version a peer needs to know type t (>= 1). */
int kj_type_since(const kj_type_def *t);
/* The protocol version a peer needs to receive `value` in field i of t:
 * the field's own version, or a later one for an enum value added later
 * (complaint channel "whatsapp" is 2).  value NULL (a cleared field) needs
 * only the field's version. */
int kj_value_since(const kj_type_def *t, int i, const char *value);

/* A service's id, derived from its office and name (domain.md: "the id is
 * derived from office and name"): a UUID (version 8, RFC 9562) made of the
 * first 122 bits of SHA-256("service" NUL office NUL key), where key is the
 * name in lower case with every run of characters other than letters and
 * digits taken as one space and no space at either end; so "KTP-el",
 * "ktp el" and " KTP  EL." name the same service.  out gets 36 characters
 * and a NUL.  KJ_EINVAL when office or name is empty. */
kj_code kj_service_id(const char *office, const char *name, char out[KJ_ID_MAX + 1]);

/* An activation's id, derived from its nip the same way: the first 122
 * bits of SHA-256("activation" NUL nip) as a UUID version 8, so a second
 * `kinerjad person activate` of one person replaces the first code.  out
 * gets 36 characters and a NUL.  KJ_EINVAL when nip is empty. */
kj_code kj_activation_id(const char *nip, char out[KJ_ID_MAX + 1]);

/* The key that names a service (the one kj_service_id hashes): name in
 * lower case, every run of characters other than ASCII letters and digits
 * (bytes >= 0x80 count as letters) taken as one space, none at either end.
 * out must hold strlen(name) + 1 bytes; returns the key's length. */
size_t kj_service_key(const char *name, char *out);

/* A survey's `service` against the services listed for its office
 * (domain.md Records, master type `service`): list[0..n) are their names
 * (NULL entries are skipped).  *match gets the listed name when name is
 * one of them up to letter case, spaces and punctuation (kj_service_key
 * equal: "ktp el" -> "KTP-el"; the record stores the listed one), else
 * NULL; then *closest gets the listed name nearest to it (edit distance of
 * the keys, ties to the first), NULL when the list is empty.  Pure: the
 * pointers point into list.  KJ_OK, or KJ_ENOMEM (both NULL). */
kj_code kj_service_resolve(const char *name, const char *const *list, size_t n, const char **match,
                           const char **closest);

/* For a type whose id is derived from its fields (service, activation): when r->id is
 * empty and the fields it comes from are present, set it.  Other types
 * and records that already have an id are left alone.  KJ_ENOMEM only. */
kj_code kj_record_derive_id(kj_record *r);

void kj_record_init(kj_record *r, kj_rtype t);
void kj_record_release(kj_record *r); /* frees the values; r reusable after init */
kj_code kj_record_copy(kj_record *dst, const kj_record *src); /* dst uninitialised */
/* Set (copy) or clear (value NULL) field i. */
kj_code kj_record_set(kj_record *r, int i, const char *value);
/* Point field i at value without a copy (NULL clears it): value must
 * outlive r and every copy of its pointers (the server's push: values in
 * the request's parsed body, kept to the end of the request); release and
 * set then leave it alone, kj_record_copy copies it. */
void kj_record_lend(kj_record *r, int i, const char *value);
/* By field name; KJ_EINVAL with "unknown field 'x'" in err when there is none.
 * The type's id_name ("id", "code", "nip") sets or clears r->id (an id longer
 * than KJ_ID_MAX fails with the id rule's message). */
kj_code kj_record_set_named(kj_record *r, const char *name, const char *value, kj_err *err);
/* Value of a field by name (the id_name gives r->id); NULL when absent. */
const char *kj_record_get(const kj_record *r, const char *name);
/* The office the record belongs to (NULL for indicators). */
const char *kj_record_office(const kj_record *r);

/* Check one value of field f; on error err says "field 'u3': must be an
 * integer from 1 to 4" (the caller adds which record or line).  TEXT and
 * MTEXT values are valid UTF-8 without control characters (domain.md
 * "Records"): no C0 (below 0x20), no DEL (0x7f), no C1 (U+0080-U+009F),
 * except newline and tab in MTEXT; the message is "field 'name': must not
 * contain control characters".  The message never quotes the value. */
kj_code kj_field_validate(const kj_field_def *f, const char *value, kj_err *err);
/* Check the id and every field, required ones present, and the rules across
 * fields (complaint resolved not before received).  Deleted records need
 * only a valid id. */
kj_code kj_record_validate(const kj_record *r, kj_err *err);
/* Every problem of r, one call of fn per problem with the message as above;
 * returns how many there were (0 = valid). */
int kj_record_check(const kj_record *r, void (*fn)(void *ud, const char *msg), void *ud);
/* The same for a record after a write that set the fields of `written`
 * (bit i = field i): those are checked in full, with the rules across
 * fields they take part in; every other field only for being present when
 * required.  A value the write did not touch was accepted under the rules
 * in force when it was written (a quantity with 6 decimals from protocol
 * 1), so an edit of another field of that record is never refused for it
 * (docs/protocol.md "Versions"). */
int kj_record_check_written(const kj_record *r, uint32_t written,
                            void (*fn)(void *ud, const char *msg), void *ud);
kj_code kj_record_validate_written(const kj_record *r, uint32_t written, kj_err *err);
/* The id rule: a UUID for office records, the key rule of master types. */
kj_code kj_record_validate_id(kj_rtype t, const char *id, kj_err *err);

/* Building blocks of the rules, for callers that check single values. */
/* Characters of s, -1 when s is not valid UTF-8 (no overlongs, surrogates). */
long kj_utf8_len(const char *s);
/* 1 when s is a NIP: 18 digits, a real birth date, appointment month 01-12,
 * sex digit 1 or 2. */
int kj_nip_valid(const char *s);
/* 1 when s is 1-32 of [0-9A-Za-z._-] (office codes, indicator ids). */
int kj_code_valid(const char *s);

#endif
