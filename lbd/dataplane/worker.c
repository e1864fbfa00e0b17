#include <sys/eventfd.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/spsc.h"
#include "lbd/dataplane/worker.h"
#include "lbd/privs.h"

#define EXPIRE_EVERY_MS	10
#define EXPIRE_BUDGET	4096
#define IDLE_POLL_MS	100
/* Flows whose kernel counters are read each EXPIRE_EVERY_MS: a busy
 * connection's traffic reaches the statistics within a few seconds for
 * tens of thousands of flows; expiry asks the kernel itself. */
#define FLOW_POLL_BUDGET	256

struct call {
	worker_fn	 fn;
	void		*arg;
	bool		 done;
	uint64_t	 ns;		/* how long it held the worker */
	struct call	*next;
};

/* A frame on its way to the worker that owns its connection. */
struct handoff {
	uint16_t	eng_if;		/* where it arrived */
	uint16_t	pad;
	uint32_t	len;
	uint8_t		data[XSK_FRAME_SIZE];
};

/* Rings between every ordered pair of workers: with many workers the
 * memory is bounded (each slot holds a whole frame). */
#define HANDOFF_SLOTS_MAX	1024
#define HANDOFF_SLOTS_MIN	64
#define HANDOFF_BUDGET		(64u << 20)

struct worker {
	struct dp_engine	*e;
	uint32_t		 id, n;		/* worker id of n (worker_link) */
	struct worker		**peers;
	struct spsc		*out[WORKER_MAX];	/* to peer j (NULL: self) */
	struct spsc		*in[WORKER_MAX];	/* from peer j */
	uint32_t		 out_pending[WORKER_MAX];	/* not committed */
	atomic_bool		 sleeping;	/* in poll(): wake to hand off */
	struct worker_stats	 st;
	struct xsk_port		*ports[WORKER_MAX_PORTS];
	uint32_t		 n_ports;
	int			 efd;		/* wakes poll() */
	pthread_t		 thr;
	bool			 running;
	atomic_bool		 stop;
	atomic_bool		 pending;	/* calls queued */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct call		*calls, **calls_tail;
	worker_resolve_fn	 resolve;
	void			*resolve_arg;
	worker_events_fn	 events;
	void			*events_arg;
	uint64_t		 events_lost;	/* the engine's, reported */
	struct fp_flows		*flows;		/* the kernel fast path, or NULL */
};

/* The engine's clock: the low 32 bits, compared wrap-safe. */
static uint32_t
now_ms(void)
{
	return (uint32_t)mono_ms();
}

struct worker *
worker_new(struct dp_engine *e, worker_resolve_fn resolve, void *arg)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->e = e;
	w->resolve = resolve;
	w->resolve_arg = arg;
	w->calls_tail = &w->calls;
	w->n = 1;
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	return w;
}

void
worker_set_events(struct worker *w, worker_events_fn fn, void *arg)
{
	w->events = fn;
	w->events_arg = arg;
}

void
worker_set_flows(struct worker *w, struct fp_flows *f)
{
	w->flows = f;
	dp_set_flow_probe(w->e, fp_flows_probe, f);
}

int
worker_add_port(struct worker *w, struct xsk_port *p)
{
	if (w->running || w->n_ports == WORKER_MAX_PORTS)
		return -1;
	w->ports[w->n_ports++] = p;
	return 0;
}

static void
run_calls(struct worker *w)
{
	struct call *c;
	uint64_t t0;

	pthread_mutex_lock(&w->mu);
	atomic_store_explicit(&w->pending, false, memory_order_relaxed);
	while ((c = w->calls) != NULL) {
		w->calls = c->next;
		if (w->calls == NULL)
			w->calls_tail = &w->calls;
		pthread_mutex_unlock(&w->mu);
		t0 = mono_ns();
		c->fn(w->e, c->arg);
		c->ns = mono_ns() - t0;
		pthread_mutex_lock(&w->mu);
		c->done = true;
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Where a frame for engine interface `eng_if` leaves: this worker's
 * transmit-only port on it if it has one, else its port on `queue`, else
 * any of its ports there. */
static struct xsk_port *
port_for(struct worker *w, uint16_t eng_if, uint32_t queue)
{
	struct xsk_port *same = NULL, *any = NULL;

	for (uint32_t i = 0; i < w->n_ports; i++)
		if (w->ports[i]->eng_if == eng_if) {
			if (w->ports[i]->tx_only)
				return w->ports[i];
			if (w->ports[i]->queue == queue && same == NULL)
				same = w->ports[i];
			if (any == NULL)
				any = w->ports[i];
		}
	return same != NULL ? same : any;
}

/* Copy a frame into the ring to its owner; committed after the batch. */
static void
hand_off(struct worker *w, uint32_t to, uint16_t eng_if, const struct xsk_rx *rx)
{
	struct handoff *h = spsc_prod_slot(w->out[to], w->out_pending[to]);

	if (h == NULL || rx->len > sizeof(h->data)) {
		w->st.handoff_full++;
		return;
	}
	h->eng_if = eng_if;
	h->len = rx->len;
	memcpy(h->data, rx->data, rx->len);
	w->out_pending[to]++;
	w->st.handed_out++;
}

static void
wake(struct worker *w)
{
	uint64_t one = 1;

	(void)!write(w->efd, &one, sizeof(one));
}

/* Publish what this turn handed off, and wake an owner that sleeps. */
static void
commit_handoffs(struct worker *w)
{
	bool any = false;

	for (uint32_t j = 0; j < w->n; j++)
		if (w->out_pending[j] > 0) {
			spsc_prod_commit(w->out[j], w->out_pending[j]);
			w->out_pending[j] = 0;
			any = true;
		}
	if (!any)
		return;
	/* Pairs with the fence in worker_main before it sleeps: either it
	 * sees the frames, or this sees it sleeping. */
	atomic_thread_fence(memory_order_seq_cst);
	for (uint32_t j = 0; j < w->n; j++)
		if (j != w->id && atomic_load_explicit(&w->peers[j]->sleeping,
		    memory_order_relaxed))
			wake(w->peers[j]);
}

/* Keep the frames this worker owns (in order), hand off the others. */
static uint32_t
steer(struct worker *w, struct xsk_port *p, struct xsk_rx *rx, uint32_t n)
{
	uint32_t m = 0;

	for (uint32_t i = 0; i < n; i++) {
		int32_t o = dp_steer(w->e, rx[i].data, rx[i].len);

		if (o < 0 || (uint32_t)o == w->id) {
			rx[m++] = rx[i];
			continue;
		}
		hand_off(w, (uint32_t)o, p->eng_if, &rx[i]);
		xsk_port_recycle(p, &rx[i]);
	}
	return m;
}

/* One batch from one port: returns how many frames it moved. */
static uint32_t
do_batch(struct worker *w, struct xsk_port *p, uint32_t now)
{
	struct xsk_rx rx[DP_BATCH_MAX];
	struct dp_frame fr[DP_BATCH_MAX];
	struct dp_verdict v[DP_BATCH_MAX];
	uint32_t got = xsk_port_rx(p, rx, DP_BATCH_MAX), n = got;

	if (got == 0)
		return 0;
	if (w->n > 1 && (n = steer(w, p, rx, got)) == 0)
		return got;
	for (uint32_t i = 0; i < n; i++) {
		fr[i].data = rx[i].data;
		fr[i].len = rx[i].len;
		fr[i].cap = rx[i].cap;
	}
	dp_process_batch(w->e, fr, n, p->eng_if, now, v);
	for (uint32_t i = 0; i < n; i++) {
		struct xsk_port *out;

		if (v[i].action != DP_TX) {
			/* DP_PASS here means the classifier and the engine
			 * disagree; the engine counted it. */
			xsk_port_recycle(p, &rx[i]);
			continue;
		}
		out = port_for(w, v[i].ifidx, p->queue);
		if (out == p)
			xsk_port_tx_same(p, &rx[i], v[i].len);
		else {
			if (out != NULL)
				(void)xsk_port_tx_copy(out, rx[i].data, v[i].len);
			xsk_port_recycle(p, &rx[i]);
		}
	}
	return got;
}

/* Process a run of handed-off frames that arrived on one interface. */
static void
do_handed_run(struct worker *w, struct handoff **h, uint32_t n, uint32_t now)
{
	struct dp_frame fr[DP_BATCH_MAX];
	struct dp_verdict v[DP_BATCH_MAX];

	for (uint32_t i = 0; i < n; i++) {
		fr[i].data = h[i]->data;
		fr[i].len = h[i]->len;
		fr[i].cap = sizeof(h[i]->data);
	}
	dp_process_batch(w->e, fr, n, h[0]->eng_if, now, v);
	for (uint32_t i = 0; i < n; i++) {
		struct xsk_port *out;

		if (v[i].action == DP_TX &&
		    (out = port_for(w, v[i].ifidx, UINT32_MAX)) != NULL)
			(void)xsk_port_tx_copy(out, h[i]->data, v[i].len);
	}
}

/* The frames the other workers handed this one: returns how many. */
static uint32_t
do_handed(struct worker *w, uint32_t now)
{
	uint32_t total = 0;

	for (uint32_t j = 0; j < w->n; j++) {
		struct handoff *h[DP_BATCH_MAX];
		uint32_t n, start = 0;

		if (j == w->id || (n = spsc_cons_avail(w->in[j])) == 0)
			continue;
		if (n > DP_BATCH_MAX)
			n = DP_BATCH_MAX;
		for (uint32_t i = 0; i < n; i++)
			h[i] = spsc_cons_slot(w->in[j], i);
		for (uint32_t i = 1; i <= n; i++)
			if (i == n || h[i]->eng_if != h[start]->eng_if) {
				do_handed_run(w, h + start, i - start, now);
				start = i;
			}
		spsc_cons_release(w->in[j], n);
		w->st.handed_in += n;
		total += n;
	}
	return total;
}

static bool
handoffs_waiting(struct worker *w)
{
	for (uint32_t j = 0; j < w->n; j++)
		if (j != w->id && spsc_cons_avail(w->in[j]) > 0)
			return true;
	return false;
}

static void
send_held(void *arg, uint16_t ifidx, const uint8_t *frame, uint32_t len)
{
	struct worker *w = arg;
	struct xsk_port *out = port_for(w, ifidx, 0);

	if (out != NULL)
		(void)xsk_port_tx_copy(out, frame, len);
}

static void
report_resolve(struct worker *w)
{
	struct dp_resolve r[16];
	size_t n;

	while ((n = dp_resolve_requests(w->e, r, 16)) > 0)
		w->resolve(r, n, w->resolve_arg);
}

/* At most EVENTS_PER_TURN a loop turn: a burst of new connections is
 * mirrored over a few turns rather than stalling the packets. */
#define EVENTS_PER_TURN	1024

static void
report_events(struct worker *w)
{
	struct ct_table *ct = dp_engine_ct(w->e);
	struct ct_event ev[128];
	size_t n, total = 0;
	uint64_t lost = ct->stats.events_lost - w->events_lost;

	w->events_lost = ct->stats.events_lost;
	if (lost > 0)
		w->events(NULL, 0, lost, w->events_arg);
	while (total < EVENTS_PER_TURN &&
	    (n = ct_events(ct, ev, 128)) > 0) {
		w->events(ev, n, 0, w->events_arg);
		total += n;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd[WORKER_MAX_PORTS + 1];
	uint32_t last_expire = now_ms();
	char err[160];

	/* Everything a worker touches was opened for it: it needs no
	 * capability at all. */
	if (privs_drop(0, err, sizeof(err)) < 0)
		log_warnx("worker: %s", err);

	for (uint32_t i = 0; i < w->n_ports; i++) {
		pfd[i].fd = w->ports[i]->fd;
		pfd[i].events = w->ports[i]->tx_only ? 0 : POLLIN;
	}
	pfd[w->n_ports].fd = w->efd;
	pfd[w->n_ports].events = POLLIN;

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		uint32_t now = now_ms(), moved = 0;

		if (atomic_load_explicit(&w->pending, memory_order_acquire))
			run_calls(w);
		/* Neighbours arrive through run_calls: send what waited. */
		if (dp_held(w->e) > 0)
			(void)dp_release_held(w->e, now, send_held, w);
		for (uint32_t i = 0; i < w->n_ports; i++)
			moved += do_batch(w, w->ports[i], now);
		if (w->n > 1) {
			commit_handoffs(w);
			moved += do_handed(w, now);
		}
		for (uint32_t i = 0; i < w->n_ports; i++)
			xsk_port_flush(w->ports[i]);
		/* The flows of connections this turn established, as soon as
		 * their frames are out: a connection's next packets may be on
		 * their way already. */
		if (w->flows != NULL)
			fp_flows_apply(w->flows, w->e);
		if (w->resolve != NULL)
			report_resolve(w);
		if (w->events != NULL)
			report_events(w);
		if (now - last_expire >= EXPIRE_EVERY_MS) {
			if (w->flows != NULL)
				fp_flows_poll(w->flows, w->e, FLOW_POLL_BUDGET);
			dp_expire(w->e, now, EXPIRE_BUDGET);
			last_expire = now;
		}
		if (moved == 0) {
			int tmo = IDLE_POLL_MS;
			for (uint32_t i = 0; i < w->n_ports; i++)
				if (w->ports[i]->in_tx > 0)
					tmo = 1;	/* reap completions soon */
			if (w->events != NULL && dp_engine_ct(w->e)->ev_len > 0)
				tmo = 0;	/* more events to hand over */
			if (w->n > 1) {
				atomic_store_explicit(&w->sleeping, true,
				    memory_order_relaxed);
				atomic_thread_fence(memory_order_seq_cst);
				if (handoffs_waiting(w))
					tmo = 0;
			}
			if (poll(pfd, w->n_ports + 1, tmo) > 0 &&
			    (pfd[w->n_ports].revents & POLLIN)) {
				uint64_t x;
				(void)!read(w->efd, &x, sizeof(x));
			}
			atomic_store_explicit(&w->sleeping, false,
			    memory_order_relaxed);
		}
	}
	run_calls(w);
	return NULL;
}

int
worker_start(struct worker *w)
{
	int rc;

	atomic_store(&w->stop, false);
	if ((rc = pthread_create(&w->thr, NULL, worker_main, w)) != 0) {
		errno = rc;
		return -1;
	}
	pthread_setname_np(w->thr, "lbd-worker");
	w->running = true;
	return 0;
}

void
worker_stop(struct worker *w)
{
	if (w == NULL || !w->running)
		return;
	atomic_store(&w->stop, true);
	wake(w);
	pthread_join(w->thr, NULL);
	w->running = false;
}

int
worker_link(struct worker **ws, uint32_t n)
{
	uint32_t pairs = n * (n - 1), slots = HANDOFF_SLOTS_MAX;

	if (n > WORKER_MAX)
		return -1;
	while (slots > HANDOFF_SLOTS_MIN &&
	    (uint64_t)pairs * slots * sizeof(struct handoff) > HANDOFF_BUDGET)
		slots >>= 1;
	for (uint32_t i = 0; i < n; i++) {
		if (ws[i]->running)
			return -1;
		ws[i]->id = i;
		ws[i]->n = n;
		ws[i]->peers = ws;
	}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			if (i == j)
				continue;
			if ((ws[i]->out[j] = spsc_new(slots,
			    sizeof(struct handoff))) == NULL)
				return -1;
			ws[j]->in[i] = ws[i]->out[j];
		}
	return 0;
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	worker_stop(w);
	/* Each ring is freed by its producer; the consumer only points. */
	for (uint32_t j = 0; j < w->n; j++)
		spsc_free(w->out[j]);
	close(w->efd);
	fp_flows_free(w->flows);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

void
worker_call(struct worker *w, worker_fn fn, void *arg)
{
	struct call c = { .fn = fn, .arg = arg };

	if (!w->running) {
		fn(w->e, arg);
		return;
	}
	pthread_mutex_lock(&w->mu);
	*w->calls_tail = &c;
	w->calls_tail = &c.next;
	atomic_store_explicit(&w->pending, true, memory_order_release);
	pthread_mutex_unlock(&w->mu);
	wake(w);
	pthread_mutex_lock(&w->mu);
	while (!c.done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	/* Frames wait in the rings meanwhile; a long pause overflows them. */
	if (c.ns > 10000000)
		log_debug("worker paused %.1f ms for the main thread",
		    c.ns / 1e6);
}

struct stats_call {
	struct worker		*w;
	struct worker_stats	*out;
};

static void
stats_fn(struct dp_engine *e, void *arg)
{
	struct stats_call *c = arg;

	(void)e;
	*c->out = c->w->st;
	c->out->rx = 0;
	for (uint32_t i = 0; i < c->w->n_ports; i++)
		c->out->rx += c->w->ports[i]->st.rx;
	if (c->w->flows != NULL) {
		c->out->flows = fp_flows_count(c->w->flows);
		fp_flows_stats(c->w->flows, &c->out->fl);
	}
}

/* The most flows read back at once for a reader of the statistics: the
 * worker pauses its packets meanwhile (about a microsecond each). */
#define FLOW_SYNC_MAX	65536

static void
sync_flows_fn(struct dp_engine *e, void *arg)
{
	struct worker *w = arg;

	if (w->flows != NULL)
		fp_flows_poll(w->flows, e, FLOW_SYNC_MAX);
}

void
worker_sync_flows(struct worker *w)
{
	if (w->flows != NULL)
		worker_call(w, sync_flows_fn, w);
}

void
worker_stats(struct worker *w, struct worker_stats *out)
{
	struct stats_call c = { w, out };

	worker_call(w, stats_fn, &c);
}

struct port_stats_call {
	struct worker			*w;
	struct worker_port_stats	*out;
	size_t				 max, n;
};

static void
port_stats_fn(struct dp_engine *e, void *arg)
{
	struct port_stats_call *c = arg;

	for (uint32_t i = 0; i < c->w->n_ports && c->n < c->max; i++, c->n++) {
		c->out[c->n].ifindex = c->w->ports[i]->ifindex;
		c->out[c->n].eng_if = c->w->ports[i]->eng_if;
		c->out[c->n].queue = c->w->ports[i]->queue;
		c->out[c->n].st = c->w->ports[i]->st;
		c->out[c->n].frames_ok = xsk_port_frames_ok(c->w->ports[i]);
	}
}

size_t
worker_port_stats(struct worker *w, struct worker_port_stats *out, size_t max)
{
	struct port_stats_call c = { w, out, max, 0 };

	worker_call(w, port_stats_fn, &c);
	return c.n;
}
