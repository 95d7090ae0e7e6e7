/* person.c - PINs and activation codes of the people of an office
 * (person.h). */
#include "person.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actcode.h"
#include "i18n.h"
#include "passhash.h"
#include "plat.h"
#include "record.h"
#include "wire.h"

kj_code kjc_pin_check(const char *pin, kj_err *err) {
  size_t n = pin ? strlen(pin) : 0;
  for (size_t i = 0; i < n; i++)
    if (pin[i] < '0' || pin[i] > '9')
      n = 0;
  if (n < KJC_PIN_MIN || n > KJC_PIN_MAX)
    return kj_fail(err, KJ_EINVAL, _("a PIN is %d to %d digits"), KJC_PIN_MIN, KJC_PIN_MAX);
  return KJ_OK;
}

void kjc_office_time(kjc_store *s, int64_t ms, char *out, size_t size) {
  const char *abbr = "WIB";
  int hours = 7;
  kj_rstate o;
  if (kjc_record_get(s, KJ_T_OFFICE, kjc_store_office(s), &o, NULL) == KJ_OK) {
    const char *tz = kj_record_get(&o.rec, "timezone");
    if (tz && strcmp(tz, "Asia/Makassar") == 0)
      abbr = "WITA", hours = 8;
    else if (tz && strcmp(tz, "Asia/Jayapura") == 0)
      abbr = "WIT", hours = 9;
  }
  kj_rstate_release(&o);
  time_t t = (time_t)(ms / 1000 + (int64_t)hours * 3600);
  struct tm tm;
  char when[32];
  if (!kj_time_utc(t, &tm) || !strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm))
    snprintf(when, sizeof when, "%lld ms", (long long)ms);
  snprintf(out, size, "%s %s", when, abbr);
}

/* nip is a NIP on the live roster of this office: KJ_OK, else the error. */
static kj_code on_roster(kjc_store *s, const char *nip, kj_err *err) {
  if (!kj_nip_valid(nip))
    return kj_fail(err, KJ_EINVAL, _("'%s' is not a NIP (18 digits)"), nip ? nip : "");
  kj_rstate e;
  kj_code c = kjc_record_get(s, KJ_T_EMPLOYEE, nip, &e, NULL);
  int ok = 0;
  if (c == KJ_OK) {
    const char *of = kj_record_get(&e.rec, "office");
    ok = !e.rec.deleted && of && !strcmp(of, kjc_store_office(s));
  }
  kj_rstate_release(&e);
  if (c && c != KJ_ENOENT)
    return kj_fail(err, c, _("cannot read the roster"));
  if (!ok)
    return kj_fail(err, KJ_ENOENT,
                   _("%s is not on the roster of office '%s' (run 'kinerja sync'?)"), nip,
                   kjc_store_office(s));
  return KJ_OK;
}

/* Locked now?  Then KJ_EAUTH with the message, info set. */
static kj_code check_lock(kjc_store *s, const kjc_person_row *p, int64_t now, kjc_signin *info,
                          kj_err *err) {
  if (p->locked_until_ms <= now)
    return KJ_OK;
  info->locked_until_ms = p->locked_until_ms;
  char when[48];
  kjc_office_time(s, p->locked_until_ms, when, sizeof when);
  return kj_fail(err, KJ_EAUTH, _("%s is locked after %d wrong tries until %s"), p->nip,
                 KJC_PIN_TRIES, when);
}

/* A wrong PIN or code: count it, lock at the last try; KJ_EAUTH with the
 * message ("wrong PIN for NIP: ..."). */
static kj_code wrong_try(kjc_store *s, kjc_person_row *p, int64_t now, const char *what,
                         kjc_signin *info, kj_err *err) {
  p->failures++;
  if (p->failures >= KJC_PIN_TRIES) {
    p->failures = 0;
    p->locked_until_ms = now + KJC_PIN_LOCK_MS;
    info->locked_until_ms = p->locked_until_ms;
    info->tries_left = 0;
  } else {
    info->tries_left = KJC_PIN_TRIES - p->failures;
  }
  kj_code c = kjc_person_put(s, p, err);
  if (c)
    return c;
  if (info->locked_until_ms) {
    char when[48];
    kjc_office_time(s, p->locked_until_ms, when, sizeof when);
    return kj_fail(err, KJ_EAUTH, _("wrong %s for %s: %d wrong tries, locked until %s"), what,
                   p->nip, KJC_PIN_TRIES, when);
  }
  return kj_fail(err, KJ_EAUTH, _("wrong %s for %s: %d %s left before a %lld-minute lock"), what,
                 p->nip, info->tries_left, info->tries_left == 1 ? _("try") : _("tries"),
                 KJC_PIN_LOCK_MS / 60000);
}

/* Run fn in a transaction of its own (or the caller's), committed also
 * when fn answers KJ_EAUTH (a counted try); rolled back on other errors. */
static kj_code in_txn(kjc_store *s, kj_code (*fn)(kjc_store *, void *, kj_err *), void *ud,
                      kj_err *err) {
  int own = !kjc_store_in_txn(s);
  kj_code c;
  if (own && (c = kjc_store_begin(s, err)))
    return c;
  c = fn(s, ud, err);
  if (!own)
    return c;
  if (c && c != KJ_EAUTH) {
    kjc_store_rollback(s);
    return c;
  }
  kj_err cerr;
  kj_err_clear(&cerr);
  kj_code cc = kjc_store_commit(s, &cerr);
  if (cc) {
    if (err)
      *err = cerr;
    return cc;
  }
  return c;
}

typedef struct signin_args {
  const char *nip, *pin, *code;
  kjc_signin *info;
} signin_args;

/* Whether nip can sign in now, before a PIN is checked: on the roster,
 * a PIN set here, not locked.  KJ_OK with *p filled (release it), else the
 * error (p released); nothing is counted or written. */
static kj_code signin_ready(kjc_store *s, const char *nip, kjc_person_row *p, kjc_signin *info,
                            kj_err *err) {
  memset(p, 0, sizeof *p);
  kj_code c = on_roster(s, nip, err);
  if (c)
    return c;
  int found = 0;
  c = kjc_person_get(s, nip, p, &found, err);
  if (!c && (!found || !p->pin_hash))
    c = kj_fail(err, KJ_ENOENT,
                _("%s has no PIN at this PC: set one with 'kinerja person setup %s' and the "
                  "activation code from the BKD"),
                nip, nip);
  else if (!c)
    c = check_lock(s, p, kjc_store_now_ms(s), info, err);
  if (c)
    kjc_person_row_release(p);
  return c;
}

static kj_code signin_txn(kjc_store *s, void *ud, kj_err *err) {
  signin_args *a = ud;
  kjc_person_row p;
  kj_code c = signin_ready(s, a->nip, &p, a->info, err);
  if (c)
    return c;
  int64_t now = kjc_store_now_ms(s);
  kj_err e;
  kj_err_clear(&e);
  c = kj_pass_verify(p.pin_hash, a->pin ? a->pin : "", &e);
  if (c == KJ_OK) {
    if (p.failures || p.locked_until_ms) {
      p.failures = 0;
      p.locked_until_ms = 0;
      c = kjc_person_put(s, &p, err);
    }
  } else if (c == KJ_EAUTH) {
    c = wrong_try(s, &p, now, "PIN", a->info, err);
  } else {
    c = kj_fail(err, c, "%s: %s", a->nip, e.msg);
  }
  kjc_person_row_release(&p);
  return c;
}

kj_code kjc_person_can_signin(kjc_store *s, const char *nip, kjc_signin *info, kj_err *err) {
  kjc_signin dummy;
  if (!info)
    info = &dummy;
  memset(info, 0, sizeof *info);
  kjc_person_row p;
  kj_code c = signin_ready(s, nip, &p, info, err);
  if (!c)
    kjc_person_row_release(&p);
  return c;
}

kj_code kjc_person_signin(kjc_store *s, const char *nip, const char *pin, kjc_signin *info,
                          kj_err *err) {
  kjc_signin dummy;
  if (!info)
    info = &dummy;
  memset(info, 0, sizeof *info);
  signin_args a = {nip, pin, NULL, info};
  return in_txn(s, signin_txn, &a, err);
}

/* The live activation of nip at this office into *hash (malloc'd) and
 * *expires: KJ_OK or KJ_ENOENT with the message. */
static kj_code activation_of(kjc_store *s, const char *nip, char **hash, int64_t *expires,
                             kj_err *err) {
  char id[KJ_ID_MAX + 1];
  *hash = NULL;
  if (kj_activation_id(nip, id))
    return kj_fail(err, KJ_EINVAL, _("'%s' is not a NIP"), nip);
  kj_rstate a;
  kj_code c = kjc_record_get(s, KJ_T_ACTIVATION, id, &a, NULL);
  if (c && c != KJ_ENOENT) {
    kj_rstate_release(&a);
    return kj_fail(err, c, _("cannot read the activations"));
  }
  const char *n = c ? NULL : kj_record_get(&a.rec, "nip");
  const char *of = c ? NULL : kj_record_get(&a.rec, "office");
  const char *h = c ? NULL : kj_record_get(&a.rec, "code_hash");
  const char *x = c ? NULL : kj_record_get(&a.rec, "expires");
  if (c || a.rec.deleted || !n || strcmp(n, nip) != 0 || !of ||
      strcmp(of, kjc_store_office(s)) != 0 || !h || !x) {
    kj_rstate_release(&a);
    return kj_fail(err, KJ_ENOENT,
                   _("no activation code for %s has reached this PC: ask the BKD for one "
                     "('kinerjad person activate %s'), then run 'kinerja sync'"),
                   nip, nip);
  }
  *expires = strtoll(x, NULL, 10);
  *hash = strdup(h);
  kj_rstate_release(&a);
  if (!*hash) {
    kj_fail(err, KJ_ENOMEM, _("out of memory"));
    return KJ_ENOMEM; /* spelled out: the analyzer cannot see kj_fail's result */
  }
  return KJ_OK;
}

kj_code kjc_person_can_setup(kjc_store *s, const char *nip, kj_err *err) {
  kj_code c = on_roster(s, nip, err);
  if (c)
    return c;
  char *hash = NULL;
  int64_t expires = 0;
  c = activation_of(s, nip, &hash, &expires, err);
  free(hash);
  return c;
}

static kj_code setup_txn(kjc_store *s, void *ud, kj_err *err) {
  signin_args *a = ud;
  kj_code c = on_roster(s, a->nip, err);
  if (c)
    return c;
  char plain[KJ_ACTCODE_LEN + 1];
  if ((c = kj_actcode_normalize(a->code, plain, err)))
    return c;
  char *code_hash = NULL;
  int64_t expires = 0;
  if ((c = activation_of(s, a->nip, &code_hash, &expires, err)))
    return c;
  kjc_person_row p;
  int found;
  if ((c = kjc_person_get(s, a->nip, &p, &found, err))) {
    free(code_hash);
    return c;
  }
  int64_t now = kjc_store_now_ms(s);
  char when[48];
  if ((c = check_lock(s, &p, now, a->info, err)))
    goto out;
  if (p.activation && code_hash && strcmp(p.activation, code_hash) == 0) {
    kjc_office_time(s, p.set_ms, when, sizeof when);
    c = kj_fail(err, KJ_EAUTH,
                _("the activation code of %s was used already (PIN set on %s): a forgotten PIN "
                  "needs a new code ('kinerjad person activate %s' at the BKD)"),
                a->nip, when, a->nip);
    goto out;
  }
  if (expires <= now) {
    kjc_office_time(s, expires, when, sizeof when);
    c = kj_fail(err, KJ_EAUTH,
                _("the activation code of %s expired on %s: ask the BKD for a new one "
                  "('kinerjad person activate %s')"),
                a->nip, when, a->nip);
    goto out;
  }
  kj_err e;
  kj_err_clear(&e);
  c = kj_pass_verify(code_hash, plain, &e);
  if (c == KJ_EAUTH) {
    c = wrong_try(s, &p, now, _("activation code"), a->info, err);
    goto out;
  }
  if (c) {
    c = kj_fail(err, c, _("activation of %s: %s"), a->nip, e.msg);
    goto out;
  }
  char pin_hash[KJ_PASSHASH_MAX];
  if ((c = kj_pass_hash(a->pin, pin_hash, sizeof pin_hash, err)))
    goto out;
  free(p.pin_hash);
  free(p.activation);
  p.pin_hash = strdup(pin_hash);
  p.activation = code_hash;
  code_hash = NULL;
  if (!p.pin_hash) {
    c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    goto out;
  }
  p.failures = 0;
  p.locked_until_ms = 0;
  p.set_ms = now;
  c = kjc_person_put(s, &p, err);
out:
  memset(plain, 0, sizeof plain);
  free(code_hash);
  kjc_person_row_release(&p);
  return c;
}

kj_code kjc_person_setup(kjc_store *s, const char *nip, const char *code, const char *pin,
                         kjc_signin *info, kj_err *err) {
  kjc_signin dummy;
  if (!info)
    info = &dummy;
  memset(info, 0, sizeof *info);
  kj_code c = kjc_pin_check(pin, err);
  if (c)
    return c;
  signin_args a = {nip, pin, code, info};
  return in_txn(s, setup_txn, &a, err);
}

typedef struct each_ctx {
  kjc_store *s;
  int (*fn)(void *ud, const kjc_person_view *p);
  void *ud;
  kj_code c;
  kj_err *err;
} each_ctx;

static int each_employee(void *ud, const kj_rstate *st, const char *reason) {
  (void)reason;
  each_ctx *x = ud;
  const char *of = kj_record_get(&st->rec, "office");
  if (!of || strcmp(of, kjc_store_office(x->s)) != 0)
    return 0;
  kjc_person_row p;
  int found;
  if ((x->c = kjc_person_get(x->s, st->rec.id, &p, &found, x->err)))
    return 1;
  kjc_person_view v = {st->rec.id,         kj_record_get(&st->rec, "name"),
                       p.pin_hash != NULL, p.set_ms,
                       p.locked_until_ms,  0};
  char *hash = NULL;
  int64_t expires = 0;
  if (activation_of(x->s, st->rec.id, &hash, &expires, NULL) == KJ_OK &&
      !(p.activation && hash && strcmp(p.activation, hash) == 0))
    v.code_expires_ms = expires;
  free(hash);
  kjc_person_row_release(&p);
  return x->fn(x->ud, &v);
}

kj_code kjc_person_each(kjc_store *s, int (*fn)(void *ud, const kjc_person_view *p), void *ud,
                        kj_err *err) {
  each_ctx x = {s, fn, ud, KJ_OK, err};
  kj_code c = kjc_store_each(s, KJ_T_EMPLOYEE, 0, each_employee, &x, err);
  if (x.c)
    return x.c;
  return c == KJ_EINTR ? KJ_OK : c;
}
