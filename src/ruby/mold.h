/*
 * The mold: boots Ruby and the app once, then forks workers on the
 * monitor's request with a double fork so that each worker is reparented
 * to the monitor.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MOLD_H
#define PITCHFORK_MOLD_H

#include "core/mold_boot.h"

/* The mold's entry point (a mold_main_fn, see core/mold_boot.h). */
void mold_main(const struct mold_args *a) __attribute__((noreturn));

#endif
