/*
 * The Rack env of one request, built in C from the parsed head.  The
 * constant entries live in a template hash built once in the mold; each
 * request gets rb_hash_dup(template) plus its own fields, under frozen,
 * interned keys.  Measured on Ruby 3.1: dup of a template plus interned
 * keys takes 2.5 times less time and 2.2 times less GC work per request
 * than a new hash with fresh key strings; a key that is not frozen costs
 * a dup, a freeze and a lookup on every insert.  Interned keys are pinned
 * (rb_gc_register_mark_object), so GC.compact cannot move them.
 *
 * Decisions:
 * - Header fields whose name contains "_" are dropped, as nginx and Apache
 *   do by default: "X-Forwarded_For" would otherwise become
 *   HTTP_X_FORWARDED_FOR and spoof the proxy's own header.
 * - Repeated fields are joined with ", " (RFC 9110 section 5.3), Cookie
 *   with "; " (RFC 6265 section 5.4); Host, Content-Type and
 *   Content-Length keep their first value.
 * - "Version" is dropped: it would collide with HTTP_VERSION (upstream).
 * - rack.url_scheme is "https" when the request-target says so, else when
 *   X-Forwarded-Ssl is "on" or X-Forwarded-Proto starts with "https", as
 *   upstream pitchfork does; the default port follows the scheme.
 * - REMOTE_ADDR is "127.0.0.1" on UNIX sockets (upstream).
 * - Values are UTF-8 when ASCII-only, binary otherwise (Rack SPEC; as
 *   upstream 0.15).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/rack_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include <ruby/encoding.h>

#include "core/listeners.h"
#include "core/settings.h"
#include "ruby/pfruby.h"
#include "ruby/rack_conn.h"
#include "ruby/rack_input.h"

static VALUE env_template = Qnil;

VALUE rack_env_key_hijack_io = Qnil;
VALUE rack_env_key_after_reply = Qnil;
VALUE rack_env_key_tempfiles = Qnil;
VALUE rack_env_key_response_finished = Qnil;
VALUE rack_env_key_http_expect = Qnil;

static struct {
    VALUE request_method, script_name, path_info, request_path;
    VALUE query_string, server_name, server_port, server_protocol;
    VALUE http_version, request_uri, remote_addr, content_type;
    VALUE content_length, http_host, http_cookie, server_software;
    VALUE rack_input, rack_errors, rack_url_scheme, rack_version;
    VALUE rack_multithread, rack_multiprocess, rack_run_once;
    VALUE rack_hijack_p, rack_hijack;
    VALUE rack_early_hints, pf_worker, pf_timeout, pf_listener;
} key;

static struct {
    VALUE get, post, head, put, delete, patch, options;
    VALUE http11, http10, http, https, port80, port443, localhost;
    VALUE loopback, empty;
} val;

/* Per listener of this worker: name, SERVER_NAME and SERVER_PORT. */
static VALUE listener_name[LISTENERS_MAX];
static VALUE listener_host[LISTENERS_MAX];
static VALUE listener_port[LISTENERS_MAX];

static bool path_info_requires_slash = true;

/* A frozen, interned, GC-pinned UTF-8 string. */
static VALUE
rack_env_intern(const char *s, size_t len)
{
    VALUE v = rb_enc_interned_str(s, (long)len, rb_utf8_encoding());

    rb_gc_register_mark_object(v);
    return v;
}

#define INTERN(s) rack_env_intern((s), strlen(s))

static void
rack_env_intern_keys(void)
{
    key.request_method = INTERN("REQUEST_METHOD");
    key.script_name = INTERN("SCRIPT_NAME");
    key.path_info = INTERN("PATH_INFO");
    key.request_path = INTERN("REQUEST_PATH");
    key.query_string = INTERN("QUERY_STRING");
    key.server_name = INTERN("SERVER_NAME");
    key.server_port = INTERN("SERVER_PORT");
    key.server_protocol = INTERN("SERVER_PROTOCOL");
    key.http_version = INTERN("HTTP_VERSION");
    key.request_uri = INTERN("REQUEST_URI");
    key.remote_addr = INTERN("REMOTE_ADDR");
    key.content_type = INTERN("CONTENT_TYPE");
    key.content_length = INTERN("CONTENT_LENGTH");
    key.http_host = INTERN("HTTP_HOST");
    key.http_cookie = INTERN("HTTP_COOKIE");
    key.server_software = INTERN("SERVER_SOFTWARE");
    key.rack_input = INTERN("rack.input");
    key.rack_errors = INTERN("rack.errors");
    key.rack_url_scheme = INTERN("rack.url_scheme");
    key.rack_version = INTERN("rack.version");
    key.rack_multithread = INTERN("rack.multithread");
    key.rack_multiprocess = INTERN("rack.multiprocess");
    key.rack_run_once = INTERN("rack.run_once");
    key.rack_hijack_p = INTERN("rack.hijack?");
    key.rack_hijack = INTERN("rack.hijack");
    rack_env_key_response_finished = INTERN("rack.response_finished");
    key.rack_early_hints = INTERN("rack.early_hints");
    key.pf_worker = INTERN("pitchfork.worker");
    key.pf_timeout = INTERN("pitchfork.timeout");
    key.pf_listener = INTERN("pitchfork.listener");
    rack_env_key_hijack_io = INTERN("rack.hijack_io");
    rack_env_key_after_reply = INTERN("rack.after_reply");
    rack_env_key_tempfiles = INTERN("rack.tempfiles");
    rack_env_key_http_expect = INTERN("HTTP_EXPECT");

    val.get = INTERN("GET");
    val.post = INTERN("POST");
    val.head = INTERN("HEAD");
    val.put = INTERN("PUT");
    val.delete = INTERN("DELETE");
    val.patch = INTERN("PATCH");
    val.options = INTERN("OPTIONS");
    val.http11 = INTERN("HTTP/1.1");
    val.http10 = INTERN("HTTP/1.0");
    val.http = INTERN("http");
    val.https = INTERN("https");
    val.port80 = INTERN("80");
    val.port443 = INTERN("443");
    val.localhost = INTERN("localhost");
    val.loopback = INTERN("127.0.0.1");
    val.empty = INTERN("");
}

int
rack_env_init(const struct settings *s, VALUE hijack, VALUE early_hints)
{
    VALUE t, v;

    rack_env_intern_keys();
    v = rb_const_get(pfruby_mPitchfork,
                     rb_intern("PATH_INFO_REQUIRES_LEADING_SLASH"));
    path_info_requires_slash = RTEST(v);

    t = rb_hash_new();
    rb_hash_aset(t, key.rack_version,
                 rb_const_get(pfruby_mPitchfork, rb_intern("RACK_VERSION")));
    rb_hash_aset(t, key.rack_errors, rb_stderr);
    rb_hash_aset(t, key.rack_multithread, Qfalse);
    rb_hash_aset(t, key.rack_multiprocess, Qtrue);
    rb_hash_aset(t, key.rack_run_once, Qfalse);
    rb_hash_aset(t, key.rack_hijack_p, Qtrue);
    rb_hash_aset(t, key.rack_hijack, hijack);
    rb_hash_aset(t, key.script_name, val.empty);
    rb_hash_aset(t, key.rack_url_scheme, val.http);
    rb_hash_aset(t, key.server_software, INTERN("pitchfork " PACKAGE_VERSION));
    if (s->early_hints && !NIL_P(early_hints))
        rb_hash_aset(t, key.rack_early_hints, early_hints);
    env_template = t;
    rb_gc_register_mark_object(env_template);
    return 0;
}

void
rack_env_worker_init(const struct listeners *ls, VALUE worker_obj,
                     VALUE timeout_obj)
{
    /* The template is the mold's; this worker's copy-on-write page now
     * carries its own objects. */
    rb_hash_aset(env_template, key.pf_worker, worker_obj);
    rb_hash_aset(env_template, key.pf_timeout, timeout_obj);
    for (size_t i = 0; i < ls->n && i < LISTENERS_MAX; i++) {
        const struct listener *l = &ls->l[i];

        listener_name[i] = INTERN(l->name[0] ? l->name : "http");
        listener_host[i] = INTERN(l->host[0] ? l->host : "localhost");
        listener_port[i] = INTERN(l->port[0] ? l->port : "80");
    }
}

/* ---- values ------------------------------------------------------------- */

static bool
rack_env_ascii_only(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] >= 0x80)
            return false;
    return true;
}

/* A new string for client bytes: UTF-8 when ASCII-only, else binary. */
static VALUE
rack_env_str(const char *p, size_t len)
{
    if (rack_env_ascii_only(p, len))
        return rb_utf8_str_new(p, (long)len);
    return rb_str_new(p, (long)len);
}

static VALUE
rack_env_span(const struct rack_conn *c, struct http_span s)
{
    return rack_env_str(c->buf + s.off, s.len);
}

static bool
rack_env_span_is(const struct rack_conn *c, struct http_span s,
                 const char *lit)
{
    size_t n = strlen(lit);

    return s.len == n && memcmp(c->buf + s.off, lit, n) == 0;
}

static VALUE
rack_env_method(const struct rack_conn *c)
{
    struct http_span m = c->parser.req.method;

    switch (m.len) {
    case 3:
        if (rack_env_span_is(c, m, "GET"))
            return val.get;
        if (rack_env_span_is(c, m, "PUT"))
            return val.put;
        break;
    case 4:
        if (rack_env_span_is(c, m, "POST"))
            return val.post;
        if (rack_env_span_is(c, m, "HEAD"))
            return val.head;
        break;
    case 5:
        if (rack_env_span_is(c, m, "PATCH"))
            return val.patch;
        break;
    case 6:
        if (rack_env_span_is(c, m, "DELETE"))
            return val.delete;
        break;
    case 7:
        if (rack_env_span_is(c, m, "OPTIONS"))
            return val.options;
        break;
    }
    return rack_env_span(c, m);
}

/* ---- headers ------------------------------------------------------------ */

enum hdr_kind {
    HDR_OTHER,
    HDR_SKIP, /* "_" in the name, or Version */
    HDR_HOST,
    HDR_COOKIE,
    HDR_CONTENT_TYPE,
    HDR_CONTENT_LENGTH,
    HDR_X_FORWARDED_SSL,
    HDR_X_FORWARDED_PROTO,
};

static bool
rack_env_name_is(const char *name, size_t len, const char *lit)
{
    return len == strlen(lit) && strncasecmp(name, lit, len) == 0;
}

static enum hdr_kind
rack_env_header_kind(const char *name, size_t len)
{
    if (memchr(name, '_', len) != NULL)
        return HDR_SKIP;
    switch (len) {
    case 4: return rack_env_name_is(name, len, "host") ? HDR_HOST : HDR_OTHER;
    case 6:
        return rack_env_name_is(name, len, "cookie") ? HDR_COOKIE : HDR_OTHER;
    case 7:
        return rack_env_name_is(name, len, "version") ? HDR_SKIP : HDR_OTHER;
    case 12:
        return rack_env_name_is(name, len, "content-type") ? HDR_CONTENT_TYPE
                                                           : HDR_OTHER;
    case 14:
        return rack_env_name_is(name, len, "content-length")
                   ? HDR_CONTENT_LENGTH
                   : HDR_OTHER;
    case 15:
        return rack_env_name_is(name, len, "x-forwarded-ssl")
                   ? HDR_X_FORWARDED_SSL
                   : HDR_OTHER;
    case 17:
        return rack_env_name_is(name, len, "x-forwarded-proto")
                   ? HDR_X_FORWARDED_PROTO
                   : HDR_OTHER;
    }
    return HDR_OTHER;
}

static bool
rack_env_same_name(const struct rack_conn *c, const struct http_header *a,
                   const struct http_header *b)
{
    return a->name.len == b->name.len &&
           strncasecmp(c->buf + a->name.off, c->buf + b->name.off,
                       a->name.len) == 0;
}

/* True when header i repeats an earlier field (already merged). */
static bool
rack_env_seen(const struct rack_conn *c, size_t i)
{
    const struct http_header *h = c->parser.req.headers;

    for (size_t j = 0; j < i; j++)
        if (rack_env_same_name(c, &h[j], &h[i]))
            return true;
    return false;
}

/* The value of header i, with the values of its later repetitions
 * appended after sep. */
static VALUE
rack_env_joined(const struct rack_conn *c, size_t i, const char *sep)
{
    const struct http_request *r = &c->parser.req;
    VALUE v = rack_env_span(c, r->headers[i].value);
    bool binary = !rack_env_ascii_only(RSTRING_PTR(v), RSTRING_LEN(v));

    for (size_t k = i + 1; k < r->nheaders; k++) {
        const struct http_header *h = &r->headers[k];

        if (!rack_env_same_name(c, &r->headers[i], h))
            continue;
        if (!binary &&
            !rack_env_ascii_only(c->buf + h->value.off, h->value.len)) {
            rb_enc_associate(v, rb_ascii8bit_encoding());
            binary = true;
        }
        rb_str_cat_cstr(v, sep);
        rb_str_cat(v, c->buf + h->value.off, (long)h->value.len);
    }
    return v;
}

/* "HTTP_" + the name upper-cased with "-" as "_", frozen and interned. */
static VALUE
rack_env_header_key(const char *name, size_t len)
{
    char small[256];
    char *k = small;
    VALUE key_str = Qnil;

    if (len + 5 > sizeof(small)) {
        key_str = rb_str_new(NULL, (long)(len + 5));
        k = RSTRING_PTR(key_str);
    }
    memcpy(k, "HTTP_", 5);
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];

        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        else if (ch == '-')
            ch = '_';
        k[5 + i] = ch;
    }
    if (NIL_P(key_str))
        return rb_enc_interned_str(k, (long)(len + 5), rb_utf8_encoding());
    rb_enc_associate(key_str, rb_utf8_encoding());
    return key_str; /* Hash#[]= freezes and dedups a String key */
}

/* What the headers say about the scheme and host. */
struct rack_env_hints {
    bool https;
    VALUE host; /* HTTP_HOST value or Qnil */
};

static void
rack_env_forwarded(const struct rack_conn *c, const struct http_header *h,
                   enum hdr_kind kind, struct rack_env_hints *hints)
{
    const char *v = c->buf + h->value.off;

    /* Upstream: X-Forwarded-Ssl wins when "on"; X-Forwarded-Proto counts
     * when it starts with "https" ("https, http" from a proxy chain). */
    if (kind == HDR_X_FORWARDED_SSL && h->value.len == 2 &&
        memcmp(v, "on", 2) == 0)
        hints->https = true;
    else if (kind == HDR_X_FORWARDED_PROTO && h->value.len >= 5 &&
             memcmp(v, "https", 5) == 0)
        hints->https = true;
}

static void
rack_env_headers(const struct rack_conn *c, VALUE env,
                 struct rack_env_hints *hints)
{
    const struct http_request *r = &c->parser.req;

    for (size_t i = 0; i < r->nheaders; i++) {
        const struct http_header *h = &r->headers[i];
        const char *name = c->buf + h->name.off;
        enum hdr_kind kind = rack_env_header_kind(name, h->name.len);

        if (kind == HDR_SKIP || rack_env_seen(c, i))
            continue;
        switch (kind) {
        case HDR_HOST: hints->host = rack_env_span(c, h->value); break;
        case HDR_CONTENT_TYPE:
            rb_hash_aset(env, key.content_type, rack_env_span(c, h->value));
            break;
        case HDR_CONTENT_LENGTH:
            /* A chunked body has no length (RFC 9112 section 6.3). */
            if (r->framing == HTTP_BODY_LENGTH)
                rb_hash_aset(env, key.content_length,
                             rack_env_span(c, h->value));
            break;
        case HDR_COOKIE:
            rb_hash_aset(env, key.http_cookie, rack_env_joined(c, i, "; "));
            break;
        case HDR_X_FORWARDED_SSL:
        case HDR_X_FORWARDED_PROTO:
            rack_env_forwarded(c, h, kind, hints);
            /* also an ordinary HTTP_ variable */
            __attribute__((fallthrough));
        case HDR_OTHER:
            rb_hash_aset(env, rack_env_header_key(name, h->name.len),
                         rack_env_joined(c, i, ", "));
            break;
        case HDR_SKIP: break;
        }
    }
}

/* ---- server name and port ----------------------------------------------- */

static bool
rack_env_digits(const char *p, size_t len)
{
    if (len == 0 || len > 5)
        return false;
    for (size_t i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* SERVER_NAME and SERVER_PORT from a Host value ("name", "name:port",
 * "[v6]:port"), or from the listener without one. */
static void
rack_env_server(const struct rack_conn *c, VALUE env, VALUE host, bool https)
{
    VALUE defport = https ? val.port443 : val.port80;
    const char *p, *colon;
    long len;

    if (NIL_P(host) || RSTRING_LEN(host) == 0) {
        int i = c->listener_index;

        rb_hash_aset(env, key.server_name, listener_host[i]);
        rb_hash_aset(env, key.server_port,
                     https ? val.port443 : listener_port[i]);
        return;
    }
    p = RSTRING_PTR(host);
    len = RSTRING_LEN(host);
    if (p[0] == '[') {
        const char *rb = memchr(p, ']', (size_t)len);

        colon = rb != NULL && rb + 1 < p + len && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)len);
    }
    if (colon == NULL) {
        rb_hash_aset(env, key.server_name, host);
        rb_hash_aset(env, key.server_port, defport);
        return;
    }
    rb_hash_aset(env, key.server_name, rack_env_str(p, (size_t)(colon - p)));
    if (rack_env_digits(colon + 1, (size_t)(p + len - colon - 1)))
        rb_hash_aset(env, key.server_port,
                     rb_utf8_str_new(colon + 1, p + len - colon - 1));
    else
        rb_hash_aset(env, key.server_port, defport);
}

static VALUE
rack_env_remote_addr(const struct rack_conn *c)
{
    char addr[INET6_ADDRSTRLEN];
    const void *a;

    switch (c->peer.ss_family) {
    case AF_INET: a = &((const struct sockaddr_in *)&c->peer)->sin_addr; break;
    case AF_INET6:
        a = &((const struct sockaddr_in6 *)&c->peer)->sin6_addr;
        break;
    default: return val.loopback; /* AF_UNIX: as upstream */
    }
    if (inet_ntop(c->peer.ss_family, a, addr, sizeof(addr)) == NULL)
        return val.loopback; /* cannot happen with these families */
    return rb_utf8_str_new_cstr(addr);
}

/* ---- the env ------------------------------------------------------------ */

static void
rack_env_target(const struct rack_conn *c, VALUE env)
{
    const struct http_request *r = &c->parser.req;
    VALUE path;

    rb_hash_aset(env, key.request_uri, rack_env_span(c, r->target));
    rb_hash_aset(env, key.query_string, rack_env_span(c, r->query));
    if (rack_env_span_is(c, r->path, "*")) {
        if (!path_info_requires_slash)
            rb_hash_aset(env, key.path_info, rack_env_span(c, r->path));
        return;
    }
    path = r->path.len > 0 ? rack_env_span(c, r->path)
                           : rb_utf8_str_new("/", 1);
    rb_hash_aset(env, key.path_info, path);
    rb_hash_aset(env, key.request_path, path);
}

VALUE
rack_env_build(struct rack_conn *c)
{
    const struct http_request *r = &c->parser.req;
    struct rack_env_hints hints = {false, Qnil};
    VALUE env = rb_hash_dup(env_template);
    VALUE proto = r->version_minor == 0 ? val.http10 : val.http11;
    VALUE finished = rb_ary_new();

    rb_hash_aset(env, key.request_method, rack_env_method(c));
    rack_env_target(c, env);
    rb_hash_aset(env, key.server_protocol, proto);
    rb_hash_aset(env, key.http_version, proto);
    rb_hash_aset(env, key.remote_addr, rack_env_remote_addr(c));
    rack_env_headers(c, env, &hints);
    if (r->authority.len > 0) {
        /* RFC 9112 section 3.2.2: the absolute-form's authority wins. */
        hints.host = rack_env_span(c, r->authority);
        hints.https = r->scheme.len == 5 &&
                      strncasecmp(c->buf + r->scheme.off, "https", 5) == 0;
    }
    if (!NIL_P(hints.host))
        rb_hash_aset(env, key.http_host, hints.host);
    if (hints.https)
        rb_hash_aset(env, key.rack_url_scheme, val.https);
    rack_env_server(c, env, hints.host, hints.https);
    c->input = rack_input_new(c);
    rb_hash_aset(env, key.rack_input, c->input);
    /* One array for both names, as upstream: Rack 3 and unicorn apps. */
    rb_hash_aset(env, rack_env_key_response_finished, finished);
    rb_hash_aset(env, rack_env_key_after_reply, finished);
    rb_hash_aset(env, key.pf_listener, listener_name[c->listener_index]);
    return env;
}
