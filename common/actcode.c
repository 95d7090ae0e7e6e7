/* actcode.c - activation codes (actcode.h). */
#include "actcode.h"

#include <string.h>

#include "uuid.h"

static const char k_alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
#define NSYM ((unsigned)(sizeof k_alphabet - 1))

kj_code kj_actcode_make(char plain[KJ_ACTCODE_LEN + 1], char shown[KJ_ACTCODE_SHOWN + 1],
                        kj_err *err) {
  const unsigned limit = 256 / NSYM * NSYM; /* 248: no bias */
  int n = 0;
  while (n < KJ_ACTCODE_LEN) {
    unsigned char b[16];
    if (kj_random_bytes(b, sizeof b) != KJ_OK)
      return kj_fail(err, KJ_ECRYPTO, "no random bytes for an activation code");
    for (size_t i = 0; i < sizeof b && n < KJ_ACTCODE_LEN; i++)
      if (b[i] < limit)
        plain[n++] = k_alphabet[b[i] % NSYM];
  }
  plain[n] = '\0';
  int o = 0;
  for (int i = 0; i < KJ_ACTCODE_LEN; i++) {
    if (i && i % 4 == 0)
      shown[o++] = '-';
    shown[o++] = plain[i];
  }
  shown[o] = '\0';
  return KJ_OK;
}

kj_code kj_actcode_normalize(const char *typed, char plain[KJ_ACTCODE_LEN + 1], kj_err *err) {
  int n = 0;
  for (const char *p = typed ? typed : ""; *p; p++) {
    char c = *p;
    if (c == '-' || c == ' ' || c == '\t')
      continue;
    if (c >= 'a' && c <= 'z')
      c = (char)(c - 32);
    if (n == KJ_ACTCODE_LEN || !strchr(k_alphabet, c) || c == '\0')
      goto bad;
    plain[n++] = c;
  }
  if (n != KJ_ACTCODE_LEN)
    goto bad;
  plain[n] = '\0';
  return KJ_OK;
bad:
  plain[0] = '\0';
  return kj_fail(err, KJ_EINVAL,
                 "an activation code is 12 letters and digits, like ABCD-EFGH-JKMN");
}
