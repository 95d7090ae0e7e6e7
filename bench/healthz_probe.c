/* healthz_probe.c - how fast /healthz answers while something else loads the
 * server (issue: "the loop never blocks").
 *
 *   healthz_probe URL CAFILE STOPFILE
 * Sends GET URL/healthz every 10 ms over one keep-alive TLS connection until
 * STOPFILE exists (at most 10 minutes), then prints
 *   healthz_n N p50_ms X p99_ms Y max_ms Z errors E
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static size_t sink(char *p, size_t s, size_t n, void *ud) {
  (void)p;
  (void)ud;
  return s * n;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: healthz_probe URL CAFILE STOPFILE\n");
    return 2;
  }
  char url[512];
  snprintf(url, sizeof url, "%s/healthz", argv[1]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CAINFO, argv[2]);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
  size_t cap = 60000, n = 0;
  long errors = 0;
  double *lat = malloc(cap * sizeof *lat);
  double start = now_ms();
  while (access(argv[3], F_OK) != 0 && now_ms() - start < 600000 && n < cap) {
    double t0 = now_ms();
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    double dt = now_ms() - t0;
    if (rc != CURLE_OK || status != 200)
      errors++;
    else
      lat[n++] = dt;
    usleep(10000);
  }
  curl_easy_cleanup(h);
  curl_global_cleanup();
  if (n == 0) {
    printf("healthz_n 0 errors %ld\n", errors);
    free(lat);
    return 1;
  }
  qsort(lat, n, sizeof *lat, cmp);
  printf("healthz_n %zu p50_ms %.2f p99_ms %.2f max_ms %.2f errors %ld\n", n, lat[n / 2],
         lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], lat[n - 1], errors);
  free(lat);
  return errors ? 1 : 0;
}
