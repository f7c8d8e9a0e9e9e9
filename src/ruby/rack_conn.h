/*
 * One accepted connection and its request: the data every file of the
 * request path reads and writes.  A struct rack_conn lives on the
 * worker's stack for one connection; connection.c owns its life (head,
 * refusals, close, hijack, finish), the files below it only use its
 * fields.  Ruby objects that may outlive it reach it only while the
 * request lasts: rack.input through a pointer dropped when the request
 * ends (rack_input_finish), the env's callables through
 * connection_current, NULL between requests.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_RACK_CONN_H
#define PITCHFORK_RACK_CONN_H

#include <ruby.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "http/http_parser.h"

struct listener;

struct rack_conn {
    int fd;                          /* the client socket, non-blocking */
    const struct listener *listener; /* where it was accepted */
    int listener_index;              /* index in the worker's listeners */
    struct sockaddr_storage peer;    /* from accept4() */
    socklen_t peerlen;
    char *buf;                 /* request bytes read so far */
    size_t len;                /* bytes in buf */
    struct http_parser parser; /* parser.req once the head is in */
    VALUE env;                 /* the Rack env, or Qnil */
    VALUE input;               /* rack.input when a body exists */
    VALUE io;                  /* Ruby socket wrapping fd, or Qnil */
    VALUE status;              /* response status for callbacks */
    VALUE headers;             /* response headers for callbacks */
    VALUE error;               /* the app's exception, or Qnil */
    bool hijacked;             /* the app owns fd: never touch it */
    bool continue_sent;        /* "100 Continue" was written */
    bool head_sent;            /* the final response head is out */
    uint64_t bytes_written;    /* response bytes written */
    int write_errno;           /* first write error, 0 if none */
};

#endif
