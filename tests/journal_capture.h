/*
 * The journal of a unit test: sd_journal_sendv() and the
 * _with_location() variant its macro calls are replaced by
 * tests/journal_capture.c, which hands every entry to the test's own
 * journal_capture().
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_TEST_JOURNAL_CAPTURE_H
#define PITCHFORK_TEST_JOURNAL_CAPTURE_H

#include <sys/uio.h>

/* Defined by the test: take one entry of n fields ("NAME=value");
 * returns what sd_journal_sendv() returns (0, or -errno). */
int journal_capture(const struct iovec *iov, int n);

#endif
