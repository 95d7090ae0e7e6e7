/* net_shim.c - stand-in for net.c/tls.c until the network layer lands
 * (built only while server/net.c does not exist; delete afterwards). */
#include <string.h>

#include "err.h"
#include "http.h"

void kjs_net_config_defaults(kjs_net_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  strcpy(cfg->host, "127.0.0.1");
  cfg->port = 8443;
  cfg->max_body = 16u << 20;
  cfg->max_conns = 4096;
  cfg->header_timeout_ms = 10000;
  cfg->idle_timeout_ms = 60000;
}

int kjs_net_serve(const kjs_net_config *cfg, kjs_handler_fn handler, void *app,
                  struct kj_err *err) {
  (void)cfg;
  (void)handler;
  (void)app;
  return kj_fail(err, KJ_ENET, "the network layer is not built in yet");
}

void kjs_net_metrics(kj_buf *out) {
  kj_buf_adds(out, "# network metrics not built in\n");
}

int kjs_tls_make_cert(const char *key_file, const char *cert_file, const char *const *hosts,
                      int nhosts, struct kj_err *err) {
  (void)key_file;
  (void)cert_file;
  (void)hosts;
  (void)nhosts;
  return kj_fail(err, KJ_ECRYPTO, "the TLS layer is not built in yet");
}
