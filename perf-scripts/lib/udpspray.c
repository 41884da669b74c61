// udpspray: UDP load spread over many (source, destination) address pairs, for the N-tunnel cells of
// perf-scripts/netns-matrix.sh (one eroute and one SA pair per address pair). One socket per source
// address (bound to it); each round sends one datagram from every source to every destination with
// sendmmsg (one call per source, NDST messages), so consecutive packets belong to different
// tunnels. Runs for SECONDS (bounded), prints "sent N" on stdout. Documentation addresses only: the
// caller passes them; this program is run inside the sunset network namespace.
// Usage: udpspray SRC_FIRST NSRC DST_FIRST NDST PAYLOAD SECONDS PORT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXDST 256
#define MAXSRC 256

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s SRC_FIRST NSRC DST_FIRST NDST PAYLOAD SECONDS PORT\n", argv[0]);
    return 2;
  }
  struct in_addr src0, dst0;
  if (!inet_aton(argv[1], &src0) || !inet_aton(argv[3], &dst0)) { fprintf(stderr, "bad address\n"); return 2; }
  int nsrc = atoi(argv[2]), ndst = atoi(argv[4]), payload = atoi(argv[5]), port = atoi(argv[7]);
  double seconds = atof(argv[6]);
  if (nsrc < 1 || nsrc > MAXSRC || ndst < 1 || ndst > MAXDST || payload < 1 || payload > 1472 || seconds <= 0 || seconds > 120) {
    fprintf(stderr, "out of range (1..%d sources, 1..%d destinations, payload 1..1472, 0 < seconds <= 120)\n", MAXSRC, MAXDST);
    return 2;
  }
  int fds[MAXSRC];
  for (int s = 0; s < nsrc; s++) {
    fds[s] = socket(AF_INET, SOCK_DGRAM, 0);
    if (fds[s] < 0) { perror("socket"); return 1; }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port + 1), .sin_addr.s_addr = htonl(ntohl(src0.s_addr) + s)};
    if (bind(fds[s], (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
    int big = 4 << 20;
    setsockopt(fds[s], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  }
  static char buf[1472];
  memset(buf, 0x5a, sizeof buf);
  static struct sockaddr_in dsts[MAXDST];
  static struct iovec iov[MAXDST];
  static struct mmsghdr msgs[MAXDST];
  for (int d = 0; d < ndst; d++) {
    dsts[d] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ntohl(dst0.s_addr) + d)};
    iov[d] = (struct iovec){.iov_base = buf, .iov_len = payload};
    msgs[d].msg_hdr = (struct msghdr){.msg_name = &dsts[d], .msg_namelen = sizeof dsts[d], .msg_iov = &iov[d], .msg_iovlen = 1};
  }
  long long sent = 0;
  double end = now() + seconds;
  while (now() < end) {
    for (int s = 0; s < nsrc; s++) {
      int r = sendmmsg(fds[s], msgs, ndst, MSG_DONTWAIT);
      if (r > 0) sent += r;
    }
  }
  printf("sent %lld\n", sent);
  return 0;
}
