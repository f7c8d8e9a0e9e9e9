/*
 * Pitchfork::Journal: the application's output as journal entries of
 * their own, with a priority and the fields of the server's lines.  The
 * C methods below are thin calls into src/core/log.c; when the process logs
 * to the journal, src/ruby/journal.rb (evaluated only then) routes the
 * standard streams and every Logger on them through these methods.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/journal.h"

#include <unistd.h>

#include "core/log.h"
#include "ruby/pfruby.h"

/* The Ruby source of src/ruby/journal.rb, generated at build time. */
extern const char pfruby_journal_rb[];

/* fd as a C int, which must be 1 or 2 (raises ArgumentError). */
static int
journal_std_fd(VALUE fd)
{
    int n = NUM2INT(fd);

    if (n != STDOUT_FILENO && n != STDERR_FILENO)
        rb_raise(rb_eArgError, "fd %d is not 1 (stdout) or 2 (stderr)", n);
    return n;
}

/* Journal.enabled?: this process logs to the journal. */
static VALUE
journal_enabled_p(VALUE mod)
{
    (void)mod;
    return log_journal() ? Qtrue : Qfalse;
}

/* Journal.stream_fd?(fd): writes to fd belong in the journal. */
static VALUE
journal_stream_fd_p(VALUE mod, VALUE fd)
{
    (void)mod;
    return log_fd_journal(NUM2INT(fd)) ? Qtrue : Qfalse;
}

/*
 * Journal.write(fd, args): IO#write(*args) on fd 1 or 2 as journal
 * entries (see log_app_write()).  Returns the bytes written, as
 * IO#write.  Each argument is converted with to_s before anything is
 * sent, so that the write is atomic among Ruby threads.
 */
static VALUE
journal_write(VALUE mod, VALUE fd, VALUE args)
{
    int n = journal_std_fd(fd);
    VALUE buf;

    (void)mod;
    Check_Type(args, T_ARRAY);
    if (RARRAY_LEN(args) == 1) {
        buf = rb_obj_as_string(RARRAY_AREF(args, 0));
    } else {
        buf = rb_str_buf_new(0);
        for (long i = 0; i < RARRAY_LEN(args); i++) {
            VALUE s = rb_obj_as_string(RARRAY_AREF(args, i));

            /* Bytes, whatever the encodings: as IO#write sends them. */
            rb_str_cat(buf, RSTRING_PTR(s), RSTRING_LEN(s));
        }
    }
    log_app_write(n, RSTRING_PTR(buf), (size_t)RSTRING_LEN(buf));
    RB_GC_GUARD(buf);
    return LONG2NUM(RSTRING_LEN(buf));
}

/* Journal.flush(fd = nil): send the partial line held for fd (both when
 * nil) as an entry. */
static VALUE
journal_flush(int argc, VALUE *argv, VALUE mod)
{
    VALUE fd;

    (void)mod;
    rb_scan_args(argc, argv, "01", &fd);
    if (NIL_P(fd)) {
        log_app_flush(STDOUT_FILENO);
        log_app_flush(STDERR_FILENO);
    } else {
        log_app_flush(journal_std_fd(fd));
    }
    return Qnil;
}

/*
 * Journal.log(priority, message, fd = nil): message (one trailing
 * newline dropped) as one entry at priority (0 emerg .. 7 debug), with
 * PITCHFORK_STREAM of fd 1 or 2 when given (after the partial line held
 * for fd, to keep the order).  Returns true, or false when the process
 * does not log to the journal or the journal refused the entry.
 */
static VALUE
journal_log(int argc, VALUE *argv, VALUE mod)
{
    VALUE priority, message, fd;
    int p, n = -1, r;
    long len;

    (void)mod;
    rb_scan_args(argc, argv, "21", &priority, &message, &fd);
    p = NUM2INT(priority);
    if (p < 0 || p > 7)
        rb_raise(rb_eArgError, "priority %d is not 0 (emerg) to 7 (debug)", p);
    message = rb_obj_as_string(message);
    if (!NIL_P(fd)) {
        n = journal_std_fd(fd);
        log_app_flush(n);
    }
    len = RSTRING_LEN(message);
    if (len > 0 && RSTRING_PTR(message)[len - 1] == '\n')
        len--;
    r = log_app(p, n, RSTRING_PTR(message), (size_t)len);
    RB_GC_GUARD(message);
    return r == 0 ? Qtrue : Qfalse;
}

/* Kernel#eval of the embedded journal.rb at the top level. */
static VALUE
journal_eval_rb(void)
{
    VALUE binding = rb_const_get(rb_cObject, rb_intern("TOPLEVEL_BINDING"));
    VALUE src = rb_utf8_str_new_cstr(pfruby_journal_rb);

    return rb_funcall(rb_cObject, rb_intern("eval"), 4, src, binding,
                      rb_str_new_cstr("<pitchfork>/journal.rb"), INT2FIX(1));
}

static VALUE
journal_init_body(VALUE unused)
{
    VALUE m = rb_define_module_under(pfruby_mPitchfork, "Journal");

    (void)unused;
    rb_define_singleton_method(m, "enabled?", journal_enabled_p, 0);
    rb_define_singleton_method(m, "stream_fd?", journal_stream_fd_p, 1);
    rb_define_singleton_method(m, "write", journal_write, 2);
    rb_define_singleton_method(m, "flush", journal_flush, -1);
    rb_define_singleton_method(m, "log", journal_log, -1);
    if (log_journal())
        journal_eval_rb();
    return Qnil;
}

int
journal_init(void)
{
    int state = 0;

    pfruby_protect(journal_init_body, Qnil, &state);
    return state == 0 ? 0 : -1;
}
