/*
 * The monitor's Prometheus endpoint: GET /metrics on the metrics_listen
 * socket (or the one systemd passed as "metrics"), answered from the
 * loop without ever blocking it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_METRICS_H
#define PITCHFORK_MONITOR_METRICS_H

#include <stdint.h>

struct monitor;

/* Open the endpoint when one is configured or passed, in m's epoll set
 * under TAG_METRICS.  Returns 0 (also when there is none), or -1 after
 * logging. */
int metrics_open(struct monitor *m);

/* epoll reported events on descriptor nr of the endpoint (0 the
 * listener, 1.. a scrape) at now. */
void metrics_event(struct monitor *m, uint32_t nr, uint32_t events,
                   int64_t now);

/* Cut off the scrapes past their deadline at now. */
void metrics_tick(struct monitor *m, int64_t now);

#endif
