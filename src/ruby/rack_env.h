/*
 * The Rack env of one request, built in C from the parsed head on a
 * template built once in the mold.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_RACK_ENV_H
#define PITCHFORK_RACK_ENV_H

#include <ruby.h>

struct listeners;
struct rack_conn;
struct settings;

/*
 * Intern the keys and build the env template (in the mold, at boot), with
 * hijack as env["rack.hijack"] and early_hints as env["rack.early_hints"]
 * when s->early_hints is set and it is not Qnil.  Returns 0.  Raises:
 * call protected.
 */
int rack_env_init(const struct settings *s, VALUE hijack, VALUE early_hints);

/* Add this worker's entries (pitchfork.worker, pitchfork.timeout) to the
 * template and intern the names and addresses of ls; in the worker, once. */
void rack_env_worker_init(const struct listeners *ls, VALUE worker_obj,
                          VALUE timeout_obj);

/* Build the env of c's parsed request: a copy of the template plus the
 * request fields and headers, and c->input as rack.input.  Raises on
 * allocation failure only. */
VALUE rack_env_build(struct rack_conn *c);

/* Frozen interned keys used by other modules. */
extern VALUE rack_env_key_hijack_io;         /* "rack.hijack_io" */
extern VALUE rack_env_key_after_reply;       /* "rack.after_reply" */
extern VALUE rack_env_key_tempfiles;         /* "rack.tempfiles" */
extern VALUE rack_env_key_response_finished; /* "rack.response_finished" */
extern VALUE rack_env_key_http_expect;       /* "HTTP_EXPECT" */

#endif
