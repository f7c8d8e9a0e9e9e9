/*
 * rack.input: Pitchfork::StreamInput and its rewindable subclass
 * Pitchfork::Input, Ruby classes written in C that read the request body
 * from the socket when the app asks for it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_RACK_INPUT_H
#define PITCHFORK_RACK_INPUT_H

#include <ruby.h>
#include <stdbool.h>

struct rack_conn;
struct settings;

/* Define Pitchfork::StreamInput and Pitchfork::Input (at boot).  Raises:
 * call protected. */
void rack_input_init(const struct settings *s);

/* rack.input for c: a new input when the request has a body, else the
 * shared empty input.  Raises. */
VALUE rack_input_new(struct rack_conn *c);

/* The request is over: detach input from the connection, release its
 * buffer and temporary file; later reads raise IOError. */
void rack_input_finish(VALUE input);

/* True when input (or the request without an input) left body bytes
 * unread on the socket. */
bool rack_input_unread(VALUE input);

/* For a Pitchfork::HttpParserError exc: the status the request parser
 * gives its error (400, 431 for a trailer section over the limit) and in
 * *reason a static one-line reason; 400 "Bad Request" for one the app
 * raised itself. */
int rack_input_error_status(VALUE exc, const char **reason);

#endif
