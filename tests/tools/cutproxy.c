/* cutproxy.c - a TCP proxy for tests that cuts connections at random byte
 * offsets (issue 5; reusable by the robustness soak).
 *
 *   cutproxy --to PORT [--cut PERCENT] [--max BYTES] [--seed N]
 *
 * Listens on 127.0.0.1 (a free port), prints "listening on PORT" on stdout
 * (flushed) and relays every connection to 127.0.0.1:PORT.  A connection is
 * cut with probability PERCENT (default 50): after a uniformly random number
 * of bytes in 0..BYTES (default 20000) have passed, counting both
 * directions, both sockets are closed (RST: SO_LINGER 0), in the middle of a
 * TLS record, an HTTP header or a body alike.  Each connection is served by
 * a child process that dies with the proxy.  SIGTERM stops it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void hard_close(int fd) {
  struct linger l = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

static void relay(int a, int b, long budget) {
  char buf[16384];
  struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  for (;;) {
    if (poll(p, 2, 120000) <= 0)
      break;
    for (int i = 0; i < 2; i++) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n <= 0)
        return;
      size_t take = (size_t)n;
      int cut = 0;
      if (budget >= 0 && (long)take >= budget) {
        take = (size_t)budget;
        cut = 1;
      }
      size_t off = 0;
      while (off < take) {
        ssize_t w = write(p[1 - i].fd, buf + off, take - off);
        if (w <= 0)
          return;
        off += (size_t)w;
      }
      if (budget >= 0)
        budget -= (long)take;
      if (cut) {
        hard_close(a);
        hard_close(b);
        _exit(0);
      }
    }
  }
}

int main(int argc, char **argv) {
  int to = 0, cut = 50;
  long max = 20000;
  unsigned seed = (unsigned)getpid();
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--to") && i + 1 < argc)
      to = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--cut") && i + 1 < argc)
      cut = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--max") && i + 1 < argc)
      max = atol(argv[++i]);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      seed = (unsigned)strtoul(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "usage: cutproxy --to PORT [--cut PERCENT] [--max BYTES] [--seed N]\n");
      return 2;
    }
  }
  if (to <= 0 || to > 65535 || max < 0) {
    fprintf(stderr, "cutproxy: --to PORT is required\n");
    return 2;
  }
  signal(SIGCHLD, SIG_IGN); /* no zombies */
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 64) ||
      getsockname(ls, (struct sockaddr *)&sa, &sl)) {
    perror("cutproxy");
    return 1;
  }
  printf("listening on %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  srand(seed);
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR)
        continue;
      perror("cutproxy: accept");
      return 1;
    }
    long budget = (rand() % 100) < cut
                      ? (long)(((unsigned long)rand() << 15 ^ (unsigned long)rand()) %
                               (unsigned long)(max + 1))
                      : -1;
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(ls);
      int s = socket(AF_INET, SOCK_STREAM, 0);
      struct sockaddr_in ta;
      memset(&ta, 0, sizeof ta);
      ta.sin_family = AF_INET;
      ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ta.sin_port = htons((unsigned short)to);
      if (s < 0 || connect(s, (struct sockaddr *)&ta, sizeof ta)) {
        hard_close(c);
        _exit(0);
      }
      relay(c, s, budget);
      close(c);
      close(s);
      _exit(0);
    }
    close(c);
  }
}
