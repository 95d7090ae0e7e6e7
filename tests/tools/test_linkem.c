/* test_linkem.c - the link emulator measured (tests/tools/linkem.c, issue
 * 21): a transfer takes its bytes / bandwidth plus the delays, loss stalls
 * but never reorders, a drop cuts every connection and the link stays down
 * for --down.  Timing bounds are loose (0.8x-1.5x) because the machine is
 * shared; each test runs linkem as a child and a server on a thread. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* ---- helpers ---- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char pattern(size_t i) {
  return (unsigned char)((i * 131u + (i >> 9)) & 0xff);
}

static int listen_any(int *port) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  assert_true(ls >= 0);
  assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(ls, 16), 0);
  assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
  *port = ntohs(sa.sin_port);
  return ls;
}

static int dial(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons((unsigned short)port);
  assert_true(s >= 0);
  assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof sa), 0);
  struct timeval tv = {10, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return s;
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads exactly n bytes; 0, or -1 on EOF or error. */
static int read_all(int fd, void *p, size_t n) {
  char *c = p;
  while (n) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

/* ---- linkem as a child ---- */

typedef struct linkem {
  pid_t pid;
  int out; /* its stdout */
  int port;
} linkem;

static void linkem_start(linkem *l, int to, const char *const *args) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  char tos[16];
  snprintf(tos, sizeof tos, "%d", to);
  const char *argv[32] = {LINKEM_BIN, "--to", tos};
  int n = 3;
  for (int i = 0; args[i] && n < 31; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    execv(LINKEM_BIN, (char *const *)argv);
    _exit(127);
  }
  close(p[1]);
  l->pid = pid;
  l->out = p[0];
  char line[64];
  size_t k = 0;
  while (k + 1 < sizeof line && read(l->out, line + k, 1) == 1 && line[k] != '\n')
    k++;
  line[k] = 0;
  assert_int_equal(sscanf(line, "listening on %d", &l->port), 1);
}

typedef struct stats {
  unsigned long long c2s, s2c, conns, cuts, lost, unsent_c2s, unsent_s2c;
} stats;

/* SIGUSR1 and the line it prints */
static void linkem_stats(linkem *l, stats *st) {
  kill(l->pid, SIGUSR1);
  char line[256];
  size_t k = 0;
  while (k + 1 < sizeof line && read(l->out, line + k, 1) == 1 && line[k] != '\n')
    k++;
  line[k] = 0;
  assert_int_equal(sscanf(line,
                          "stats c2s %llu s2c %llu conns %llu cuts %llu lost %llu unsent_c2s %llu "
                          "unsent_s2c %llu",
                          &st->c2s, &st->s2c, &st->conns, &st->cuts, &st->lost, &st->unsent_c2s,
                          &st->unsent_s2c),
                   7);
}

static void linkem_stop(linkem *l) {
  kill(l->pid, SIGTERM);
  int status = 0;
  waitpid(l->pid, &status, 0);
  close(l->out);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- the server: one thread serving connections one after the other ---- */

typedef struct server {
  int ls, port;
  size_t req, resp; /* 0, 0: echo until EOF; else read req bytes, answer resp */
  double last_byte; /* when the last request byte arrived */
  int served, bad;  /* connections served; request bytes not as sent */
  pthread_t th;
} server;

static void *serve(void *ud) {
  server *s = ud;
  for (;;) {
    int c = accept(s->ls, NULL, NULL);
    if (c < 0)
      return NULL; /* the listener was shut down */
    if (s->req) {
      char *b = malloc(s->req > s->resp ? s->req : s->resp);
      if (read_all(c, b, s->req) == 0) {
        s->last_byte = now_s();
        for (size_t i = 0; i < s->req; i++)
          if ((unsigned char)b[i] != pattern(i))
            s->bad++;
        for (size_t i = 0; i < s->resp; i++)
          b[i] = (char)pattern(i);
        write_all(c, b, s->resp);
      }
      free(b);
    } else {
      char b[4096];
      ssize_t r;
      while ((r = read(c, b, sizeof b)) > 0)
        if (write_all(c, b, (size_t)r))
          break;
    }
    s->served++;
    close(c);
  }
}

static void server_start(server *s, size_t req, size_t resp) {
  memset(s, 0, sizeof *s);
  s->ls = listen_any(&s->port);
  s->req = req;
  s->resp = resp;
  assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_stop(server *s) {
  shutdown(s->ls, SHUT_RDWR);
  pthread_join(s->th, NULL);
  close(s->ls);
}

/* ---- tests ---- */

/* 16,000 bytes up, 32,000 down at 256 kbit/s (32,000 B/s), 100 ms each
 * way: the TCP handshake (one round trip), the request (0.5 s + 0.1 s),
 * the answer (1.0 s + 0.1 s): 1.9 s from connect to the last byte. */
static void test_bandwidth_and_delay(void **state) {
  (void)state;
  const size_t req = 16000, resp = 32000;
  server s;
  server_start(&s, req, resp);
  linkem l;
  linkem_start(&l, s.port, (const char *const[]){"--rate", "256", "--delay", "100", NULL});
  char *b = malloc(resp);
  for (size_t i = 0; i < req; i++)
    b[i] = (char)pattern(i);
  double t0 = now_s();
  int c = dial(l.port);
  assert_int_equal(write_all(c, b, req), 0);
  assert_int_equal(read_all(c, b, resp), 0);
  double t = now_s() - t0;
  double up = s.last_byte - t0;
  close(c);
  for (size_t i = 0; i < resp; i++)
    assert_int_equal((unsigned char)b[i], pattern(i));
  free(b);
  assert_int_equal(s.bad, 0);
  print_message("request arrived after %.3f s (model 0.800), answer after %.3f s (model 1.900)\n",
                up, t);
  assert_true(up >= 0.8 * 0.8 && up <= 1.5 * 0.8);
  assert_true(t >= 0.8 * 1.9 && t <= 1.5 * 1.9);
  stats st;
  linkem_stats(&l, &st);
  assert_int_equal(st.c2s, req);
  assert_int_equal(st.s2c, resp);
  assert_int_equal(st.conns, 1);
  linkem_stop(&l);
  server_stop(&s);
}

/* Unlimited bandwidth, 150 ms each way: connect plus three one-byte
 * exchanges are four round trips, 1.2 s. */
static void test_round_trips(void **state) {
  (void)state;
  server s;
  server_start(&s, 0, 0);
  linkem l;
  linkem_start(&l, s.port, (const char *const[]){"--delay", "150", NULL});
  double t0 = now_s();
  int c = dial(l.port);
  char x = 'x';
  for (int i = 0; i < 3; i++) {
    assert_int_equal(write_all(c, &x, 1), 0);
    assert_int_equal(read_all(c, &x, 1), 0);
  }
  double t = now_s() - t0;
  close(c);
  print_message("connect and 3 exchanges: %.3f s (model 1.200)\n", t);
  assert_true(t >= 0.8 * 1.2 && t <= 1.5 * 1.2);
  linkem_stop(&l);
  server_stop(&s);
}

/* 300,000 bytes through an echo with 20 % of the segments lost: every
 * byte comes back, in order; the same seed loses the same segments. */
static unsigned long long lossy_echo(const char *seed) {
  const size_t n = 300000;
  server s;
  server_start(&s, 0, 0);
  linkem l;
  linkem_start(
      &l, s.port,
      (const char *const[]){"--delay", "2", "--loss", "20", "--stall", "20", "--seed", seed, NULL});
  int c = dial(l.port);
  unsigned char *b = malloc(n);
  for (size_t i = 0; i < n; i++)
    b[i] = pattern(i);
  size_t sent = 0, got = 0;
  while (got < n) { /* interleave so neither side's buffers fill up */
    if (sent < n) {
      size_t k = n - sent < 8192 ? n - sent : 8192;
      assert_int_equal(write_all(c, b + sent, k), 0);
      sent += k;
    }
    unsigned char r[8192];
    size_t want = sent - got < sizeof r ? sent - got : sizeof r;
    ssize_t k = read(c, r, want);
    assert_true(k > 0);
    for (ssize_t i = 0; i < k; i++)
      assert_int_equal(r[i], pattern(got + (size_t)i));
    got += (size_t)k;
  }
  free(b);
  close(c);
  stats st;
  linkem_stats(&l, &st);
  assert_int_equal(st.c2s, n);
  assert_int_equal(st.s2c, n);
  assert_int_equal(st.cuts, 0);
  linkem_stop(&l);
  server_stop(&s);
  return st.lost;
}

static void test_loss_keeps_order(void **state) {
  (void)state;
  unsigned long long a = lossy_echo("7"), b = lossy_echo("7");
  print_message("lost blocks: %llu and %llu (about 20 %% of 2 x 208)\n", a, b);
  assert_true(a > 20);
  assert_int_equal(a, b);
}

/* --drop-first 600: the open connection is cut at 0.6 s; during --down
 * 500 a new connection is reset; after it the link works again. */
static void test_drop_cuts(void **state) {
  (void)state;
  server s;
  server_start(&s, 0, 0);
  linkem l;
  linkem_start(&l, s.port,
               (const char *const[]){"--delay", "10", "--drop-every", "100000", "--drop-first",
                                     "600", "--down", "500", NULL});
  double t0 = now_s();
  int c = dial(l.port);
  char x = 'x';
  assert_int_equal(write_all(c, &x, 1), 0);
  assert_int_equal(read_all(c, &x, 1), 0);
  ssize_t r = read(c, &x, 1); /* nothing comes: until the drop */
  double t = now_s() - t0;
  int e = errno;
  close(c);
  print_message("cut after %.3f s (drop at 0.600): read %zd, %s\n", t, r, r < 0 ? strerror(e) : "");
  assert_true(r < 0 && e == ECONNRESET);
  assert_true(t >= 0.55 && t <= 1.5);
  c = dial(l.port); /* the link is down */
  r = read(c, &x, 1);
  assert_true(r <= 0);
  close(c);
  usleep(600 * 1000);
  c = dial(l.port); /* back up */
  assert_int_equal(write_all(c, "y", 1), 0);
  assert_int_equal(read_all(c, &x, 1), 0);
  assert_int_equal(x, 'y');
  close(c);
  stats st;
  linkem_stats(&l, &st);
  assert_int_equal(st.cuts, 1);
  assert_int_equal(st.conns, 3);
  linkem_stop(&l);
  server_stop(&s);
}

/* 16,000 bytes at 64 kbit/s (8,000 B/s) need 2 s; a drop at 0.7 s throws
 * away what had not gone yet (about 10,500 bytes), and the link is free at
 * once: a new connection's byte goes and comes back in a few ms, not after
 * the 1.3 s the thrown-away bytes would have taken. */
static void test_drop_frees_the_link(void **state) {
  (void)state;
  server s;
  server_start(&s, 0, 0);
  linkem l;
  linkem_start(&l, s.port,
               (const char *const[]){"--rate", "64", "--delay", "10", "--drop-every", "100000",
                                     "--drop-first", "700", NULL});
  char *b = calloc(1, 16000);
  int c = dial(l.port);
  assert_int_equal(write_all(c, b, 16000), 0);
  free(b);
  char x = 'x';
  while (read(c, &x, 1) > 0) /* the echo, until the drop */
    ;
  close(c);
  double t0 = now_s();
  c = dial(l.port);
  assert_int_equal(write_all(c, "z", 1), 0);
  assert_int_equal(read_all(c, &x, 1), 0);
  double t = now_s() - t0;
  close(c);
  stats st;
  linkem_stats(&l, &st);
  print_message("after the drop: an exchange in %.3f s; unsent %llu bytes (model about 10,560)\n",
                t, st.unsent_c2s);
  assert_int_equal(x, 'z');
  assert_true(t < 0.5);
  assert_true(st.unsent_c2s >= 8000 && st.unsent_c2s <= 13000);
  assert_int_equal(st.cuts, 1);
  linkem_stop(&l);
  server_stop(&s);
}

/* The profiles are the links. */
static void test_profiles(void **state) {
  (void)state;
  server s;
  server_start(&s, 8000, 1);
  linkem l;
  /* 3G: 8,000 bytes at 48,000 B/s = 0.167 s, + 3 x 150 ms */
  linkem_start(&l, s.port, (const char *const[]){"--profile", "3g", NULL});
  char *b = malloc(8000);
  for (size_t i = 0; i < 8000; i++)
    b[i] = (char)pattern(i);
  double t0 = now_s();
  int c = dial(l.port);
  assert_int_equal(write_all(c, b, 8000), 0);
  assert_int_equal(read_all(c, b, 1), 0);
  double t = now_s() - t0;
  close(c);
  free(b);
  double model = 0.167 + 0.150 * 4;
  print_message("3g: %.3f s (model %.3f)\n", t, model);
  assert_true(t >= 0.8 * model && t <= 1.5 * model);
  linkem_stop(&l);
  server_stop(&s);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bandwidth_and_delay), cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_loss_keeps_order),    cmocka_unit_test(test_drop_cuts),
      cmocka_unit_test(test_drop_frees_the_link), cmocka_unit_test(test_profiles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
