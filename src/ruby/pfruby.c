/*
 * The calls every Ruby class written in C needs (see pfruby.h): the
 * protected-call wrapper with its exception report, poll(2) without the
 * GVL, the ASan landing, and the classes of pitchfork.rb that C code
 * raises or extends.  It calls no other file of src/ruby.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/pfruby.h"

#include <errno.h>

#include <ruby/thread.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "core/log.h"

/* Backtrace lines kept in one log line. */
#define PFRUBY_BACKTRACE_MAX 40

VALUE pfruby_mPitchfork = Qnil;
VALUE pfruby_eClientShutdown = Qnil;
VALUE pfruby_eHttpParserError = Qnil;

/* ---- the protected-call wrapper ----------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
/* Dead stack unpoisoned below the caller: deeper than any Ruby call
 * chain we expect between two landings. */
#define PFRUBY_ASAN_DEAD_STACK (4u << 20)

void __attribute__((noinline)) pfruby_asan_landed(void)
{
    /* Up to this frame, which sits where rb_protect's (or rb_ensure's)
     * frame was: every byte below is dead. */
    uintptr_t hi = (uintptr_t)__builtin_frame_address(0) & ~(uintptr_t)7;

    ASAN_UNPOISON_MEMORY_REGION((void *)(hi - PFRUBY_ASAN_DEAD_STACK),
                                PFRUBY_ASAN_DEAD_STACK);
}
#endif

#if defined(__SANITIZE_ADDRESS__)
/*
 * Ruby gives every thread an alternate signal stack of its own (malloc'd)
 * in place of the one ASan installed; when a Ruby thread ends (the soft
 * timeout's thread of a promoted worker, for one), ASan then tries to
 * munmap Ruby's and aborts with "unable to unmap".  Ruby's stack is
 * enough for both.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
    return "use_sigaltstack=0";
}
#endif

VALUE
pfruby_protect_exc(VALUE (*fn)(VALUE), VALUE arg, VALUE *exc)
{
    int state = 0;
    VALUE r = rb_protect(fn, arg, &state);

    if (state == 0) {
        *exc = Qnil;
        return r;
    }
    pfruby_asan_landed();
    *exc = rb_errinfo();
    rb_set_errinfo(Qnil);
    if (NIL_P(*exc)) {
        /* A jump without an exception (break/next/retry out of place). */
        *exc = rb_exc_new_cstr(rb_eRuntimeError,
                               "non-local jump out of a protected call");
    }
    return Qnil;
}

VALUE
pfruby_protect(VALUE (*fn)(VALUE), VALUE arg, int *state)
{
    VALUE exc;
    VALUE r = pfruby_protect_exc(fn, arg, &exc);

    if (state != NULL)
        *state = NIL_P(exc) ? 0 : 1;
    if (!NIL_P(exc))
        pfruby_log_exception(LOGL_ERR, "ruby error", exc);
    return r;
}

/* The report of one exception, built under rb_protect: formatting can
 * itself raise (error_highlight, a broken #message). */
struct exc_report {
    VALUE exc;
    VALUE message;   /* String */
    VALUE backtrace; /* String, "\n"-joined, or Qnil */
};

static VALUE
exc_report_build(VALUE arg)
{
    struct exc_report *r = (struct exc_report *)arg;
    VALUE bt;
    long n;

    r->message = rb_obj_as_string(rb_funcall(r->exc, rb_intern("message"), 0));
    bt = rb_funcall(r->exc, rb_intern("backtrace"), 0);
    if (!RB_TYPE_P(bt, T_ARRAY))
        return Qnil;
    n = RARRAY_LEN(bt);
    r->backtrace = rb_str_new(NULL, 0);
    for (long i = 0; i < n && i < PFRUBY_BACKTRACE_MAX; i++) {
        VALUE line = rb_obj_as_string(RARRAY_AREF(bt, i));
        rb_str_cat_cstr(r->backtrace, "\n\tfrom ");
        rb_str_append(r->backtrace, line);
    }
    if (n > PFRUBY_BACKTRACE_MAX)
        rb_str_catf(r->backtrace, "\n\t... %ld more lines",
                    n - PFRUBY_BACKTRACE_MAX);
    return Qnil;
}

void
pfruby_log_exception(enum log_level level, const char *context, VALUE exc)
{
    struct exc_report r = {exc, Qnil, Qnil};
    const char *klass = rb_obj_classname(exc);
    int state = 0;

    rb_protect(exc_report_build, (VALUE)&r, &state);
    if (state != 0)
        rb_set_errinfo(Qnil); /* fall back to the class name alone */
    if (!RB_TYPE_P(r.message, T_STRING))
        r.message = rb_str_new_cstr("(message unavailable)");
    if (!RB_TYPE_P(r.backtrace, T_STRING))
        r.backtrace = rb_str_new(NULL, 0);
    /* %.*s: a message may hold NUL bytes; the logger escapes the rest. */
    log_event(level, NULL, LOG_FIELDS(LOG_STR("EXCEPTION", klass)),
              "%s: %.*s (%s)%.*s", context, (int)RSTRING_LEN(r.message),
              RSTRING_PTR(r.message), klass, (int)RSTRING_LEN(r.backtrace),
              RSTRING_PTR(r.backtrace));
    RB_GC_GUARD(r.message);
    RB_GC_GUARD(r.backtrace);
}

bool
pfruby_exc_is_a(VALUE exc, VALUE klass)
{
    return !NIL_P(exc) && !NIL_P(klass) &&
           RTEST(rb_obj_is_kind_of(exc, klass));
}

bool
pfruby_exc_is_exit(VALUE exc)
{
    return pfruby_exc_is_a(exc, rb_eSystemExit) ||
           pfruby_exc_is_a(exc, rb_eSignal);
}

/* ---- the classes of pitchfork.rb ---------------------------------------- */

void
pfruby_find_classes(void)
{
    pfruby_mPitchfork = rb_path2class("Pitchfork");
    pfruby_eClientShutdown = rb_path2class("Pitchfork::ClientShutdown");
    pfruby_eHttpParserError = rb_path2class("Pitchfork::HttpParserError");
    /* Pinned: GC.compact in the mold must not move what C globals hold. */
    rb_gc_register_mark_object(pfruby_mPitchfork);
    rb_gc_register_mark_object(pfruby_eClientShutdown);
    rb_gc_register_mark_object(pfruby_eHttpParserError);
}

/* ---- waiting without the GVL -------------------------------------------- */

struct pfruby_poll_args {
    struct pollfd *fds;
    nfds_t nfds;
    int timeout_ms;
    int rc;
    int err;
};

static void *
pfruby_poll_nogvl(void *arg)
{
    struct pfruby_poll_args *p = arg;

    p->rc = poll(p->fds, p->nfds, p->timeout_ms);
    p->err = errno;
    return NULL;
}

int
pfruby_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    /* Ruby skips the call when an interrupt is already pending. */
    struct pfruby_poll_args p = {fds, nfds, timeout_ms, -1, EINTR};

    /* RUBY_UBF_IO: Thread#raise and Ruby's timer interrupt the poll. */
    rb_thread_call_without_gvl(pfruby_poll_nogvl, &p, RUBY_UBF_IO, NULL);
    errno = p.err;
    return p.rc;
}
