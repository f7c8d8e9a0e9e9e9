/*
 * Pitchfork::Journal: the application's output as journal entries of
 * their own (the C half; src/ruby/journal.rb is the Ruby half).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_JOURNAL_H
#define PITCHFORK_JOURNAL_H

/*
 * Define Pitchfork::Journal and, when this process logs to the journal,
 * route the application's output through it (src/ruby/journal.rb): at
 * boot, right after pitchfork.rb.  Returns 0, or -1 after logging.
 */
int journal_init(void);

#endif
