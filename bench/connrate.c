/* connrate — new-connection rate, one request per connection.
 *
 *   connrate server PORT [PORT...]      answer "GET" with a tiny HTTP/1.0 reply
 *                                        and close (the server closes first, so
 *                                        TIME_WAIT stays on the server side)
 *   connrate client HOST PORT SECONDS CONCURRENCY
 *                                        keep CONCURRENCY connections in flight
 *                                        for SECONDS; print one JSON line:
 *                                        {"cps":..,"ok":..,"fail":..}
 *
 * Written for bench/e2e.py: the Python client in tests/netns tops out near a
 * thousand connections a second, far below what a kernel path or lbd does.
 * One thread, epoll, non-blocking sockets, nothing allocated per connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char REQUEST[] = "GET / HTTP/1.0\r\n\r\n";
static const char REPLY[] = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int serve(int argc, char **argv)
{
	int ep = epoll_create1(0);
	struct epoll_event ev, evs[256];

	if (ep < 0)
		return perror("epoll_create1"), 1;
	for (int i = 0; i < argc; i++) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
					   .sin6_port = htons((uint16_t)atoi(argv[i])),
					   .sin6_addr = IN6ADDR_ANY_INIT };
		int one = 1, zero = 0;
		int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0)
			return perror("socket"), 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0)
			return perror(argv[i]), 1;
		/* Listening sockets are tagged with the high bit so that one
		 * epoll set serves listeners and connections alike. */
		ev.events = EPOLLIN;
		ev.data.u64 = (1ULL << 63) | (uint64_t)fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			int fd = (int)(tag & 0xffffffff);
			char buf[512];

			if (tag >> 63) {
				int c;

				while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					ev.events = EPOLLIN;
					ev.data.u64 = (uint64_t)c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r < 0 && errno == EAGAIN)
				continue;
			if (r > 0 && write(fd, REPLY, sizeof(REPLY) - 1) < 0)
				(void)0;	/* the peer went away: closing is all there is */
			close(fd);
		}
	}
}

struct slot {
	int fd;
	int sent;
};

static int client(const char *host, const char *port, double seconds, int conc)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct epoll_event ev, evs[256];
	struct slot *slots = calloc((size_t)conc, sizeof(*slots));
	long ok = 0, fail = 0;
	int ep = epoll_create1(0), rc;

	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		fprintf(stderr, "connrate: %s: %s\n", host, gai_strerror(rc));
		return 1;
	}
	if (!slots || ep < 0)
		return perror("connrate"), 1;

	double start = now_s(), end = start + seconds;

	/* (Re)open slot i: a non-blocking connect, writable when established. */
#define OPEN(i)                                                                         \
	do {                                                                            \
		slots[i].sent = 0;                                                      \
		slots[i].fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);   \
		if (slots[i].fd < 0 ||                                                  \
		    (connect(slots[i].fd, ai->ai_addr, ai->ai_addrlen) < 0 &&          \
		     errno != EINPROGRESS)) {                                           \
			perror("connrate: connect");                                    \
			return 1;                                                       \
		}                                                                       \
		ev.events = EPOLLOUT | EPOLLIN;                                         \
		ev.data.u32 = (uint32_t)(i);                                            \
		epoll_ctl(ep, EPOLL_CTL_ADD, slots[i].fd, &ev);                        \
	} while (0)

	for (int i = 0; i < conc; i++)
		OPEN(i);
	while (now_s() < end) {
		int n = epoll_wait(ep, evs, 256, 100);

		for (int k = 0; k < n; k++) {
			int i = (int)evs[k].data.u32;
			struct slot *s = &slots[i];
			char buf[512];
			int err = 0;
			socklen_t el = sizeof(err);

			if (evs[k].events & (EPOLLERR | EPOLLHUP) && !s->sent) {
				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				fail++;
				close(s->fd);
				OPEN(i);
				continue;
			}
			if (!s->sent && (evs[k].events & EPOLLOUT)) {
				if (write(s->fd, REQUEST, sizeof(REQUEST) - 1) < 0) {
					fail++;
					close(s->fd);
					OPEN(i);
					continue;
				}
				s->sent = 1;
				ev.events = EPOLLIN;
				ev.data.u32 = (uint32_t)i;
				epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
				continue;
			}
			ssize_t r = read(s->fd, buf, sizeof(buf));

			if (r > 0 || (r < 0 && errno == EAGAIN)) {
				if (r > 0 && memcmp(buf, "HTTP/1.0 200", 12) != 0)
					s->sent = 2;	/* a wrong answer: counted at EOF */
				continue;
			}
			if (r == 0 && s->sent == 1)
				ok++;
			else
				fail++;
			close(s->fd);
			OPEN(i);
		}
	}
	double took = now_s() - start;

	printf("{\"cps\": %.0f, \"ok\": %ld, \"fail\": %ld, \"seconds\": %.2f}\n",
	       (double)ok / took, ok, fail, took);
	freeaddrinfo(ai);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "server") == 0)
		return serve(argc - 2, argv + 2);
	if (argc == 6 && strcmp(argv[1], "client") == 0)
		return client(argv[2], argv[3], atof(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: connrate server PORT...\n"
			"       connrate client HOST PORT SECONDS CONCURRENCY\n");
	return 2;
}
