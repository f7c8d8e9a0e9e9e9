/*
 * The embedded Ruby VM: boot in the mold, load the Rack app, fork through
 * Ruby's own Process.fork, and the one protected-call wrapper that every
 * C-to-Ruby call goes through (it logs class, message and backtrace and
 * clears $!).  See /work/shared/RUBY-EMBEDDING.md for why each step is
 * there.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_PFRUBY_H
#define PITCHFORK_PFRUBY_H

#include <poll.h>
#include <ruby.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/log.h"

struct settings;

/*
 * Put PFRUBY_INIT_STACK first in the mold's outermost function (the frame
 * that lives longest), before pfruby_boot().  ruby_setup() records its own
 * frame too; on Linux Ruby asks pthread_getattr_np() for the real stack, so
 * this is belt and braces.
 */
#define PFRUBY_INIT_STACK RUBY_INIT_STACK

/*
 * Start the VM in this process (the mold): RACK_ENV from s->rack_env,
 * setlocale, ruby_setup, ruby_options with -I dirs, $0, then the Ruby side
 * of pitchfork (which requires rack), the -r libraries and the C classes of
 * the request path.  Returns 0, or -1 after logging the Ruby error with its
 * backtrace.  Call once per process.
 */
int pfruby_boot(const struct settings *s);

/*
 * Load s->rackup with Rack::Builder.parse_file (Rack 2 and 3), wrapped in
 * Rack::Lint when RACK_ENV is "development" (as upstream pitchfork does).
 * Returns the app, registered with the GC for the life of the process, or
 * Qnil after logging the error, its backtrace and the file.
 */
VALUE pfruby_load_app(const struct settings *s);

/*
 * Process.fork under rb_protect, so that Ruby's at-fork bookkeeping and
 * the app's Process._fork hooks run.  Flushes C stdio first.  Returns the
 * child's pid in the parent, 0 in the child, -1 after logging when the
 * fork or a hook failed.
 */
pid_t pfruby_fork(void);

/*
 * The one protected-call wrapper: fn(arg) under rb_protect.  On an
 * exception it logs class, message and backtrace at error level, clears
 * $!, sets *state non-zero and returns Qnil.  state may be NULL.
 */
VALUE pfruby_protect(VALUE (*fn)(VALUE), VALUE arg, int *state);

/*
 * Same as pfruby_protect() but does not log: the exception (or Qnil when
 * fn returned) is stored in *exc for the caller to classify and report
 * with pfruby_log_exception().  $! is cleared.
 */
VALUE pfruby_protect_exc(VALUE (*fn)(VALUE), VALUE arg, VALUE *exc);

/* Log exc ("context: message (Class)" and its backtrace) at level. */
void pfruby_log_exception(enum log_level level, const char *context,
                          VALUE exc);

/* True for SystemExit and SignalException (Interrupt included): the app
 * asked the process to stop. */
bool pfruby_exc_is_exit(VALUE exc);

/* True when exc is an instance of klass (a class VALUE). */
bool pfruby_exc_is_a(VALUE exc, VALUE klass);

/* ruby_cleanup (at_exit blocks, Ruby IO flushed) then _exit(status). */
void pfruby_exit(int status) __attribute__((noreturn));

/*
 * poll(2) without the GVL, so the app's threads run meanwhile; a Ruby
 * interrupt (Thread#raise, a trap, the timer) ends it with -1 and errno
 * EINTR.  Returns what poll returned, with its errno.  Ruby may raise a
 * pending interrupt on the way out: callers must not own unprotected
 * resources.
 */
int pfruby_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);

/*
 * Ruby unwinds (raise, break, throw) with __builtin_longjmp, which
 * AddressSanitizer does not intercept: the C frames it skipped stay
 * poisoned in the shadow memory, and a later deeper call is reported as
 * a stack overflow that is not one.  Call this where such a jump may have
 * landed: it unpoisons the dead stack below the caller.  A no-op without
 * ASan.
 */
#if defined(__SANITIZE_ADDRESS__)
void pfruby_asan_landed(void);
#else
static inline void
pfruby_asan_landed(void)
{
}
#endif

/* Classes defined by src/ruby/pitchfork.rb, valid after pfruby_boot(). */
extern VALUE pfruby_mPitchfork;      /* Pitchfork */
extern VALUE pfruby_eClientShutdown; /* Pitchfork::ClientShutdown < EOFError */
extern VALUE pfruby_eHttpParserError; /* Pitchfork::HttpParserError */

/* The Ruby source of src/ruby/pitchfork.rb, generated at build time. */
extern const char pfruby_pitchfork_rb[];

#endif
