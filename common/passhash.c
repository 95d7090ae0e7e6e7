/* passhash.c - Argon2id hashing of secrets with libargon2. */
#include "passhash.h"

#include <argon2.h>
#include <string.h>

#include "uuid.h"

enum { T_COST = 2, M_COST_KIB = 19456, LANES = 1, SALT_LEN = 16, HASH_LEN = 32 };

kj_code kj_pass_hash(const char *secret, char *out, size_t size, kj_err *err) {
  unsigned char salt[SALT_LEN];
  if (size < KJ_PASSHASH_MAX)
    return kj_fail(err, KJ_EINVAL, "password hash buffer too small");
  if (kj_random_bytes(salt, sizeof salt) != KJ_OK)
    return kj_fail(err, KJ_ECRYPTO, "no random bytes for a salt");
  size_t need = argon2_encodedlen(T_COST, M_COST_KIB, LANES, SALT_LEN, HASH_LEN, Argon2_id);
  if (need > size)
    return kj_fail(err, KJ_EINVAL, "password hash buffer too small");
  int r = argon2id_hash_encoded(T_COST, M_COST_KIB, LANES, secret, strlen(secret), salt,
                                sizeof salt, HASH_LEN, out, size);
  if (r == ARGON2_MEMORY_ALLOCATION_ERROR)
    return kj_fail(err, KJ_ENOMEM, "out of memory hashing a secret");
  if (r != ARGON2_OK)
    return kj_fail(err, KJ_ECRYPTO, "cannot hash a secret: %s", argon2_error_message(r));
  return KJ_OK;
}

kj_code kj_pass_verify(const char *encoded, const char *secret, kj_err *err) {
  if (!encoded || strncmp(encoded, "$argon2id$", 10) != 0)
    return kj_fail(err, KJ_EINVAL, "not an Argon2id hash");
  int r = argon2id_verify(encoded, secret, strlen(secret));
  if (r == ARGON2_OK)
    return KJ_OK;
  if (r == ARGON2_VERIFY_MISMATCH)
    return kj_fail(err, KJ_EAUTH, "wrong secret");
  if (r == ARGON2_MEMORY_ALLOCATION_ERROR)
    return kj_fail(err, KJ_ENOMEM, "out of memory checking a secret");
  return kj_fail(err, KJ_EINVAL, "not a valid Argon2id hash: %s", argon2_error_message(r));
}
