/* many_devices.c - many offices syncing at once (issue "Benchmarks", item 5).
 *
 *   many_devices URL[,URL...] CAFILE DEVICES_FILE RECORDS
 * DEVICES_FILE has one "TOKEN OFFICE" line per device.  With several URLs
 * (instances of one store serving the same certificate, CAFILE), device i
 * talks to URL i mod their number.  Every device gets
 * its own libcurl easy handle and its own TLS connection (fresh, never
 * reused), all added to one multi handle at once, and POSTs one
 * /v1/push of RECORDS new survey records of its office, built with
 * proto/wire.h and gzipped as kinerja does.  Prints one line:
 *   devices N applied A errors E p50_ms X p99_ms Y max_ms Z
 *   push_p50_ms X push_p99_ms Y wall_ms W sent_bytes S received_bytes R
 * where the first latencies run from the start of the transfer (connect +
 * TLS handshake + push), the push_ ones from the end of the TLS handshake to
 * the last byte of the answer, and the bytes are the HTTP bytes (headers and
 * bodies, TLS excluded) seen by libcurl's debug callback.
 * Not a ctest: run by scripts/bench.sh.
 */
#include <cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "gz.h"
#include "hlc.h"
#include "uuid.h"
#include "wire.h"

typedef struct dev {
  char token[128];
  char office[40];
  CURL *h;
  struct curl_slist *hdr;
  kj_buf body; /* gzipped request */
  kj_buf reply;
  double total_ms, push_ms;
  int applied, failed;
} dev;

static unsigned long long g_rng = 7;
static unsigned rnd(unsigned n) {
  g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)((g_rng >> 33) % n);
}

static unsigned long long g_sent, g_recv;

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud) {
  (void)h;
  (void)data;
  (void)ud;
  if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT)
    g_sent += size;
  else if (type == CURLINFO_HEADER_IN || type == CURLINFO_DATA_IN)
    g_recv += size;
  return 0;
}

static size_t on_write(char *p, size_t s, size_t n, void *ud) {
  kj_buf *b = ud;
  return kj_buf_add(b, p, s * n) == KJ_OK ? s * n : 0;
}

static _Noreturn void die(const char *what, const char *msg) {
  fprintf(stderr, "many_devices: %s: %s\n", what, msg);
  exit(1);
}

static void setf(kj_record *r, const char *name, const char *v) {
  kj_err e;
  if (kj_record_set_named(r, name, v, &e))
    die(name, e.msg);
}

/* One push body: RECORDS surveys like scripts/gen-data.py's, as kinerja
 * sends them ({"device_time":..,"changes":[..]}), gzipped. */
static void build_body(dev *d, int records) {
  static const char *services[] = {"KTP-el", "Kartu Keluarga", "Akta Kelahiran", "Surat Pindah",
                                   "Izin Usaha Mikro"};
  cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
  uint64_t now = kj_wall_ms();
  cJSON_AddNumberToObject(root, "device_time", (double)now);
  cJSON_AddItemToObject(root, "changes", arr);
  for (int i = 0; i < records; i++) {
    kj_change c;
    kj_change_init(&c, KJ_T_SURVEY);
    kj_uuid_v7(c.rec.id);
    char b[32];
    setf(&c.rec, "office", d->office);
    snprintf(b, sizeof b, "2026-%02u-%02u", 1 + rnd(10), 1 + rnd(28));
    setf(&c.rec, "date", b);
    setf(&c.rec, "service", services[rnd(5)]);
    for (int k = 1; k <= 9; k++) {
      char n[4];
      snprintf(n, sizeof n, "u%d", k);
      snprintf(b, sizeof b, "%u", 1 + rnd(4));
      setf(&c.rec, n, b);
    }
    snprintf(b, sizeof b, "%u", 17 + rnd(60));
    setf(&c.rec, "age", b);
    setf(&c.rec, "sex", rnd(2) ? "L" : "P");
    setf(&c.rec, "education", "SMA");
    setf(&c.rec, "occupation", "Wiraswasta");
    setf(&c.rec, "comment", "Pelayanan cepat");
    int nf = kj_type(KJ_T_SURVEY)->nfields;
    for (int k = 0; k < nf; k++)
      if (c.rec.v[k])
        c.mask |= 1u << k;
    c.seq = i + 1;
    c.hlc = KJ_HLC_MAKE(now, (unsigned)i);
    cJSON_AddItemToArray(arr, kj_change_to_json(&c));
    kj_change_release(&c);
  }
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  kj_buf_init(&d->body, KJ_BUF_UNLIMITED);
  kj_err e;
  if (kj_gzip(text, strlen(text), &d->body, &e))
    die("gzip", e.msg);
  free(text);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, int p) {
  int i = (n * p) / 100;
  return v[i < n ? i : n - 1];
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: many_devices URL[,URL...] CAFILE DEVICES_FILE RECORDS\n");
    return 2;
  }
  int records = atoi(argv[4]);
  FILE *f = fopen(argv[3], "r");
  if (!f)
    die(argv[3], "cannot open");
  int cap = 16, n = 0;
  dev *devs = calloc((size_t)cap, sizeof *devs);
  char tok[128], off[40];
  while (fscanf(f, "%127s %39s", tok, off) == 2) {
    if (n == cap) {
      cap *= 2;
      dev *grown = realloc(devs, (size_t)cap * sizeof *devs);
      if (!grown)
        die(argv[3], "out of memory");
      devs = grown;
    }
    memset(&devs[n], 0, sizeof devs[n]);
    snprintf(devs[n].token, sizeof devs[n].token, "%s", tok);
    snprintf(devs[n].office, sizeof devs[n].office, "%s", off);
    n++;
  }
  fclose(f);
  if (n == 0)
    die(argv[3], "no devices in the file");
  char urls[16][512];
  int nurl = 0;
  for (const char *u = argv[1]; *u && nurl < 16;) {
    size_t len = strcspn(u, ",");
    snprintf(urls[nurl++], sizeof urls[0], "%.*s/v1/push", (int)len, u);
    u += len + (u[len] == ',');
  }
  if (nurl == 0)
    die(argv[1], "no URL");
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n + 1);
  for (int i = 0; i < n; i++) {
    dev *d = &devs[i];
    build_body(d, records);
    kj_buf_init(&d->reply, KJ_BUF_UNLIMITED);
    char auth[200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", d->token);
    d->hdr = curl_slist_append(NULL, auth);
    d->hdr = curl_slist_append(d->hdr, "Accept: application/json");
    d->hdr = curl_slist_append(d->hdr, "Content-Type: application/json");
    d->hdr = curl_slist_append(d->hdr, "Content-Encoding: gzip");
    d->hdr = curl_slist_append(d->hdr, "Expect:");
    CURL *h = d->h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, urls[i % nurl]);
    curl_easy_setopt(h, CURLOPT_CAINFO, argv[2]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, d->hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->body.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body.len);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &d->reply);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 900000L); /* a slow store: minutes */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 120000L);
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(h, CURLOPT_PRIVATE, d);
  }
  double t0 = now_ms();
  for (int i = 0; i < n; i++)
    curl_multi_add_handle(m, devs[i].h);
  int running = n, errors = 0;
  long applied = 0;
  while (running) {
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      dev *d;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
      long status = 0;
      curl_off_t total = 0, app = 0;
      curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(d->h, CURLINFO_TOTAL_TIME_T, &total);
      curl_easy_getinfo(d->h, CURLINFO_APPCONNECT_TIME_T, &app);
      d->total_ms = (double)total / 1e3;
      d->push_ms = (double)(total - app) / 1e3;
      if (msg->data.result != CURLE_OK || status != 200) {
        d->failed = 1;
        fprintf(stderr, "many_devices: %s: %s (HTTP %ld)\n", d->office,
                curl_easy_strerror(msg->data.result), status);
        continue;
      }
      cJSON *j = cJSON_ParseWithLength(d->reply.data, d->reply.len);
      cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "results"), *r;
      cJSON_ArrayForEach(r, res) {
        cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "status");
        if (cJSON_IsString(s) && !strcmp(s->valuestring, "applied"))
          d->applied++;
      }
      cJSON_Delete(j);
      if (d->applied != records) {
        d->failed = 1;
        fprintf(stderr, "many_devices: %s: %d of %d applied\n", d->office, d->applied, records);
      }
      applied += d->applied;
    }
    if (running)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  double wall = now_ms() - t0;
  double *tot = malloc((size_t)n * sizeof *tot), *push = malloc((size_t)n * sizeof *push);
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (devs[i].failed)
      errors++;
    else {
      tot[k] = devs[i].total_ms;
      push[k] = devs[i].push_ms;
      k++;
    }
    curl_multi_remove_handle(m, devs[i].h);
    curl_easy_cleanup(devs[i].h);
    curl_slist_free_all(devs[i].hdr);
    kj_buf_release(&devs[i].body);
    kj_buf_release(&devs[i].reply);
  }
  qsort(tot, (size_t)k, sizeof *tot, cmp);
  qsort(push, (size_t)k, sizeof *push, cmp);
  printf("devices %d applied %ld errors %d p50_ms %.1f p99_ms %.1f max_ms %.1f "
         "push_p50_ms %.1f push_p99_ms %.1f wall_ms %.0f sent_bytes %llu received_bytes %llu\n",
         n, applied, errors, k ? pct(tot, k, 50) : 0, k ? pct(tot, k, 99) : 0, k ? tot[k - 1] : 0,
         k ? pct(push, k, 50) : 0, k ? pct(push, k, 99) : 0, wall, g_sent, g_recv);
  free(tot);
  free(push);
  free(devs);
  curl_multi_cleanup(m);
  curl_global_cleanup();
  return errors ? 1 : 0;
}
