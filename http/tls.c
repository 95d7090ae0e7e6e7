/* tls.c - mbedTLS for kj_http: the server's TLS context, TLS over
 * buffered ciphertext (net_int.h), and the self-signed certificate an
 * application makes for itself (`kinerjad init`).  Every mbedTLS error is translated here, once. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include <uv.h> /* inet_pton: the system's socket headers */

#include "http.h"
#include "net_int.h"
#include "plat.h"

static const char *tls_strerror(int rc, char *buf, size_t size) {
  mbedtls_strerror(rc, buf, size);
  return buf;
}

/* ---------------------------------------------------------------------- */
/* context */

atomic_ulong kjh__tls_resumed;

/* mbedtls_ssl_ticket_parse, counting the tickets that resume a session */
static int ticket_parse(void *p_ticket, mbedtls_ssl_session *session, unsigned char *buf,
                        size_t len) {
  int rc = mbedtls_ssl_ticket_parse(p_ticket, session, buf, len);
  if (rc == 0)
    atomic_fetch_add(&kjh__tls_resumed, 1);
  return rc;
}

/* mbedtls_ssl_cache_get, counting the session ids that resume a session */
static int cache_get(void *data, mbedtls_ssl_session *session) {
  int rc = mbedtls_ssl_cache_get(data, session);
  if (rc == 0)
    atomic_fetch_add(&kjh__tls_resumed, 1);
  return rc;
}

static kj_code seed(mbedtls_entropy_context *ent, mbedtls_ctr_drbg_context *drbg, kj_err *err) {
  static const char pers[] = "kj_http";
  int rc = mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, ent, (const unsigned char *)pers,
                                 sizeof pers - 1);
  if (rc) {
    char m[128];
    return kj_fail(err, KJ_ECRYPTO, "cannot seed the random generator: %s",
                   tls_strerror(rc, m, sizeof m));
  }
  return KJ_OK;
}

kj_code kjh__tls_ctx_init(kjh_tls_ctx *t, const char *cert_file, const char *key_file,
                          kj_err *err) {
  char m[160];
  mbedtls_ssl_config_init(&t->conf);
  mbedtls_x509_crt_init(&t->cert);
  mbedtls_pk_init(&t->key);
  mbedtls_entropy_init(&t->entropy);
  mbedtls_ctr_drbg_init(&t->drbg);
  mbedtls_ssl_ticket_init(&t->ticket);
  mbedtls_ssl_cache_init(&t->cache);
  kj_code code = seed(&t->entropy, &t->drbg, err);
  if (code)
    return code;
  if (!cert_file || !key_file)
    return kj_fail(err, KJ_EINVAL, "no TLS certificate or key configured");
  int rc = mbedtls_x509_crt_parse_file(&t->cert, cert_file);
  if (rc)
    return kj_fail(err, KJ_ECRYPTO, "cannot load certificate '%s': %s", cert_file,
                   tls_strerror(rc, m, sizeof m));
  rc = mbedtls_pk_parse_keyfile(&t->key, key_file, NULL);
  if (rc)
    return kj_fail(err, KJ_ECRYPTO, "cannot load key '%s': %s", key_file,
                   tls_strerror(rc, m, sizeof m));
  rc = mbedtls_pk_check_pair(&t->cert.pk, &t->key);
  if (rc)
    return kj_fail(err, KJ_ECRYPTO, "certificate '%s' does not match key '%s': %s", cert_file,
                   key_file, tls_strerror(rc, m, sizeof m));
  rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                   MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc)
    return kj_fail(err, KJ_ECRYPTO, "cannot configure TLS: %s", tls_strerror(rc, m, sizeof m));
  mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
  rc = mbedtls_ssl_conf_own_cert(&t->conf, &t->cert, &t->key);
  if (rc)
    return kj_fail(err, KJ_ECRYPTO, "certificate '%s' does not match key '%s': %s", cert_file,
                   key_file, tls_strerror(rc, m, sizeof m));
  /* resumption: a device whose link dropped comes back with an
   * abbreviated handshake (one round trip less, no certificate sent), by
   * a session id from the cache (what libcurl with OpenSSL offers: it
   * turns TLS 1.2 tickets off) or a session ticket (RFC 5077) */
  mbedtls_ssl_cache_set_max_entries(&t->cache, KJH_SESSION_CACHE);
  mbedtls_ssl_cache_set_timeout(&t->cache, KJH_TICKET_LIFETIME);
  mbedtls_ssl_conf_session_cache(&t->conf, &t->cache, cache_get, mbedtls_ssl_cache_set);
  rc = mbedtls_ssl_ticket_setup(&t->ticket, mbedtls_ctr_drbg_random, &t->drbg,
                                MBEDTLS_CIPHER_AES_256_GCM, KJH_TICKET_LIFETIME);
  if (rc)
    return kj_fail(err, KJ_ECRYPTO, "cannot set up session tickets: %s",
                   tls_strerror(rc, m, sizeof m));
  mbedtls_ssl_conf_session_tickets_cb(&t->conf, mbedtls_ssl_ticket_write, ticket_parse, &t->ticket);
  return KJ_OK;
}

void kjh__tls_ctx_release(kjh_tls_ctx *t) {
  if (!t)
    return;
  mbedtls_ssl_config_free(&t->conf);
  mbedtls_ssl_ticket_free(&t->ticket);
  mbedtls_ssl_cache_free(&t->cache);
  mbedtls_x509_crt_free(&t->cert);
  mbedtls_pk_free(&t->key);
  mbedtls_ctr_drbg_free(&t->drbg);
  mbedtls_entropy_free(&t->entropy);
}

/* ---------------------------------------------------------------------- */
/* TLS over buffered ciphertext */

static int tls_send(void *ctx, const unsigned char *buf, size_t len) {
  kjh_tls_conn *c = ctx;
  if (kj_buf_add(c->out, buf, len) != KJ_OK)
    return MBEDTLS_ERR_SSL_ALLOC_FAILED;
  return (int)len;
}

static int tls_recv(void *ctx, unsigned char *buf, size_t len) {
  kjh_tls_conn *c = ctx;
  size_t avail = c->in.len - c->in_off;
  if (avail == 0)
    return MBEDTLS_ERR_SSL_WANT_READ;
  if (len > avail)
    len = avail;
  memcpy(buf, c->in.data + c->in_off, len);
  c->in_off += len;
  if (c->in_off == c->in.len) {
    kj_buf_reset(&c->in);
    c->in_off = 0;
  }
  return (int)len;
}

kj_code kjh__tls_conn_init(kjh_tls_conn *c, kjh_tls_ctx *t, kj_buf *out) {
  memset(c, 0, sizeof *c);
  mbedtls_ssl_init(&c->ssl);
  kj_buf_init(&c->in, 1u << 20);
  c->out = out;
  if (mbedtls_ssl_setup(&c->ssl, &t->conf) != 0)
    return KJ_ENOMEM;
  mbedtls_ssl_set_bio(&c->ssl, c, tls_send, tls_recv, NULL);
  return KJ_OK;
}

void kjh__tls_conn_release(kjh_tls_conn *c) {
  if (!c)
    return;
  mbedtls_ssl_free(&c->ssl);
  kj_buf_release(&c->in);
}

kj_code kjh__tls_feed(kjh_tls_conn *c, const char *data, size_t len) {
  if (c->in_off > 0) {
    kj_buf_consume(&c->in, c->in_off);
    c->in_off = 0;
  }
  return kj_buf_add(&c->in, data, len);
}

kj_code kjh__tls_read(kjh_tls_conn *c, kj_buf *plain, int *closed, kj_err *err) {
  char m[128];
  *closed = 0;
  if (!c->handshake_done) {
    int rc = mbedtls_ssl_handshake(&c->ssl);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
      return KJ_OK;
    if (rc)
      return kj_fail(err, KJ_ECRYPTO, "TLS handshake failed: %s", tls_strerror(rc, m, sizeof m));
    c->handshake_done = 1;
  }
  for (;;) {
    if (kj_buf_reserve(plain, 16384) != KJ_OK)
      return kj_fail(err, KJ_ETOOBIG, "request data over the buffer limit");
    int rc = mbedtls_ssl_read(&c->ssl, (unsigned char *)plain->data + plain->len, 16384);
    if (rc > 0) {
      plain->len += (size_t)rc;
      plain->data[plain->len] = '\0';
      continue;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
      return KJ_OK;
    if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == 0) {
      *closed = 1;
      return KJ_OK;
    }
    return kj_fail(err, KJ_ECRYPTO, "TLS read failed: %s", tls_strerror(rc, m, sizeof m));
  }
}

kj_code kjh__tls_write(kjh_tls_conn *c, const char *data, size_t len, kj_err *err) {
  while (len > 0) {
    int rc = mbedtls_ssl_write(&c->ssl, (const unsigned char *)data, len);
    if (rc <= 0) {
      char m[128];
      return kj_fail(err, KJ_ECRYPTO, "TLS write failed: %s", tls_strerror(rc, m, sizeof m));
    }
    data += rc;
    len -= (size_t)rc;
  }
  return KJ_OK;
}

void kjh__tls_close_notify(kjh_tls_conn *c) {
  if (c->handshake_done)
    (void)mbedtls_ssl_close_notify(&c->ssl);
}

/* ---------------------------------------------------------------------- */
/* the self-signed certificate */

/* subjectAltName ::= SEQUENCE OF GeneralName; dNSName [2] IA5String,
 * iPAddress [7] OCTET STRING (4 or 16 bytes).  ASN.1 is written backwards
 * from the end of buf; returns the length or a negative mbedTLS error. */
static int san_add(unsigned char **p, unsigned char *start, const char *name) {
  unsigned char ip[16];
  int len = 0, rc;
  size_t n;
  int tag;
  const unsigned char *data;
  if (inet_pton(AF_INET, name, ip) == 1) {
    n = 4, tag = 7, data = ip;
  } else if (inet_pton(AF_INET6, name, ip) == 1) {
    n = 16, tag = 7, data = ip;
  } else {
    n = strlen(name), tag = 2, data = (const unsigned char *)name;
  }
  if ((rc = mbedtls_asn1_write_raw_buffer(p, start, data, n)) < 0)
    return rc;
  len += rc;
  if ((rc = mbedtls_asn1_write_len(p, start, (size_t)len)) < 0)
    return rc;
  len += rc;
  if ((rc = mbedtls_asn1_write_tag(p, start,
                                   (unsigned char)(MBEDTLS_ASN1_CONTEXT_SPECIFIC | tag))) < 0)
    return rc;
  return len + rc;
}

static int san_encode(unsigned char *buf, size_t size, const char *const *hosts, int nhosts,
                      unsigned char **der) {
  unsigned char *p = buf + size;
  int len = 0, rc;
  for (int i = nhosts - 1; i >= -2; i--) {
    const char *name = i == -2 ? "localhost" : i == -1 ? "127.0.0.1" : hosts[i];
    if (i >= 0 && (!strcmp(name, "localhost") || !strcmp(name, "127.0.0.1") || !*name))
      continue;
    if ((rc = san_add(&p, buf, name)) < 0)
      return rc;
    len += rc;
  }
  if ((rc = mbedtls_asn1_write_len(&p, buf, (size_t)len)) < 0)
    return rc;
  len += rc;
  if ((rc = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
    return rc;
  len += rc;
  *der = p;
  return len;
}

static kj_code write_file(const char *path, const unsigned char *data, size_t len, mode_t mode,
                          kj_err *err) {
  int fd = kj_file_create_mode(path, mode); /* mode whatever the umask */
  if (fd < 0)
    return kj_fail(err, KJ_EIO, "cannot create '%s': %s", path, strerror(errno));
  if (write(fd, data, len) != (ssize_t)len || kj_fd_sync(fd) != 0) {
    kj_fail(err, KJ_EIO, "cannot write '%s': %s", path, strerror(errno));
    close(fd);
    return KJ_EIO;
  }
  if (close(fd) != 0)
    return kj_fail(err, KJ_EIO, "cannot write '%s': %s", path, strerror(errno));
  return KJ_OK;
}

kj_code kjh_tls_make_cert(const char *key_file, const char *cert_file, const char *name,
                          const char *const *hosts, int nhosts, struct kj_err *err) {
  mbedtls_entropy_context ent;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_pk_context key;
  mbedtls_x509write_cert crt;
  mbedtls_mpi serial;
  unsigned char *pem = NULL, *san = NULL;
  char m[160], subject[96];
  kj_code code = KJ_OK;
  int rc = 0;
  const char *what = "";
  mbedtls_entropy_init(&ent);
  mbedtls_ctr_drbg_init(&drbg);
  mbedtls_pk_init(&key);
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi_init(&serial);
  if (nhosts < 0 || (nhosts > 0 && !hosts)) {
    code = kj_fail(err, KJ_EINVAL, "bad host list");
    goto done;
  }
  /* the name goes into an X.509 name string: no separators or escapes */
  if (!name || !*name || strlen(name) > 64 || strpbrk(name, ",=+\\\"<>;#")) {
    code = kj_fail(err, KJ_EINVAL, "bad certificate name '%s'", name ? name : "");
    goto done;
  }
  snprintf(subject, sizeof subject, "CN=%s,O=kinerja", name);
  if ((code = seed(&ent, &drbg, err)))
    goto done;
#define TRY(call, w)                                                                               \
  do {                                                                                             \
    if ((rc = (call)) != 0) {                                                                      \
      what = (w);                                                                                  \
      goto fail;                                                                                   \
    }                                                                                              \
  } while (0)
  TRY(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), "key setup");
  TRY(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), mbedtls_ctr_drbg_random,
                          &drbg),
      "key generation");
  /* validity: from two years ago for ten years.  Clients check the dates
   * against their own clock, and an office PC whose clock is a year behind
   * must still be able to sync (and have its clock corrected). */
  time_t now = time(NULL);
  time_t from_t = now - (time_t)2 * 366 * 86400;
  struct tm from, to;
  gmtime_r(&from_t, &from);
  gmtime_r(&now, &to);
  to.tm_year += 10;
  char not_before[16], not_after[16];
  strftime(not_before, sizeof not_before, "%Y%m%d%H%M%S", &from);
  strftime(not_after, sizeof not_after, "%Y%m%d%H%M%S", &to);
  TRY(mbedtls_mpi_fill_random(&serial, 16, mbedtls_ctr_drbg_random, &drbg), "serial");
  TRY(mbedtls_mpi_set_bit(&serial, 127, 0), "serial");
  TRY(mbedtls_mpi_set_bit(&serial, 126, 1), "serial");
  mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&crt, &key);
  mbedtls_x509write_crt_set_issuer_key(&crt, &key);
  TRY(mbedtls_x509write_crt_set_serial(&crt, &serial), "serial");
  TRY(mbedtls_x509write_crt_set_subject_name(&crt, subject), "subject");
  TRY(mbedtls_x509write_crt_set_issuer_name(&crt, subject), "issuer");
  TRY(mbedtls_x509write_crt_set_validity(&crt, not_before, not_after), "validity");
  TRY(mbedtls_x509write_crt_set_basic_constraints(&crt, 1, 0), "basicConstraints");
  TRY(mbedtls_x509write_crt_set_subject_key_identifier(&crt), "subjectKeyIdentifier");
  TRY(mbedtls_x509write_crt_set_authority_key_identifier(&crt), "authorityKeyIdentifier");
  TRY(mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
                                                    MBEDTLS_X509_KU_KEY_CERT_SIGN),
      "keyUsage");
  size_t san_size = 64;
  for (int i = 0; i < nhosts; i++) {
    if (!hosts[i]) {
      code = kj_fail(err, KJ_EINVAL, "bad host list");
      goto done;
    }
    if (strlen(hosts[i]) > 253) {
      code = kj_fail(err, KJ_EINVAL, "host name '%.40s...' is too long", hosts[i]);
      goto done;
    }
    san_size += strlen(hosts[i]) + 8;
  }
  san = malloc(san_size);
  pem = malloc(8192);
  if (!san || !pem) {
    code = kj_fail(err, KJ_ENOMEM, "out of memory");
    goto done;
  }
  unsigned char *der;
  int san_len = san_encode(san, san_size, hosts, nhosts, &der);
  if (san_len < 0) {
    rc = san_len;
    what = "subjectAltName";
    goto fail;
  }
  TRY(mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                          MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, der,
                                          (size_t)san_len),
      "subjectAltName");
  TRY(mbedtls_pk_write_key_pem(&key, pem, 8192), "key encoding");
  if ((code = write_file(key_file, pem, strlen((char *)pem), 0600, err)))
    goto done;
  TRY(mbedtls_x509write_crt_pem(&crt, pem, 8192, mbedtls_ctr_drbg_random, &drbg),
      "certificate encoding");
  if ((code = write_file(cert_file, pem, strlen((char *)pem), 0644, err)))
    goto done;
  goto done;
#undef TRY
fail:
  code = kj_fail(err, KJ_ECRYPTO, "cannot make the certificate (%s): %s", what,
                 tls_strerror(rc, m, sizeof m));
done:
  if (pem)
    mbedtls_platform_zeroize(pem, 8192);
  free(pem);
  free(san);
  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&crt);
  mbedtls_pk_free(&key);
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&ent);
  return code;
}
