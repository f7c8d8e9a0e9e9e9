/*
 * What the monitor tells the mold so that the hooks upstream runs in its
 * monitor run in the mold (this monitor never runs Ruby): best effort,
 * only to a ready mold that runs the hook.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_MOLD_HOOKS_H
#define PITCHFORK_MONITOR_MOLD_HOOKS_H

struct child;
struct monitor;

/* Every initial worker is ready: after_monitor_ready. */
void mold_hooks_ready(struct monitor *m);

/* Worker nr ended with wait_status: after_worker_exit.  w is its entry
 * before it is cleared. */
void mold_hooks_worker_exited(struct monitor *m, int nr, const struct child *w,
                              int wait_status);

/* Worker nr got SIGKILL at timeout + cleanup: after_worker_hard_timeout. */
void mold_hooks_hard_timeout(struct monitor *m, int nr, const struct child *w);

#endif
