/* linkem.c - a link emulator for tests and the bench (issue 21): a TCP
 * proxy that gives every connection it relays the speed of a slow link.
 *
 *   linkem --to PORT [--port PORT] [--profile 3g|edge|vsat] [--rate KBIT] [--delay MS]
 *          [--loss PERCENT] [--stall MS] [--drop-every MS] [--drop-first MS]
 *          [--down MS] [--burst BYTES] [--seed N]
 *
 * Listens on 127.0.0.1 (--port, default a free one), prints "listening on PORT" on stdout
 * (flushed) and relays every connection to 127.0.0.1:PORT through a model
 * of one link, the same in both directions:
 *
 * - Bandwidth (--rate, kbit/s, 1 kbit = 1000 bits; 0 = unlimited): a token
 *   bucket per direction, shared by every connection on the link (one
 *   link, like a modem), filling at the rate up to --burst bytes (default
 *   0: a serial line, every byte waits for its own time).  It applies to
 *   the bytes on the wire as TCP carries them: TLS records, handshake
 *   included; the 40 bytes of TCP/IP headers per packet are not counted.
 *   Bytes go through in segments of at most 1448 bytes (one packet), in
 *   the order they were read, connection after connection.
 * - Delay (--delay, ms each way): a delay line per connection and
 *   direction; a segment is delivered --delay ms after the bucket let it
 *   go, never before the segment ahead of it (bytes are never reordered).
 *   A new connection pays the TCP handshake: its first bytes leave 2 x
 *   --delay after the accept (SYN, SYN-ACK), as on the real link.
 *   --delay-down MS gives the server-to-client direction a delay of its
 *   own (an asymmetric path: answers that take longer to come back than
 *   requests to go).
 * - Loss (--loss, percent of packets): each block of 1448 bytes of a
 *   stream is lost or not by a hash of the seed, the connection's number
 *   and the block's position, so the same traffic loses the same bytes in
 *   every run.  A segment holding the start of a lost block is sent twice
 *   (its bytes are charged to the bucket twice) and arrives --stall ms late
 *   (default 2 x --delay + 200: a retransmission after a timeout);
 *   everything behind it on that connection waits for it, as TCP's
 *   in-order delivery does.  Loss stalls, it never cuts.
 * - Drops (--drop-every MS): every open connection is cut (RST on both
 *   sides, whatever is still in the delay line is lost) at --drop-first
 *   ms after the start (default: a time drawn from the seed in
 *   (0, --drop-every]) and every --drop-every ms after that; for --down ms
 *   after a drop (default 0) a new connection is accepted and reset at
 *   once (the link is down).  What was still waiting for the bucket is
 *   thrown away and does not hold the link after the drop.
 *
 * Profiles (issue 21; options given after --profile override it):
 *   3g    384 kbit/s, 150 ms each way
 *   edge  64 kbit/s, 300 ms each way, a drop every 60 s
 *   vsat  1 Mbit/s, 350 ms each way
 *
 * SIGUSR1 prints one line of counters on stdout (flushed), SIGTERM and
 * SIGINT print it and exit 0:
 *   stats c2s BYTES s2c BYTES conns N cuts N lost N unsent_c2s BYTES unsent_s2c BYTES
 * c2s/s2c count the bytes read from the client/server side (what each side
 * handed to the link), conns the connections accepted, cuts those a drop
 * reset, lost the lost blocks, unsent_* the bytes a drop threw away before
 * they went on the wire (still waiting for the bucket): c2s - unsent_c2s
 * is what the client put on the wire.
 *
 * One process, one poll() loop; the times of the model are computed when a
 * segment is read (its departure from the bucket, its arrival), so the
 * loop only sleeps until the next arrival or drop.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSS 1448                 /* payload of one packet (Ethernet MTU, TCP timestamps) */
#define QMAX ((size_t)256 << 10) /* per connection and direction: stop reading beyond this */

typedef struct seg {
  struct seg *next;
  int64_t left; /* us: when it left the bucket (was on the wire) */
  int64_t due;  /* us: when it has arrived at the far end */
  size_t len, off;
  char data[];
} seg;

typedef struct dir {
  seg *head, *tail;
  size_t queued;
  int64_t last_due;   /* due of the newest segment: nothing arrives before it */
  int64_t not_before; /* no departure before (the TCP handshake) */
  uint64_t off;       /* bytes read so far: the position in the stream */
  int eof;            /* the source sent FIN */
  int64_t eof_due;    /* when the FIN arrives at the far end */
  int shut;           /* FIN passed on */
  int blocked;        /* the destination's buffer is full: wait for POLLOUT */
} dir;

typedef struct conn {
  uint64_t id; /* accept order, from 1 */
  int fd[2];   /* 0 the client side, 1 the server side; dir d reads fd[d], writes fd[1-d] */
  dir d[2];
} conn;

typedef struct bucket {
  double tokens; /* bytes */
  int64_t t;     /* us: tokens is as of t; nothing leaves before t */
} bucket;

static struct {
  double rate;        /* bytes per us; 0 unlimited */
  int64_t delay;      /* us each way */
  int64_t delay_down; /* us server to client (--delay-down); < 0: delay */
  double loss;        /* probability per segment */
  int64_t stall;      /* us a lost segment is late */
  double burst;       /* bucket depth, bytes */
  int64_t every;      /* us between drops; 0 none */
  int64_t first;      /* us from the start to the first drop; < 0 drawn */
  int64_t down;       /* us the link stays down after a drop */
  uint64_t seed;
} cfg = {0, 0, -1, 0, -1, 0, 0, -1, 0, 0};

/* The delay of direction d (0 client to server, 1 server to client). */
static int64_t delay_of(int d) {
  return d == 1 && cfg.delay_down >= 0 ? cfg.delay_down : cfg.delay;
}

static bucket link_bucket[2];
static conn **conns;
static size_t nconns, capconns;
static uint64_t rng_state;
static uint64_t n_bytes[2], n_unsent[2], n_conns, n_cuts, n_lost;
static volatile sig_atomic_t want_stats, want_exit;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* splitmix64's finaliser: small, seedable, good enough for a link */
static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rnd(void) {
  return mix(rng_state += 0x9e3779b97f4a7c15ull);
}

/* Is block k (bytes k*MSS...) of direction d of connection number id lost?
 * A function of the seed and the position in the stream, so the same
 * traffic loses the same bytes however the reads happened to be cut. */
static int block_lost(uint64_t id, int d, uint64_t k) {
  uint64_t h = mix(cfg.seed ^ mix(id * 2 + (uint64_t)d) ^ mix(k + 0x5bd1e995ull));
  return (double)(h >> 11) / 9007199254740992.0 < cfg.loss;
}

static void on_signal(int sig) {
  if (sig == SIGUSR1)
    want_stats = 1;
  else
    want_exit = 1;
}

static void print_stats(void) {
  printf("stats c2s %llu s2c %llu conns %llu cuts %llu lost %llu unsent_c2s %llu unsent_s2c %llu\n",
         (unsigned long long)n_bytes[0], (unsigned long long)n_bytes[1],
         (unsigned long long)n_conns, (unsigned long long)n_cuts, (unsigned long long)n_lost,
         (unsigned long long)n_unsent[0], (unsigned long long)n_unsent[1]);
  fflush(stdout);
}

static void hard_close(int fd) {
  if (fd < 0)
    return;
  struct linger l = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

static void nonblock(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* When a segment of len bytes read at `at` leaves the bucket of direction
 * d; charges the bucket. */
static int64_t depart(int d, size_t len, int64_t at) {
  bucket *b = &link_bucket[d];
  if (cfg.rate <= 0)
    return at;
  int64_t t0 = at > b->t ? at : b->t;
  double tok = b->tokens + (double)(t0 - b->t) * cfg.rate;
  if (tok > cfg.burst)
    tok = cfg.burst;
  int64_t t = t0;
  if (tok >= (double)len) {
    tok -= (double)len;
  } else {
    t = t0 + (int64_t)(((double)len - tok) / cfg.rate + 0.5);
    tok = 0;
  }
  b->tokens = tok;
  b->t = t;
  return t;
}

/* Queue n bytes read from side d of c at `at`, cut in segments. */
static int enqueue(conn *c, int d, const char *p, size_t n, int64_t at) {
  dir *q = &c->d[d];
  while (n > 0) {
    size_t len = n < MSS ? n : MSS;
    seg *s = malloc(sizeof *s + len);
    if (!s)
      return -1;
    memcpy(s->data, p, len);
    s->len = len;
    s->off = 0;
    s->next = NULL;
    int64_t t = depart(d, len, at > q->not_before ? at : q->not_before);
    int64_t due = t + delay_of(d);
    s->left = t;
    int lost = 0;
    if (cfg.loss > 0) /* the blocks that start in this segment */
      for (uint64_t k = (q->off + MSS - 1) / MSS; k * MSS < q->off + len; k++)
        if (block_lost(c->id, d, k)) {
          n_lost++;
          lost = 1;
        }
    if (lost) {
      depart(d, len, t); /* the retransmission takes the link again */
      due += cfg.stall;
    }
    if (due < q->last_due)
      due = q->last_due; /* in order: never before the segment ahead */
    s->due = q->last_due = due;
    if (q->tail)
      q->tail->next = s;
    else
      q->head = s;
    q->tail = s;
    q->queued += len;
    q->off += len;
    p += len;
    n -= len;
  }
  return 0;
}

static void conn_free(conn *c, int reset) {
  for (int d = 0; d < 2; d++) {
    seg *s = c->d[d].head;
    while (s) {
      seg *nx = s->next;
      free(s);
      s = nx;
    }
    if (reset)
      hard_close(c->fd[d]);
    else if (c->fd[d] >= 0)
      close(c->fd[d]);
  }
  free(c);
}

/* Read what side d has; 0 on success or EOF, -1 when the connection must
 * be reset (an error, or out of memory). */
static int pull_in(conn *c, int d, int64_t now) {
  char buf[65536];
  dir *q = &c->d[d];
  for (;;) {
    if (q->eof || q->queued >= QMAX)
      return 0;
    ssize_t r = read(c->fd[d], buf, sizeof buf);
    if (r > 0) {
      n_bytes[d] += (uint64_t)r;
      if (enqueue(c, d, buf, (size_t)r, now))
        return -1;
      continue;
    }
    if (r == 0) {
      q->eof = 1;
      int64_t t = now + delay_of(d);
      q->eof_due = t > q->last_due ? t : q->last_due;
      return 0;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    return -1;
  }
}

/* Deliver the segments of direction d that have arrived; -1 on a write
 * error (the far end is gone). */
static int push_out(conn *c, int d, int64_t now) {
  dir *q = &c->d[d];
  int to = c->fd[1 - d];
  while (q->head && q->head->due <= now) {
    seg *s = q->head;
    ssize_t w = write(to, s->data + s->off, s->len - s->off);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        q->blocked = 1;
        return 0;
      }
      return -1;
    }
    s->off += (size_t)w;
    if (s->off < s->len) {
      q->blocked = 1;
      return 0;
    }
    q->queued -= s->len;
    q->head = s->next;
    if (!q->head)
      q->tail = NULL;
    free(s);
  }
  q->blocked = 0;
  if (q->eof && !q->head && !q->shut && q->eof_due <= now) {
    shutdown(to, SHUT_WR);
    q->shut = 1;
  }
  return 0;
}

/* A drop: every connection is reset.  Bytes still waiting for the
 * bucket never went on the wire: counted as unsent, and the link is free
 * at once for whatever comes after (the bucket forgets them). */
static void cut_all(int64_t now) {
  for (size_t i = 0; i < nconns; i++)
    for (int d = 0; d < 2; d++)
      for (const seg *s = conns[i]->d[d].head; s; s = s->next)
        if (s->left > now)
          n_unsent[d] += s->len;
  for (int d = 0; d < 2; d++)
    if (link_bucket[d].t > now) {
      link_bucket[d].t = now;
      link_bucket[d].tokens = 0;
    }
  n_cuts += nconns;
  while (nconns) {
    conn_free(conns[nconns - 1], 1);
    nconns--;
  }
}

static void conn_drop(size_t i, int reset) {
  conn_free(conns[i], reset);
  conns[i] = conns[--nconns];
}

static void accept_one(int ls, int to_port, int64_t now, int64_t down_until) {
  int a = accept(ls, NULL, NULL);
  if (a < 0)
    return;
  n_conns++;
  if (now < down_until) { /* the link is down */
    hard_close(a);
    return;
  }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in ta;
  memset(&ta, 0, sizeof ta);
  ta.sin_family = AF_INET;
  ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ta.sin_port = htons((unsigned short)to_port);
  conn *c = calloc(1, sizeof *c);
  if (s < 0 || !c || connect(s, (struct sockaddr *)&ta, sizeof ta)) {
    free(c);
    hard_close(a);
    if (s >= 0)
      close(s);
    return;
  }
  if (nconns == capconns) {
    size_t nc = capconns ? capconns * 2 : 16;
    conn **nv = realloc(conns, nc * sizeof(conn *));
    if (!nv) {
      free(c);
      hard_close(a);
      hard_close(s);
      return;
    }
    conns = nv;
    capconns = nc;
  }
  nonblock(a);
  nonblock(s);
  c->id = n_conns;
  c->fd[0] = a;
  c->fd[1] = s;
  /* SYN and SYN-ACK: the client's first bytes leave one round trip later */
  c->d[0].not_before = now + delay_of(0) + delay_of(1);
  conns[nconns++] = c;
}

static double parse_dbl(const char *v, const char *opt) {
  char *end;
  double x = strtod(v, &end);
  if (end == v || *end || !(x >= 0) || x > 1e12) {
    fprintf(stderr, "linkem: bad %s '%s': expected a number >= 0\n", opt, v);
    exit(2);
  }
  return x;
}

static int64_t parse_num(const char *v, const char *opt) {
  return (int64_t)parse_dbl(v, opt);
}

static void profile(const char *p) {
  if (!strcmp(p, "3g")) {
    cfg.rate = 384;
    cfg.delay = 150;
    cfg.every = 0;
  } else if (!strcmp(p, "edge")) {
    cfg.rate = 64;
    cfg.delay = 300;
    cfg.every = 60000;
  } else if (!strcmp(p, "vsat")) {
    cfg.rate = 1000;
    cfg.delay = 350;
    cfg.every = 0;
  } else {
    fprintf(stderr, "linkem: unknown profile '%s' (3g, edge, vsat)\n", p);
    exit(2);
  }
}

static void usage(void) {
  fprintf(stderr, "usage: linkem --to PORT [--port PORT] [--profile 3g|edge|vsat] [--rate KBIT]\n"
                  "              [--delay MS] [--loss PERCENT] [--stall MS] [--drop-every MS] "
                  "[--drop-first MS]\n"
                  "              [--down MS] [--burst BYTES] [--seed N]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int to = 0, port = 0;
  double loss_pct = 0;
  cfg.seed = (uint64_t)getpid();
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (i + 1 >= argc)
      usage();
    const char *v = argv[++i];
    if (!strcmp(o, "--to"))
      to = (int)parse_num(v, o);
    else if (!strcmp(o, "--port"))
      port = (int)parse_num(v, o);
    else if (!strcmp(o, "--profile"))
      profile(v);
    else if (!strcmp(o, "--rate"))
      cfg.rate = parse_dbl(v, o);
    else if (!strcmp(o, "--delay"))
      cfg.delay = parse_num(v, o);
    else if (!strcmp(o, "--delay-down"))
      cfg.delay_down = parse_num(v, o);
    else if (!strcmp(o, "--loss"))
      loss_pct = parse_dbl(v, o);
    else if (!strcmp(o, "--stall"))
      cfg.stall = parse_num(v, o);
    else if (!strcmp(o, "--drop-every"))
      cfg.every = parse_num(v, o);
    else if (!strcmp(o, "--drop-first"))
      cfg.first = parse_num(v, o);
    else if (!strcmp(o, "--down"))
      cfg.down = parse_num(v, o);
    else if (!strcmp(o, "--burst"))
      cfg.burst = (double)parse_num(v, o);
    else if (!strcmp(o, "--seed"))
      cfg.seed = (uint64_t)parse_num(v, o);
    else
      usage();
  }
  if (to <= 0 || to > 65535 || port > 65535) {
    fprintf(stderr, "linkem: --to PORT is required (1-65535)\n");
    return 2;
  }
  if (loss_pct > 100) {
    fprintf(stderr, "linkem: --loss is a percentage (0-100)\n");
    return 2;
  }
  /* options in user units (kbit/s, ms) -> bytes per us, us */
  cfg.rate = cfg.rate * 1000.0 / 8.0 / 1e6;
  if (cfg.stall < 0)
    cfg.stall = 2 * cfg.delay + 200;
  cfg.delay *= 1000;
  if (cfg.delay_down >= 0)
    cfg.delay_down *= 1000;
  cfg.stall *= 1000;
  cfg.every *= 1000;
  cfg.down *= 1000;
  if (cfg.first >= 0)
    cfg.first *= 1000;
  cfg.loss = loss_pct / 100.0;
  if (cfg.burst < MSS && cfg.burst > 0)
    cfg.burst = MSS; /* a bucket smaller than a packet never lets one go whole */
  rng_state = cfg.seed;

  signal(SIGPIPE, SIG_IGN);
  sigset_t block, waitmask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &waitmask);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in la;
  memset(&la, 0, sizeof la);
  la.sin_family = AF_INET;
  la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  la.sin_port = htons((unsigned short)port);
  socklen_t sl = sizeof la;
  if (ls < 0 || bind(ls, (struct sockaddr *)&la, sizeof la) || listen(ls, 64) ||
      getsockname(ls, (struct sockaddr *)&la, &sl)) {
    perror("linkem");
    return 1;
  }
  nonblock(ls);
  printf("listening on %d\n", ntohs(la.sin_port));
  fflush(stdout);

  int64_t start = now_us();
  link_bucket[0].t = link_bucket[1].t = start;
  link_bucket[0].tokens = link_bucket[1].tokens = cfg.burst;
  int64_t drop_at = INT64_MAX, down_until = 0;
  if (cfg.every > 0) {
    int64_t first = cfg.first >= 0 ? cfg.first : 1 + (int64_t)(rnd() % (uint64_t)cfg.every);
    drop_at = start + first;
  }
  struct pollfd *pf = NULL;
  size_t cappf = 0;
  for (;;) {
    if (want_stats) {
      want_stats = 0;
      print_stats();
    }
    if (want_exit) {
      print_stats();
      while (nconns)
        conn_drop(nconns - 1, 1);
      free(conns);
      free(pf);
      close(ls);
      return 0;
    }
    int64_t now = now_us();
    if (now >= drop_at) {
      cut_all(now);
      down_until = now + cfg.down;
      drop_at += cfg.every;
    }
    /* deliver what has arrived; close what is finished */
    for (size_t i = 0; i < nconns;) {
      conn *c = conns[i];
      int bad = push_out(c, 0, now) || push_out(c, 1, now);
      if (bad) {
        conn_drop(i, 1);
        continue;
      }
      if (c->d[0].shut && c->d[1].shut) {
        conn_drop(i, 0);
        continue;
      }
      i++;
    }
    /* what to wait for */
    if (cappf < 1 + 2 * nconns) {
      cappf = 2 * (1 + 2 * nconns);
      struct pollfd *np = realloc(pf, cappf * sizeof *np);
      if (!np) {
        fprintf(stderr, "linkem: out of memory\n");
        return 1;
      }
      pf = np;
    }
    size_t np = 0;
    pf[np++] = (struct pollfd){ls, POLLIN, 0};
    int64_t wake = drop_at;
    for (size_t i = 0; i < nconns; i++) {
      conn *c = conns[i];
      for (int d = 0; d < 2; d++) {
        dir *q = &c->d[d];
        short ev = 0;
        if (!q->eof && q->queued < QMAX)
          ev |= POLLIN;        /* read side d */
        dir *o = &c->d[1 - d]; /* writes into fd[d] */
        if (o->blocked)
          ev |= POLLOUT;
        else if (o->head && o->head->due < wake)
          wake = o->head->due;
        else if (!o->head && o->eof && !o->shut && o->eof_due < wake)
          wake = o->eof_due;
        pf[np++] = (struct pollfd){ev ? c->fd[d] : -1, ev, 0};
      }
    }
    struct timespec ts, *tsp = NULL;
    if (wake != INT64_MAX) {
      int64_t w = wake - now_us();
      if (w < 0)
        w = 0;
      ts.tv_sec = (time_t)(w / 1000000);
      ts.tv_nsec = (long)(w % 1000000) * 1000;
      tsp = &ts;
    }
    int r = ppoll(pf, np, tsp, &waitmask);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      perror("linkem: poll");
      free(pf);
      return 1;
    }
    now = now_us();
    /* read before accepting: conns[] and pf[] stay in step until then */
    size_t n = nconns;
    for (size_t i = n; i-- > 0;) {
      conn *c = conns[i];
      int bad = 0;
      for (int d = 0; d < 2 && !bad; d++) {
        short re = pf[1 + 2 * i + (size_t)d].revents;
        if (re & (POLLIN | POLLHUP | POLLERR))
          bad = pull_in(c, d, now) != 0;
        if (!bad && (re & POLLOUT))
          c->d[1 - d].blocked = 0;
        if (!bad && (re & (POLLERR | POLLHUP)) && (pf[1 + 2 * i + (size_t)d].events & POLLOUT) &&
            !(re & POLLIN))
          bad = 1; /* the far end is gone while we have bytes for it */
      }
      if (bad)
        conn_drop(i, 1);
    }
    if (pf[0].revents & POLLIN)
      accept_one(ls, to, now, down_until);
  }
}
