/*
 * Events an operator watches: VRRP and health transitions, sync link
 * changes, reloads, admin changes. Each is one line of `key=value` text and
 * one JSON object, streamed to every `lbctl watch` (through the sink the
 * daemon sets) and the last EVENTS_KEPT kept for the status page. Emitted
 * from the main loop only.
 */
#ifndef LBD_EVENTS_H
#define LBD_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define EVENTS_KEPT	256

/* Where each event goes besides the kept list: `text` without a newline. */
typedef void (*events_sink_fn)(void *arg, const char *text, const char *json);

void	events_set_sink(events_sink_fn, void *arg);

/*
 * One event of `type` ("vrrp", "health", ...) with its fields as key, value
 * string pairs, ended by NULL: events_emit("health", "backend", "web/a",
 * "state", "down", NULL). Text values with spaces are quoted.
 */
void	events_emit(const char *type, ...) __attribute__((sentinel));

/* The kept events, oldest first, as a JSON array (at most `max`, the
 * newest), and how many were ever emitted. */
void	 events_json(struct buf *out, size_t max);
uint64_t events_count(void);

#endif /* LBD_EVENTS_H */
