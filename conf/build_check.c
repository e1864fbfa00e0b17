/*
 * The builder, continued: the check block and the backends of a service
 * (backend, fallback, weight).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf_int.h"

/* HTTP status list: "200", "200-299", "200,301-302". */
static bool
valid_status_list(const char *s)
{
	const char *q = s;

	while (*q != '\0') {
		uint32_t a = 0, b;
		int n = 0;
		while (isdigit((unsigned char)*q) && n < 4)
			a = a * 10 + (uint32_t)(*q++ - '0'), n++;
		if (n != 3 || a < 100 || a > 599)
			return false;
		b = a;
		if (*q == '-') {
			q++;
			b = 0;
			n = 0;
			while (isdigit((unsigned char)*q) && n < 4)
				b = b * 10 + (uint32_t)(*q++ - '0'), n++;
			if (n != 3 || b < a || b > 599)
				return false;
		}
		if (*q == ',')
			q++;
		else if (*q != '\0')
			return false;
	}
	return q != s;
}

void
b_set_check(struct conf_parser *p, enum conf_key k, char **v,
    const struct conf_loc *vl)
{
	struct conf_service *s = b_cur_service(p);
	struct conf_check *ck;
	uint32_t n;

	if (s == NULL)
		return;
	ck = &s->check;
	switch (k) {
	case K_INTERVAL:
		if (b_duration(p, k, *v, vl, 100, 3600000, &n))
			ck->interval_ms = n;
		break;
	case K_TIMEOUT:
		if (b_duration(p, k, *v, vl, 10, 600000, &n))
			ck->timeout_ms = n;
		break;
	case K_RISE:
		if (b_num(p, k, *v, vl, 1, 100, &n))
			ck->rise = n;
		break;
	case K_FALL:
		if (b_num(p, k, *v, vl, 1, 100, &n))
			ck->fall = n;
		break;
	case K_PORT:
		if (b_num(p, k, *v, vl, 1, 65535, &n))
			ck->port = (uint16_t)n;
		break;
	case K_PATH:
		if ((*v)[0] != '/')
			conf_err(p, vl, "path: expected a path starting with "
			    "'/', found \"%s\"", *v);
		else
			b_take_str(&ck->path, v);
		break;
	case K_QUERY:
		if (strlen(*v) == 0 || strlen(*v) > 253)
			conf_err(p, vl, "query: expected a DNS name of 1..253 "
			    "bytes, found \"%s\"", *v);
		else
			b_take_str(&ck->query, v);
		break;
	case K_TYPE:
		if (strcasecmp(*v, "A") == 0)
			ck->qtype = 1;
		else if (strcasecmp(*v, "AAAA") == 0)
			ck->qtype = 28;
		else
			conf_err(p, vl, "type: expected A or AAAA, found \"%s\"",
			    *v);
		break;
	case K_EXPECT:
		/* dns: the address an answer must have. */
		if (ck->type == CONF_CHECK_DNS) {
			struct conf_addr a;

			if (!conf_parse_addr(*v, false, &a))
				conf_err(p, vl, "expect: expected the IPv4 or "
				    "IPv6 address the answer must have, found "
				    "\"%s\"", *v);
			else
				b_take_str(&ck->expect, v);
			break;
		}
		/* tcp: what the banner protocol's reply must contain. */
		if (ck->type == CONF_CHECK_TCP && (strlen(*v) == 0 ||
		    strlen(*v) > 256))
			conf_err(p, vl, "expect: expected 1..256 bytes, found %zu",
			    strlen(*v));
		else if (ck->type == CONF_CHECK_TCP)
			b_take_str(&ck->expect, v);
		else if (!valid_status_list(*v))
			conf_err(p, vl, "expect: expected HTTP status codes such "
			    "as 200 or 200-299,301, found \"%s\"", *v);
		else
			b_take_str(&ck->expect, v);
		break;
	case K_HOST:
		b_take_str(&ck->host, v);
		break;
	case K_COMMAND:
		b_take_str(&ck->command, v);
		break;
	case K_BODY:
	case K_RECEIVE:
		if (strlen(*v) == 0 || strlen(*v) > 256)
			conf_err(p, vl, "%s: expected 1..256 bytes, found %zu",
			    conf_key_names[k], strlen(*v));
		else
			b_take_str(k == K_BODY ? &ck->body : &ck->receive, v);
		break;
	case K_SEND:
		if (strlen(*v) > 512)
			conf_err(p, vl, "send: at most 512 bytes, found %zu",
			    strlen(*v));
		else
			b_take_str(&ck->send, v);
		break;
	case K_VERIFY:
		(void)b_bool(p, k, *v, vl, &ck->verify);
		break;
	case K_SOURCE:
		if (!conf_parse_addr(*v, false, &ck->source))
			conf_err(p, vl, "source: expected an IPv4 or IPv6 address, "
			    "found \"%s\"", *v);
		else
			ck->has_source = true;
		break;
	case K_JITTER:
		(void)b_duration(p, k, *v, vl, 0, 3600000, &ck->jitter_ms);
		break;
	case K_OBSERVE:
		(void)b_bool(p, k, *v, vl, &ck->observe);
		break;
	case K_OBSERVE_ERRORS:
		(void)b_num(p, k, *v, vl, 1, 16, &ck->observe_errors);
		break;
	case K_OBSERVE_WINDOW:
		(void)b_duration(p, k, *v, vl, 100, 3600000,
		    &ck->observe_window_ms);
		break;
	case K_CA_FILE: {
		/* Relative to the file that names it, like key-file. */
		const char *dir_end = vl->file ? strrchr(vl->file, '/') : NULL;
		free(ck->ca_file);
		ck->ca_file = NULL;
		if ((*v)[0] != '/' && dir_end != NULL) {
			if (asprintf(&ck->ca_file, "%.*s/%s",
			    (int)(dir_end - vl->file), vl->file, *v) < 0)
				ck->ca_file = NULL;
		} else
			b_take_str(&ck->ca_file, v);
		if (ck->ca_file != NULL && access(ck->ca_file, R_OK) != 0)
			conf_err(p, vl, "ca-file \"%s\": cannot read: %s",
			    ck->ca_file, strerror(errno));
		break;
	}
	case K_TLS_MIN:
		if (strcmp(*v, "1.2") == 0)
			ck->tls_min = 12;
		else if (strcmp(*v, "1.3") == 0)
			ck->tls_min = 13;
		else
			conf_err(p, vl, "tls-min: expected 1.2 or 1.3, found \"%s\"",
			    *v);
		break;
	case K_METHOD: {
		bool ok = strlen(*v) > 0 && strlen(*v) <= 16;
		for (const char *q = *v; ok && *q; q++)
			ok = *q >= 'A' && *q <= 'Z';
		if (!ok)
			conf_err(p, vl, "method: expected an HTTP method such as GET "
			    "or HEAD, found \"%s\"", *v);
		else
			b_take_str(&ck->method, v);
		break;
	}
	default:
		break;
	}
}


void
b_check(struct conf_parser *p, char *type, const struct conf_loc *kl,
    const struct conf_loc *vl)
{
	struct conf_service *s = b_cur_service(p);
	int i;

	if (s != NULL) {
		if (s->check.loc.line != 0)
			conf_err(p, kl, "duplicate \"check\" (first set at "
			    "%s:%d:%d)", s->check.loc.file, s->check.loc.line,
			    s->check.loc.col);
		else if ((i = conf_lookup(conf_check_names, CONF_CHECK__COUNT,
		    type)) <= 0)
			conf_err(p, vl, "unknown check \"%s\", expected tcp, "
			    "http, https, tls, udp, dns, script or agent", type);
		else {
			s->check.type = (enum conf_check_type)i;
			s->check.loc = *kl;
			s->check.interval_ms = CONF_CHECK_DEFAULT_INTERVAL_MS;
			s->check.timeout_ms = CONF_CHECK_DEFAULT_TIMEOUT_MS;
			s->check.rise = CONF_CHECK_DEFAULT_RISE;
			s->check.fall = CONF_CHECK_DEFAULT_FALL;
			s->check.tls_min = 12;
			s->check.observe_errors = CONF_OBSERVE_DEFAULT_ERRORS;
			s->check.observe_window_ms =
			    CONF_OBSERVE_DEFAULT_WINDOW_MS;
		}
	}
	free(type);
}


/* Fill in a backend (or the fallback): name, address, port; takes both
 * strings. `what` names it in messages. */
static void
fill_backend(struct conf_parser *p, struct conf_backend *b, const char *what,
    char *name, char *addrport, const struct conf_loc *nl,
    const struct conf_loc *al)
{
	uint32_t port;
	bool port_ok;

	b_name_ok(p, what, name, nl);
	b->name = name;
	b->loc = *nl;
	b->weight = 1;
	if (!conf_parse_addr_port(addrport, &b->addr, &port, &port_ok))
		conf_err(p, al, "%s \"%s\": expected ADDRESS:PORT such as "
		    "10.0.0.11:80 or [2001:db8::11]:80, found \"%s\"", what, name,
		    addrport);
	else if (!port_ok)
		conf_err(p, al, "%s \"%s\": port in \"%s\" out of range "
		    "1..65535", what, name, addrport);
	else
		b->port = (uint16_t)port;
	free(addrport);
}

void
b_backend(struct conf_parser *p, char *name, char *addrport,
    const struct conf_loc *kl, const struct conf_loc *nl,
    const struct conf_loc *al)
{
	struct conf_service *s = b_cur_service(p);

	if (s == NULL) {
		free(name);
		free(addrport);
		return;
	}
	GROW(s->backends, s->n_backends);
	fill_backend(p, &s->backends[s->n_backends++], "backend", name, addrport,
	    nl, al);
}


/* The backend that takes new connections when no other does (a sorry
 * server). Not health checked, not scheduled otherwise. */
void
b_fallback(struct conf_parser *p, char *name, char *addrport,
    const struct conf_loc *kl, const struct conf_loc *nl,
    const struct conf_loc *al)
{
	struct conf_service *s = b_cur_service(p);

	if (s != NULL && s->has_fallback)
		conf_err(p, kl, "duplicate \"fallback\" (first set at %s:%d:%d)",
		    s->fallback.loc.file, s->fallback.loc.line, s->fallback.loc.col);
	if (s == NULL || s->has_fallback) {
		free(name);
		free(addrport);
		return;
	}
	s->has_fallback = true;
	fill_backend(p, &s->fallback, "fallback", name, addrport, nl, al);
}

/* `weight V`, `max-conns V` and `backup` after a backend's address. */
void
b_backend_opt(struct conf_parser *p, enum conf_key k, char *v,
    const struct conf_loc *vl)
{
	struct conf_service *s = b_cur_service(p);
	struct conf_backend *b;
	uint32_t n;

	if (s == NULL || s->n_backends == 0) {
		free(v);
		return;
	}
	b = &s->backends[s->n_backends - 1];
	switch (k) {
	case K_WEIGHT:
		if (!conf_parse_u32(v, &n) || n > 256)
			conf_err(p, vl, "backend \"%s\": weight %s out of range "
			    "0..256", b->name, v);
		else
			b->weight = n;
		break;
	case K_MAX_CONNS:
		/* 0 would be a backend that never takes a connection: that
		 * is `weight 0` (drain), said so. */
		if (!conf_parse_u32(v, &n) || n == 0 || n > 16777216)
			conf_err(p, vl, "backend \"%s\": max-conns %s out of "
			    "range 1..16777216 (weight 0 drains a backend)",
			    b->name, v);
		else
			b->max_conns = n;
		break;
	case K_BACKUP:
		if (b->backup)
			conf_err(p, vl, "backend \"%s\": duplicate \"backup\"",
			    b->name);
		b->backup = true;
		break;
	default:
		break;
	}
	free(v);
}

/* `limit new-conns N/s per-source [burst M]`: the words are checked here so
 * that each gets its own message; the burst defaults to one second's. */
void
b_limit(struct conf_parser *p, char *what, char *rate, char *per,
    char *burst_kw, char *burst, const struct conf_loc *kl,
    const struct conf_loc *wl, const struct conf_loc *rl,
    const struct conf_loc *pl, const struct conf_loc *bl)
{
	struct conf_service *s = b_cur_service(p);
	uint32_t n = 0, b = 0;
	unsigned long v;
	char *end;
	bool ok = true;

	if (s != NULL && s->limit_rate != 0) {
		conf_err(p, kl, "duplicate \"limit\" (first set at %s:%d:%d)",
		    s->limit_loc.file, s->limit_loc.line, s->limit_loc.col);
		ok = false;
	}
	if (ok && strcmp(what, "new-conns") != 0) {
		conf_err(p, wl, "limit: unknown \"%s\", expected new-conns", what);
		ok = false;
	}
	v = strtoul(rate, &end, 10);
	if (ok && (!isdigit((unsigned char)rate[0]) || strcmp(end, "/s") != 0 ||
	    v == 0 || v > 1000000)) {
		conf_err(p, rl, "limit new-conns: expected a rate such as 20/s "
		    "(1/s..1000000/s), found \"%s\"", rate);
		ok = false;
	}
	n = (uint32_t)v;
	if (ok && strcmp(per, "per-source") != 0) {
		conf_err(p, pl, "limit new-conns: unknown \"%s\", expected "
		    "per-source", per);
		ok = false;
	}
	b = n;
	if (ok && burst_kw != NULL && strcmp(burst_kw, "burst") != 0) {
		conf_err(p, bl, "limit new-conns: unknown \"%s\", expected "
		    "burst", burst_kw);
		ok = false;
	}
	if (ok && burst != NULL && (!conf_parse_u32(burst, &b) || b == 0 ||
	    b > 1000000)) {
		conf_err(p, bl, "limit new-conns: burst %s out of range "
		    "1..1000000", burst);
		ok = false;
	}
	if (ok && s != NULL) {
		s->limit_rate = n;
		s->limit_burst = b;
		s->limit_loc = *kl;
	}
	free(what);
	free(rate);
	free(per);
	free(burst_kw);
	free(burst);
}

/* `mode dsr tunnel ipip|gue`: the words checked here, each with its own
 * message; the options follow (b_tunnel_opt). */
void
b_mode_tunnel(struct conf_parser *p, char *mode, char *kw, char *kind,
    const struct conf_loc *kl, const struct conf_loc *ml,
    const struct conf_loc *wl, const struct conf_loc *tl)
{
	struct conf_service *s = b_cur_service(p);
	int i = -1;

	if (s != NULL && !b_first_use(p, K_MODE, kl))
		s = NULL;
	if (strcmp(mode, "dsr") != 0)
		conf_err(p, ml, "mode %s: only dsr tunnels (routed and snat "
		    "need the replies back through lbd)", mode);
	else if (strcmp(kw, "tunnel") != 0)
		conf_err(p, wl, "mode dsr: unknown \"%s\", expected tunnel", kw);
	else if ((i = conf_lookup(conf_tunnel_names, CONF_TUNNEL__COUNT, kind)) <= 0)
		conf_err(p, tl, "unknown tunnel \"%s\", expected ipip or gue "
		    "(ipip is ip6ip6 in an IPv6 service)", kind);
	else if (s != NULL) {
		s->mode_loc = *kl;
		s->tunnel_loc = *tl;
		s->mode = CONF_MODE_DSR;
		s->tunnel = (enum conf_tunnel)i;
		if (s->tunnel == CONF_TUNNEL_GUE && s->tunnel_port == 0)
			s->tunnel_port = CONF_TUNNEL_GUE_PORT;
	}
	free(mode);
	free(kw);
	free(kind);
}

/* `port N` (gue) and `source PREFIX` after `mode dsr tunnel ...`. */
void
b_tunnel_opt(struct conf_parser *p, enum conf_key k, char *v,
    const struct conf_loc *kl, const struct conf_loc *vl)
{
	struct conf_service *s = b_cur_service(p);
	struct conf_addr a;
	uint32_t n;

	if (s == NULL || s->tunnel == CONF_TUNNEL_NONE)
		;			/* the mode's error said it */
	else if (k == K_PORT && s->tunnel != CONF_TUNNEL_GUE)
		conf_err(p, kl, "tunnel %s has no port (gue has)",
		    conf_tunnel_name(s->tunnel));
	else if (k == K_PORT && (!conf_parse_u32(v, &n) || n == 0 || n > 65535))
		conf_err(p, vl, "tunnel gue: port %s out of range 1..65535", v);
	else if (k == K_PORT)
		s->tunnel_port = (uint16_t)n;
	else if (s->tunnel_src.family != 0)
		conf_err(p, kl, "tunnel: duplicate \"source\"");
	else if (!conf_parse_addr(v, true, &a) || a.plen == 0)
		conf_err(p, vl, "tunnel source: expected an address or prefix "
		    "such as 172.16.0.0/16 or 2001:db8:ffff::/64, found \"%s\"", v);
	else
		s->tunnel_src = a;
	free(v);
}

/* `persist DURATION [netmask /N]`: the prefix length is checked against
 * the VIP's family once the service is read (validate.c). */
void
b_persist(struct conf_parser *p, char *dur, char *kw, char *mask,
    const struct conf_loc *kl, const struct conf_loc *dl,
    const struct conf_loc *ml)
{
	struct conf_service *s = b_cur_service(p);
	uint32_t ms, plen = 0;

	if (s != NULL && s->persist_ms != 0)
		conf_err(p, kl, "duplicate \"persist\" (first set at %s:%d:%d)",
		    s->persist_loc.file, s->persist_loc.line, s->persist_loc.col);
	else if (!b_duration(p, K_PERSIST, dur, dl, 1000, 86400000, &ms))
		;
	else if (kw != NULL && strcmp(kw, "netmask") != 0)
		conf_err(p, ml, "persist: unknown \"%s\", expected netmask", kw);
	else if (mask != NULL && (mask[0] != '/' || !conf_parse_u32(mask + 1,
	    &plen) || plen == 0 || plen > 128))
		conf_err(p, ml, "persist netmask: expected a prefix length such "
		    "as /24 or /64, found \"%s\"", mask);
	else if (s != NULL) {
		s->persist_ms = ms;
		s->persist_plen = (uint8_t)plen;
		s->persist_loc = *kl;
	}
	free(dur);
	free(kw);
	free(mask);
}

/* `snat-pool ADDR ports LO-HI`: the address, then its range. */
void
b_snat_ports(struct conf_parser *p, char *addr, char *range,
    const struct conf_loc *al, const struct conf_loc *rl)
{
	struct conf_service *s = b_cur_service(p);
	size_t before = s != NULL ? s->n_snat_pool : 0;
	unsigned long lo, hi;
	char *end, *mid;

	b_list_item(p, K_SNAT_POOL, addr, al, al);	/* frees addr */
	if (s == NULL || s->n_snat_pool == before) {
		free(range);
		return;
	}
	lo = strtoul(range, &mid, 10);
	hi = *mid == '-' ? strtoul(mid + 1, &end, 10) : 0;
	if (!isdigit((unsigned char)range[0]) || *mid != '-' ||
	    !isdigit((unsigned char)mid[1]) || *end != '\0' ||
	    lo < CONF_SNAT_PORT_LO || hi > CONF_SNAT_PORT_HI || lo > hi ||
	    hi - lo + 1 < 64)
		conf_err(p, rl, "snat-pool: ports %s: expected LO-HI within "
		    "%d-%d, at least 64 ports, such as 1024-32767", range,
		    CONF_SNAT_PORT_LO, CONF_SNAT_PORT_HI);
	else
		s->snat_ports[before] = (struct conf_ports){ (uint16_t)lo,
		    (uint16_t)hi };
	free(range);
}
