/*
 * What the app can ask about the process serving it: the C methods of
 * Pitchfork::Info (worker_nr, fork_safe?, no_longer_fork_safe!,
 * live_workers_count, shutting_down?, and the soft timeout's helpers),
 * Pitchfork::Worker#requests_count (env["pitchfork.worker"]) and
 * Pitchfork::TimeoutHandler#extend_deadline / #deadline
 * (env["pitchfork.timeout"]), all reading or moving this worker's slot of
 * the shared table.  The Ruby halves are in src/ruby/pitchfork.rb.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/info.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/settings.h"
#include "core/shm.h"
#include "ruby/connection.h"
#include "ruby/hooks.h"
#include "ruby/pfruby.h"
#include "ruby/rack_io.h"
#include "ruby/worker.h"

static struct {
    struct worker *worker;  /* the worker of this process, NULL in the mold */
    struct shm_slot *slots; /* the whole shared table */
    bool timed_out;         /* the soft timeout fired */
    bool stopping;          /* told to stop */
    VALUE soft_timeout;     /* Pitchfork::SoftTimeout, once started */
} info = {.soft_timeout = Qnil};

/* Pitchfork::Info.worker_nr: this worker's number, nil in the mold. */
static VALUE
info_worker_nr(VALUE self)
{
    (void)self;
    return info.worker != NULL ? INT2NUM(info.worker->nr) : Qnil;
}

static VALUE
info_fork_safe_p(VALUE self)
{
    (void)self;
    if (info.worker == NULL || info.worker->slot == NULL)
        return Qtrue;
    return atomic_load(&info.worker->slot->fork_unsafe) ? Qfalse : Qtrue;
}

/* Pitchfork::Info.no_longer_fork_safe!: this worker will not be promoted
 * to mold (the monitor reads the flag). */
static VALUE
info_no_longer_fork_safe(VALUE self)
{
    (void)self;
    if (info.worker != NULL && info.worker->slot != NULL)
        atomic_store(&info.worker->slot->fork_unsafe, 1);
    return Qnil;
}

/* Pitchfork::Worker#requests_count: requests served so far. */
static VALUE
info_requests_count(VALUE self)
{
    (void)self;
    if (info.worker == NULL || info.worker->slot == NULL)
        return INT2FIX(0);
    return ULL2NUM(atomic_load(&info.worker->slot->requests));
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
    if (connection_current == NULL || d == 0)
        return self; /* no request being served: nothing to extend */
    extra = (int64_t)(s * 1e9);
    d += extra;
    rack_io_set_deadline(d);
    if (info.worker != NULL && info.worker->slot != NULL)
        atomic_store(&info.worker->slot->deadline_ns, d);
    return self;
}

/* Pitchfork::TimeoutHandler#deadline: seconds left before the request
 * times out (a Float), nil between requests. */
static VALUE
info_deadline(VALUE self)
{
    int64_t d = rack_io_deadline();

    (void)self;
    if (connection_current == NULL || d == 0)
        return Qnil;
    return DBL2NUM((double)(d - clock_now_ns()) / 1e9);
}

/* Pitchfork::Info.live_workers_count: workers serving or waiting now,
 * from the shared table. */
static VALUE
info_live_workers_count(VALUE self)
{
    int n = 0;

    (void)self;
    for (int i = 0; info.slots != NULL && i < SHM_MAX_WORKERS; i++) {
        uint32_t st = atomic_load(&info.slots[i].state);
        n += atomic_load(&info.slots[i].pid) > 0 &&
             (st == SHM_IDLE || st == SHM_BUSY);
    }
    return INT2NUM(n);
}

/* Pitchfork::Info.shutting_down?: this worker was told to stop, or its
 * request timed out. */
static VALUE
info_shutting_down_p(VALUE self)
{
    (void)self;
    return info.stopping || info.timed_out ? Qtrue : Qfalse;
}

/* Pitchfork::Info.__deadline_left (for the soft timeout's thread):
 * seconds before the deadline in the shared table, nil between
 * requests. */
static VALUE
info_deadline_left(VALUE self)
{
    int64_t d;

    (void)self;
    if (info.worker == NULL || info.worker->slot == NULL)
        return Qnil;
    d = atomic_load(&info.worker->slot->deadline_ns);
    if (d == 0)
        return Qnil;
    return DBL2NUM((double)(d - clock_now_ns()) / 1e9);
}

/* Pitchfork::Info.__current_env: the Rack env of the request being
 * served, or nil. */
static VALUE
info_current_env(VALUE self)
{
    (void)self;
    return connection_current != NULL ? connection_current->env : Qnil;
}

/* Pitchfork::Info.__timed_out!: the soft timeout fired. */
static VALUE
info_timed_out_bang(VALUE self)
{
    (void)self;
    info.timed_out = true;
    log_event(LOGL_ERR, "timeout", NULL,
              "request timed out after %g s: running after_worker_timeout, "
              "then exiting",
              info.worker != NULL ? info.worker->settings->timeout : 0.0);
    return Qnil;
}

/* Pitchfork::Info.__hook_error(name, exc): log a hook's exception. */
static VALUE
info_hook_error(VALUE self, VALUE name, VALUE exc)
{
    char context[96];

    (void)self;
    snprintf(context, sizeof(context), "%s hook error", StringValueCStr(name));
    hooks_log_error(context, exc);
    return Qnil;
}

void
info_init(void)
{
    VALUE klass = rb_path2class("Pitchfork::Info");
    VALUE worker = rb_path2class("Pitchfork::Worker");
    VALUE timeout = rb_path2class("Pitchfork::TimeoutHandler");

    rb_define_singleton_method(klass, "worker_nr", info_worker_nr, 0);
    rb_define_singleton_method(klass, "fork_safe?", info_fork_safe_p, 0);
    rb_define_singleton_method(klass, "no_longer_fork_safe!",
                               info_no_longer_fork_safe, 0);
    rb_define_singleton_method(klass, "live_workers_count",
                               info_live_workers_count, 0);
    rb_define_singleton_method(klass, "shutting_down?", info_shutting_down_p,
                               0);
    rb_define_singleton_method(klass, "__deadline_left", info_deadline_left,
                               0);
    rb_define_singleton_method(klass, "__current_env", info_current_env, 0);
    rb_define_singleton_method(klass, "__timed_out!", info_timed_out_bang, 0);
    rb_define_singleton_method(klass, "__hook_error", info_hook_error, 2);
    rb_define_method(worker, "requests_count", info_requests_count, 0);
    rb_define_method(timeout, "extend_deadline", info_extend_deadline, 1);
    rb_define_method(timeout, "deadline", info_deadline, 0);
}

static VALUE
info_soft_timeout_stop(VALUE unused)
{
    (void)unused;
    return rb_funcall(info.soft_timeout, rb_intern("stop"), 0);
}

void
info_worker_done(void)
{
    info.worker = NULL;
    if (!NIL_P(info.soft_timeout))
        pfruby_protect(info_soft_timeout_stop, Qnil, NULL);
}

bool
info_timed_out(void)
{
    return info.timed_out;
}

void
info_shutting_down(void)
{
    info.stopping = true;
}

static VALUE
info_boot_body(VALUE arg)
{
    VALUE klass = rb_path2class("Pitchfork::Info");

    rb_iv_set(klass, "@workers_count", INT2NUM((int)arg));
    return Qnil;
}

void
info_boot(struct shm_slot *slots, int workers)
{
    info.slots = slots;
    pfruby_protect(info_boot_body, (VALUE)workers, NULL);
}

/*
 * In the worker (called protected): remember w, use w->obj as
 * env["pitchfork.worker"], create env["pitchfork.timeout"] and start the
 * soft timeout's thread.
 */
void
info_worker_start(struct worker *w, VALUE *worker_obj, VALUE *timeout_obj)
{
    VALUE timeout = rb_path2class("Pitchfork::TimeoutHandler");

    info.worker = w;
    info.timed_out = info.stopping = false;
    *worker_obj = w->obj;
    *timeout_obj = rb_funcall(timeout, rb_intern("new"), 0);
    rb_gc_register_mark_object(*timeout_obj);
    info.soft_timeout = rb_path2class("Pitchfork::SoftTimeout");
    rb_gc_register_mark_object(info.soft_timeout);
    rb_funcall(info.soft_timeout, rb_intern("start"), 2, w->obj,
               DBL2NUM(w->settings->timeout));
}
