/*
 * The response to one parsed request: the Rack call and everything it
 * writes (the head, the body, partial hijack, 100 Continue, early hints,
 * the 500 and 400 answers).  connection.c decides when; these files
 * write the bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_RESPONSE_H
#define PITCHFORK_RESPONSE_H

#include <ruby.h>

struct rack_conn;

/* Intern the method names the response files call (at boot). */
void response_init(void);

/* Outcome of one request served by response_serve(). */
enum response_result {
    RESPONSE_DONE, /* served (or the client went away) */
    RESPONSE_EXIT, /* the app raised SystemExit/SignalException */
};

/*
 * Serve the parsed request of c with app: build the env, call the app,
 * write the response (500 when the app raised before anything was sent),
 * close the body.  Does not close the socket.  Exceptions are caught and
 * logged here; the app's is kept in c->error.
 */
enum response_result response_serve(struct rack_conn *c, VALUE app);

/* Write a complete response with a short text/plain body: for requests
 * refused before the app is called, and the app's failures. */
void response_error(struct rack_conn *c, int status, const char *body);

/*
 * A "103 Early Hints" interim response with headers (RFC 8297), unless
 * the final head is out, the connection is hijacked or broken, or the
 * client speaks HTTP/1.0 (RFC 9110 section 15.2).  Raises ArgumentError
 * for an invalid header.
 */
void response_early_hints(struct rack_conn *c, VALUE headers);

#endif
