/*
 * rack.input: Pitchfork::StreamInput and its subclass Pitchfork::Input,
 * Ruby classes written in C.
 *
 * The body is read from the socket only when the app asks for it.  Bytes
 * that arrived with the head are used first; "100 Continue" is written
 * before the first read that needs the client (RFC 9110 section 10.1.1);
 * chunked bodies are decoded transparently (trailers are dropped).
 *
 * Rewindable (the default), a Pitchfork::Input: every byte is kept
 * (body_store.c), in memory up to client_body_buffer_size, then in an
 * unlinked temporary file in $TMPDIR.  Streaming (rewindable_input
 * false), a Pitchfork::StreamInput: only what the app has not read yet is
 * kept, and there is no rewind method at all, as unicorn's and upstream's
 * StreamInput (Rack 3 made rewind optional; Rack 2 forbids a rewind that
 * raises Errno::ESPIPE).
 *
 * A client that closes or stalls before the end of the body makes the
 * read raise Pitchfork::ClientShutdown (an EOFError); waits are bounded
 * by the request deadline.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/rack_input.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ruby/encoding.h>

#include "core/settings.h"
#include "ruby/body_store.h"
#include "ruby/pfruby.h"
#include "ruby/rack_conn.h"
#include "ruby/rack_io.h"

#define INPUT_STAGE_SIZE (64 * 1024)

struct input {
    struct rack_conn *conn; /* NULL once the request is over */
    bool finished;          /* rack_input_finish() was called */
    bool eof;               /* the whole body was received */
    enum http_framing framing;
    uint64_t remaining; /* HTTP_BODY_LENGTH: bytes still to receive */
    struct chunked_decoder dec;
    const char *initial; /* body bytes read with the head, unused */
    size_t initial_len;
    bool had_initial;     /* the client sent body bytes with the head */
    struct body_store st; /* the bytes received, and the read position */
};

static VALUE cStreamInput = Qnil; /* read, gets, each, size, close */
static VALUE cInput = Qnil;       /* a StreamInput with rewind */
static ID id_parser_error;        /* hidden ivar: the enum http_error */
static VALUE input_empty = Qnil;  /* shared by requests without a body */
static size_t input_limit = 112 * 1024;
static bool input_rewindable = true;
static char input_stage[INPUT_STAGE_SIZE]; /* one request at a time */

static void
input_free(void *p)
{
    struct input *in = p;

    free(in->st.mem);
    if (in->st.tmpfd >= 0)
        (void)close(in->st.tmpfd); /* nothing to report at GC time */
    xfree(in);
}

static size_t
input_memsize(const void *p)
{
    const struct input *in = p;

    return sizeof(*in) + in->st.mem_cap;
}

static const rb_data_type_t input_type = {
    .wrap_struct_name = "pitchfork_input",
    .function = {.dmark = NULL, .dfree = input_free, .dsize = input_memsize},
    .flags = RUBY_TYPED_FREE_IMMEDIATELY,
};

static VALUE
input_alloc(VALUE klass)
{
    struct input *in;
    VALUE obj = TypedData_Make_Struct(klass, struct input, &input_type, in);

    in->st.tmpfd = -1;
    in->eof = true;
    in->st.rewindable = true;
    return obj;
}

static struct input *
input_get(VALUE self)
{
    struct input *in;

    pfruby_asan_landed(); /* the app may have rescued a raise of ours */
    TypedData_Get_Struct(self, struct input, &input_type, in);
    if (in->finished)
        rb_raise(rb_eIOError, "rack.input is closed: the request is over");
    return in;
}

/* ---- receiving ---------------------------------------------------------- */

/* Raise Pitchfork::HttpParserError for the decoder's error e, which it
 * carries (in an ivar Ruby cannot see) for rack_input_error_status. */
static void
input_raise_parser_error(enum http_error e)
{
    VALUE exc = rb_exc_new_str(pfruby_eHttpParserError,
                               rb_sprintf("bad chunked body: %s",
                                          http_parser_error_str(e)));

    rb_ivar_set(exc, id_parser_error, INT2FIX((int)e));
    rb_exc_raise(exc);
}

/* Decode (chunked) or clip (length) n raw bytes in input_stage and keep
 * the body part.  Raises Pitchfork::HttpParserError on a bad chunk. */
static void
input_ingest(struct input *in, size_t n)
{
    if (in->framing == HTTP_BODY_CHUNKED) {
        int r = http_chunked_decode(&in->dec, input_stage, &n, NULL);

        if (r < 0)
            input_raise_parser_error(in->dec.error);
        body_store_append(&in->st, input_stage, n);
        in->eof = r == 1;
        return;
    }
    if (n > in->remaining)
        n = (size_t)in->remaining; /* bytes after the body are not ours */
    body_store_append(&in->st, input_stage, n);
    in->remaining -= n;
    in->eof = in->remaining == 0;
}

/* "100 Continue" before the first read from a client that waits for it
 * (HTTP/1.1 only, nothing sent yet, no body bytes sent with the head). */
static void
input_continue(struct input *in)
{
    struct rack_conn *c = in->conn;
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";

    if (c->continue_sent || c->head_sent || in->had_initial ||
        !c->parser.req.expect_continue || c->parser.req.version_minor < 1)
        return;
    c->continue_sent = true;
    if (rack_io_write(c->fd, msg, sizeof(msg) - 1, 0) < 0)
        rb_raise(pfruby_eClientShutdown,
                 "cannot write 100 Continue to the client: %s",
                 strerror(errno));
}

static size_t
input_read_size(const struct input *in)
{
    if (in->framing == HTTP_BODY_LENGTH && in->remaining < INPUT_STAGE_SIZE)
        return (size_t)in->remaining;
    return INPUT_STAGE_SIZE;
}

/* Receive the next bytes of the body.  Raises on EOF, timeout, error. */
static void
input_fill_once(struct input *in)
{
    ssize_t n;

    if (in->initial_len > 0) {
        n = (ssize_t)(in->initial_len < INPUT_STAGE_SIZE ? in->initial_len
                                                         : INPUT_STAGE_SIZE);
        memcpy(input_stage, in->initial, (size_t)n);
        in->initial += n;
        in->initial_len -= (size_t)n;
        input_ingest(in, (size_t)n);
        return;
    }
    if (in->conn == NULL)
        rb_raise(rb_eIOError, "rack.input: the request is over");
    input_continue(in);
    n = rack_io_read(in->conn->fd, input_stage, input_read_size(in));
    if (n > 0) {
        input_ingest(in, (size_t)n);
        return;
    }
    if (n == 0)
        rb_raise(pfruby_eClientShutdown,
                 "client closed the connection before the end of the body "
                 "(%llu bytes received)",
                 (unsigned long long)in->st.stored);
    if (errno == ETIMEDOUT)
        rb_raise(pfruby_eClientShutdown,
                 "timed out reading the request body (%llu bytes received)",
                 (unsigned long long)in->st.stored);
    rb_sys_fail("read(client)");
}

/* Receive until want bytes are readable or the body is complete. */
static void
input_fill(struct input *in, uint64_t want)
{
    while (!in->eof && in->st.stored - in->st.pos < want)
        input_fill_once(in);
}

/* ---- reading ------------------------------------------------------------ */

/* n bytes at pos into buf (a String, replaced) or a new String. */
static VALUE
input_take(struct input *in, uint64_t n, VALUE buf)
{
    if (n > LONG_MAX)
        rb_raise(rb_eRangeError, "rack.input: body too large to read");
    if (NIL_P(buf)) {
        buf = rb_str_buf_new((long)n);
    } else {
        rb_str_modify(buf);
        rb_str_resize(buf, 0);
        rb_str_modify_expand(buf, (long)n);
        rb_enc_associate(buf, rb_ascii8bit_encoding()); /* as IO#read */
    }
    body_store_copy(&in->st, RSTRING_PTR(buf), (size_t)n);
    rb_str_set_len(buf, (long)n);
    return buf;
}

/*
 * read, read(nil), read(len), read(len, buf), read(nil, buf) as IO#read:
 * without a length, the rest of the body ("" at the end); with one, up
 * to len bytes, nil at the end (len > 0).
 */
static VALUE
input_read(int argc, VALUE *argv, VALUE self)
{
    struct input *in = input_get(self);
    VALUE vlen, buf;
    long len;

    rb_scan_args(argc, argv, "02", &vlen, &buf);
    if (!NIL_P(buf))
        StringValue(buf);
    if (NIL_P(vlen)) {
        input_fill(in, UINT64_MAX);
        return input_take(in, in->st.stored - in->st.pos, buf);
    }
    len = NUM2LONG(vlen);
    if (len < 0)
        rb_raise(rb_eArgError, "negative length %ld given", len);
    if (len == 0)
        return input_take(in, 0, buf);
    input_fill(in, (uint64_t)len);
    if (in->st.stored == in->st.pos) {
        if (!NIL_P(buf))
            rb_str_resize(buf, 0);
        return Qnil;
    }
    if (in->st.stored - in->st.pos < (uint64_t)len)
        len = (long)(in->st.stored - in->st.pos);
    return input_take(in, (uint64_t)len, buf);
}

/* The next line with its "\n", the rest at the end, nil after it. */
static VALUE
input_gets_line(struct input *in)
{
    uint64_t scanned = in->st.pos;

    for (;;) {
        int64_t nl = body_store_find_newline(&in->st, scanned);

        if (nl >= 0)
            return input_take(in, (uint64_t)nl + 1 - in->st.pos, Qnil);
        scanned = in->st.stored;
        if (in->eof) {
            if (in->st.stored == in->st.pos)
                return Qnil;
            return input_take(in, in->st.stored - in->st.pos, Qnil);
        }
        input_fill_once(in);
    }
}

static VALUE
input_gets(VALUE self)
{
    return input_gets_line(input_get(self));
}

/* each { |line| }: yields every line; returns self. */
static VALUE
input_each(VALUE self)
{
    VALUE line;

    RETURN_ENUMERATOR(self, 0, 0);
    while (!NIL_P(line = input_gets_line(input_get(self))))
        rb_yield(line);
    return self;
}

/* rewind: back to the first byte; 0.  Pitchfork::Input only: its
 * instances are rewindable. */
static VALUE
input_rewind(VALUE self)
{
    struct input *in = input_get(self);

    in->st.pos = 0;
    return INT2FIX(0);
}

/* size: the body length, read to the end first when chunked. */
static VALUE
input_size(VALUE self)
{
    struct input *in = input_get(self);

    if (in->framing == HTTP_BODY_LENGTH)
        return ULL2NUM(in->st.stored + in->remaining);
    if (!in->st.rewindable)
        rb_raise(rb_eIOError, "size of a streaming chunked rack.input is "
                              "unknown");
    input_fill(in, UINT64_MAX);
    return ULL2NUM(in->st.stored);
}

/* close: the server closes the input, not the app (Rack SPEC); no-op. */
static VALUE
input_close(VALUE self)
{
    (void)self;
    return Qnil;
}

/* ---- server side -------------------------------------------------------- */

void
rack_input_init(const struct settings *s)
{
    cStreamInput = rb_define_class_under(pfruby_mPitchfork, "StreamInput",
                                         rb_cObject);
    rb_define_alloc_func(cStreamInput, input_alloc);
    rb_undef_method(CLASS_OF(cStreamInput), "new");
    rb_define_method(cStreamInput, "read", input_read, -1);
    rb_define_method(cStreamInput, "gets", input_gets, 0);
    rb_define_method(cStreamInput, "each", input_each, 0);
    rb_define_method(cStreamInput, "size", input_size, 0);
    rb_define_method(cStreamInput, "close", input_close, 0);
    cInput = rb_define_class_under(pfruby_mPitchfork, "Input", cStreamInput);
    rb_define_method(cInput, "rewind", input_rewind, 0);
    id_parser_error = rb_intern("pitchfork_parser_error"); /* no "@" */
    input_limit = s->client_body_buffer_size;
    input_rewindable = s->rewindable_input;
    input_empty = input_alloc(input_rewindable ? cInput : cStreamInput);
    rb_gc_register_mark_object(input_empty);
}

VALUE
rack_input_new(struct rack_conn *c)
{
    const struct http_request *r = &c->parser.req;
    struct input *in;
    VALUE obj;

    if (r->framing == HTTP_BODY_NONE ||
        (r->framing == HTTP_BODY_LENGTH && r->content_length == 0))
        return input_empty;
    obj = input_alloc(input_rewindable ? cInput : cStreamInput);
    TypedData_Get_Struct(obj, struct input, &input_type, in);
    in->conn = c;
    in->st.rewindable = input_rewindable;
    in->st.limit = input_limit;
    in->eof = false;
    in->framing = r->framing;
    in->remaining = r->content_length;
    if (r->framing == HTTP_BODY_CHUNKED)
        http_chunked_init(&in->dec, CHUNKED_DEFAULT_MAX_LINE,
                          CHUNKED_DEFAULT_MAX_TRAILER);
    in->initial = c->buf + r->head_len;
    in->initial_len = c->len > r->head_len ? c->len - r->head_len : 0;
    in->had_initial = in->initial_len > 0;
    /* A body known to exceed memory goes to the file from the start. */
    if (in->st.rewindable && r->framing == HTTP_BODY_LENGTH &&
        r->content_length > input_limit)
        body_store_spill(&in->st);
    return obj;
}

void
rack_input_finish(VALUE input)
{
    struct input *in;

    if (NIL_P(input) || input == input_empty)
        return;
    TypedData_Get_Struct(input, struct input, &input_type, in);
    in->conn = NULL;
    in->finished = true;
    in->initial = NULL;
    in->initial_len = 0;
    body_store_release(&in->st);
}

bool
rack_input_unread(VALUE input)
{
    struct input *in;

    if (NIL_P(input) || input == input_empty)
        return false;
    TypedData_Get_Struct(input, struct input, &input_type, in);
    return !in->eof;
}

int
rack_input_error_status(VALUE exc, const char **reason)
{
    VALUE e = rb_attr_get(exc, id_parser_error);

    if (!FIXNUM_P(e)) {
        *reason = "Bad Request";
        return 400;
    }
    *reason = http_parser_error_str((enum http_error)FIX2INT(e));
    return http_parser_error_status((enum http_error)FIX2INT(e));
}
