/*
 * What the app can ask about the process serving it: the C methods of
 * Pitchfork::Info (worker_nr, fork_safe?, no_longer_fork_safe!),
 * Pitchfork::Worker#requests_count (env["pitchfork.worker"]) and
 * Pitchfork::TimeoutHandler#extend_deadline / #deadline
 * (env["pitchfork.timeout"]), all reading or moving this worker's slot of
 * the shared table.  The Ruby halves are in src/ruby/pitchfork.rb.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "rack.h"

#include <math.h>
#include <stdatomic.h>

#include "pfruby.h"
#include "shm.h"
#include "worker.h"

/* The worker of this process, NULL in the mold. */
static struct worker *info_worker;

/* Pitchfork::Info.worker_nr: this worker's number, nil in the mold. */
static VALUE
info_worker_nr(VALUE self)
{
    (void)self;
    return info_worker != NULL ? INT2NUM(info_worker->nr) : Qnil;
}

static VALUE
info_fork_safe_p(VALUE self)
{
    (void)self;
    if (info_worker == NULL || info_worker->slot == NULL)
        return Qtrue;
    return atomic_load(&info_worker->slot->fork_unsafe) ? Qfalse : Qtrue;
}

/* Pitchfork::Info.no_longer_fork_safe!: this worker will not be promoted
 * to mold (the monitor reads the flag). */
static VALUE
info_no_longer_fork_safe(VALUE self)
{
    (void)self;
    if (info_worker != NULL && info_worker->slot != NULL)
        atomic_store(&info_worker->slot->fork_unsafe, 1);
    return Qnil;
}

/* Pitchfork::Worker#requests_count: requests served so far. */
static VALUE
info_requests_count(VALUE self)
{
    (void)self;
    if (info_worker == NULL || info_worker->slot == NULL)
        return INT2FIX(0);
    return ULL2NUM(atomic_load(&info_worker->slot->requests));
}

/*
 * Pitchfork::TimeoutHandler#extend_deadline(seconds): give the request
 * being served that many more seconds, in the shared table (the monitor's
 * timeout) and for the server's own socket waits.  Returns self.
 */
static VALUE
info_extend_deadline(VALUE self, VALUE seconds)
{
    double s = NUM2DBL(seconds);
    int64_t d = rack_io_deadline(), extra;

    if (!isfinite(s) || s < 0 || s > 86400.0 * 365)
        rb_raise(rb_eArgError, "extend_deadline: invalid seconds");
    if (rack_current == NULL || d == 0)
        return self; /* no request being served: nothing to extend */
    extra = (int64_t)(s * 1e9);
    d += extra;
    rack_io_set_deadline(d);
    if (info_worker != NULL && info_worker->slot != NULL)
        atomic_store(&info_worker->slot->deadline_ns, d);
    return self;
}

/* Pitchfork::TimeoutHandler#deadline: seconds left before the request
 * times out (a Float), nil between requests. */
static VALUE
info_deadline(VALUE self)
{
    int64_t d = rack_io_deadline();

    (void)self;
    if (rack_current == NULL || d == 0)
        return Qnil;
    return DBL2NUM((double)(d - shm_now_ns()) / 1e9);
}

void
rack_info_init(void)
{
    VALUE info = rb_path2class("Pitchfork::Info");
    VALUE worker = rb_path2class("Pitchfork::Worker");
    VALUE timeout = rb_path2class("Pitchfork::TimeoutHandler");

    rb_define_singleton_method(info, "worker_nr", info_worker_nr, 0);
    rb_define_singleton_method(info, "fork_safe?", info_fork_safe_p, 0);
    rb_define_singleton_method(info, "no_longer_fork_safe!",
                               info_no_longer_fork_safe, 0);
    rb_define_method(worker, "requests_count", info_requests_count, 0);
    rb_define_method(timeout, "extend_deadline", info_extend_deadline, 1);
    rb_define_method(timeout, "deadline", info_deadline, 0);
}

void
rack_info_worker_done(void)
{
    info_worker = NULL;
}

void
rack_info_worker(struct worker *w, VALUE *worker_obj, VALUE *timeout_obj)
{
    VALUE worker = rb_path2class("Pitchfork::Worker");
    VALUE timeout = rb_path2class("Pitchfork::TimeoutHandler");

    info_worker = w;
    *worker_obj = rb_funcall(worker, rb_intern("new"), 2, INT2NUM(w->nr),
                             UINT2NUM(w->generation));
    *timeout_obj = rb_funcall(timeout, rb_intern("new"), 0);
    rb_gc_register_mark_object(*worker_obj);
    rb_gc_register_mark_object(*timeout_obj);
}
