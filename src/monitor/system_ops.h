/*
 * The monitor's operations on the real system (see struct monitor_ops in
 * monitor/state.h): control sockets, signals, epoll, fork and sd_notify.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_SYSTEM_OPS_H
#define PITCHFORK_MONITOR_SYSTEM_OPS_H

#include "monitor/state.h"

extern const struct monitor_ops system_ops;

#endif
