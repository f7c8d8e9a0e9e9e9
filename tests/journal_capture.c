/*
 * sd_journal_sendv() for the unit tests: every entry goes to the test's
 * journal_capture() instead of journald.  See journal_capture.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "journal_capture.h"

/* Both sd_journal_sendv() and the _with_location() variant that its
 * macro calls are replaced here. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

int
sd_journal_sendv(const struct iovec *iov, int n)
{
    return journal_capture(iov, n);
}

int
sd_journal_sendv_with_location(const char *file, const char *line,
                               const char *func, const struct iovec *iov,
                               int n)
{
    (void)file;
    (void)line;
    (void)func;
    return journal_capture(iov, n);
}
