/*
 * What every C file that calls Ruby needs, and nothing above it: the one
 * protected-call wrapper (rb_protect, then class, message and backtrace
 * logged and $! cleared), the exception report, poll(2) without the GVL,
 * the ASan landing after a longjmp, and the classes of pitchfork.rb that C
 * code raises or extends.  It calls no other file of src/ruby, so the
 * Ruby classes written in C can all use it.  Starting the VM is vm.h's.
 *
 * Facts about libruby 3.1 behind these rules:
 * - an exception that reaches C with no rb_protect around it crashes the
 *   VM ("[BUG] Segmentation fault"), so every call into Ruby, start-up and
 *   constant lookups included, runs protected;
 * - $! (rb_errinfo) is cleared after a failed call, so that no exception
 *   outlives its report and the next call starts clean;
 * - formatting an exception can itself raise (a broken #message), so the
 *   report is built under rb_protect too;
 * - Ruby's own signal handlers have no SA_RESTART, and Thread#raise or a
 *   trap interrupts a blocking call made without the GVL: waits loop on
 *   EINTR.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_PFRUBY_H
#define PITCHFORK_PFRUBY_H

#include <poll.h>
#include <ruby.h>
#include <stdbool.h>

#include "core/log.h"

/*
 * Put PFRUBY_INIT_STACK first in the outermost function of a process that
 * starts Ruby (the frame that lives longest), before vm_boot().
 * ruby_setup() records its own frame too; on Linux Ruby asks
 * pthread_getattr_np() for the real stack, so this is belt and braces.
 */
#define PFRUBY_INIT_STACK RUBY_INIT_STACK

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

/*
 * Look up the classes below once src/ruby/pitchfork.rb has been
 * evaluated, and pin them (GC.compact in the mold must not move what C
 * globals hold).  Raises NameError when one is missing: call protected.
 */
void pfruby_find_classes(void);

/* Classes defined by src/ruby/pitchfork.rb, valid after vm_boot(). */
extern VALUE pfruby_mPitchfork;      /* Pitchfork */
extern VALUE pfruby_eClientShutdown; /* Pitchfork::ClientShutdown < EOFError */
extern VALUE pfruby_eHttpParserError; /* Pitchfork::HttpParserError */

#endif
