/*
 * Micro-benchmark of the request-head parser: parses realistic browser
 * and API request heads in a loop (about 2 seconds in all, or the number
 * of seconds given as the only argument) and prints, per sample and
 * overall, requests parsed per second and nanoseconds per request.  Next
 * to each it prints the rate of a memchr-only scan of the same bytes,
 * which finds each line end and stops at the empty line without looking
 * at anything else: the ceiling of any parser that reads the head line
 * by line, and the parser's share of it.  It measures; it checks no
 * threshold.
 *
 * SPDX-License-Identifier: MIT
 */
#include "http/http_parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sample {
    const char *name;
    const char *text;
};

static const struct sample samples[] = {
    {"Chrome GET, cookies",
     "GET /search?q=pitchfork+ruby&hl=en HTTP/1.1\r\n"
     "Host: www.example.com\r\n"
     "Connection: keep-alive\r\n"
     "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", "
     "\"Not-A.Brand\";v=\"99\"\r\n"
     "sec-ch-ua-mobile: ?0\r\n"
     "sec-ch-ua-platform: \"Linux\"\r\n"
     "Upgrade-Insecure-Requests: 1\r\n"
     "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n"
     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
     "image/avif,image/webp,image/apng,*/*;q=0.8,"
     "application/signed-exchange;v=b3;q=0.7\r\n"
     "Sec-Fetch-Site: same-origin\r\n"
     "Sec-Fetch-Mode: navigate\r\n"
     "Sec-Fetch-User: ?1\r\n"
     "Sec-Fetch-Dest: document\r\n"
     "Referer: https://www.example.com/\r\n"
     "Accept-Encoding: gzip, deflate, br, zstd\r\n"
     "Accept-Language: en-US,en;q=0.9,fr;q=0.8\r\n"
     "Cookie: _session_id=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIi"
     "OiIxMjM0NTY3ODkwIiwiaWF0IjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJl; "
     "_ga=GA1.1.123456789.1700000000; theme=dark; locale=en\r\n"
     "\r\n"},
    {"curl GET", "GET /health HTTP/1.1\r\n"
                 "Host: localhost:8080\r\n"
                 "User-Agent: curl/7.88.1\r\n"
                 "Accept: */*\r\n"
                 "\r\n"},
    {"JSON API POST",
     "POST /api/v1/orders?include=items HTTP/1.1\r\n"
     "Host: api.example.com\r\n"
     "Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIi"
     "OiJ1c2VyLTQyIiwic2NvcGUiOiJvcmRlcnM6d3JpdGUifQ.sig\r\n"
     "Content-Type: application/json; charset=utf-8\r\n"
     "Accept: application/json\r\n"
     "Content-Length: 187\r\n"
     "User-Agent: example-client/2.3.1 (ruby 3.3.0)\r\n"
     "X-Request-Id: 3f0c2a9e-7b7d-4a57-9c1e-1c2d3e4f5a6b\r\n"
     "Idempotency-Key: 9b2f6c1e-0d4a-4c9e-8f7b-2a1d3c4e5f60\r\n"
     "\r\n"},
    {"Behind nginx, chunked", "POST /uploads HTTP/1.1\r\n"
                              "Host: app.example.com\r\n"
                              "X-Real-IP: 203.0.113.7\r\n"
                              "X-Forwarded-For: 203.0.113.7, 10.0.0.2\r\n"
                              "X-Forwarded-Proto: https\r\n"
                              "Connection: close\r\n"
                              "Transfer-Encoding: chunked\r\n"
                              "Content-Type: application/octet-stream\r\n"
                              "Expect: 100-continue\r\n"
                              "\r\n"},
    {"Firefox asset GET",
     "GET /assets/application-4f3c2b1a.css HTTP/1.1\r\n"
     "Host: www.example.com\r\n"
     "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) "
     "Gecko/20100101 Firefox/125.0\r\n"
     "Accept: text/css,*/*;q=0.1\r\n"
     "Accept-Language: en-US,en;q=0.5\r\n"
     "Accept-Encoding: gzip, deflate, br\r\n"
     "Referer: https://www.example.com/\r\n"
     "If-None-Match: W/\"4f3c2b1a\"\r\n"
     "\r\n"},
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))
#define BATCH 1024

static volatile size_t sink;

static double
now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Parse text again and again for about seconds; returns the number of
 * requests parsed and their time in *elapsed.  Exits if text does not
 * parse.
 */
static size_t
parse_loop(const char *text, double seconds, double *elapsed)
{
    struct http_header headers[HTTP_DEFAULT_MAX_HEADERS];
    struct http_parser p;
    size_t len = strlen(text), n = 0, i;
    double start = now();

    do {
        for (i = 0; i < BATCH; i++) {
            http_parser_init(&p, NULL, headers);
            if (http_parser_execute(&p, text, len) != 1) {
                fprintf(stderr, "bench: sample does not parse: %s\n",
                        http_parser_error_str(p.error));
                exit(1);
            }
            sink += p.req.head_len;
        }
        n += BATCH;
        *elapsed = now() - start;
    } while (*elapsed < seconds);
    return n;
}

/*
 * The ceiling: find the end of the head of text with memchr alone (each
 * '\n', until one follows "\r\n" directly), again and again for about
 * seconds; returns the number of heads scanned and their time in
 * *elapsed.
 */
static size_t
scan_loop(const char *text, double seconds, double *elapsed)
{
    size_t len = strlen(text), n = 0, i;
    double start = now();

    do {
        for (i = 0; i < BATCH; i++) {
            const char *p = text, *end = text + len, *nl;

            while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
                if (nl - p <= 1) /* "\r\n" alone: the empty line */
                    break;
                p = nl + 1;
            }
            sink += (size_t)(p - text);
        }
        n += BATCH;
        *elapsed = now() - start;
    } while (*elapsed < seconds);
    return n;
}

int
main(int argc, char **argv)
{
    double total = argc > 1 ? atof(argv[1]) : 2.0, all_time = 0;
    double scan_time = 0;
    size_t all = 0, all_bytes = 0, scanned = 0, i;

    if (!(total > 0)) {
        fprintf(stderr, "usage: bench_http_parser [SECONDS]\n");
        return 2;
    }
    printf("%-24s %6s %14s %10s %10s %14s %8s\n", "sample", "bytes",
           "requests/s", "ns/req", "MB/s", "memchr/s", "share");
    for (i = 0; i < NSAMPLES; i++) {
        size_t len = strlen(samples[i].text);
        double t, st, rate, srate;
        size_t n = parse_loop(samples[i].text, total / NSAMPLES / 2, &t);
        size_t sn = scan_loop(samples[i].text, total / NSAMPLES / 2, &st);

        rate = (double)n / t;
        srate = (double)sn / st;
        printf("%-24s %6zu %14.0f %10.1f %10.1f %14.0f %8.3f\n",
               samples[i].name, len, rate, 1e9 / rate,
               rate * (double)len / 1e6, srate, rate / srate);
        all += n;
        all_bytes += n * len;
        all_time += t;
        scanned += sn;
        scan_time += st;
    }
    printf("%-24s %6s %14.0f %10.1f %10.1f %14.0f %8.3f\n", "overall", "",
           (double)all / all_time, 1e9 * all_time / (double)all,
           (double)all_bytes / all_time / 1e6, (double)scanned / scan_time,
           ((double)all / all_time) / ((double)scanned / scan_time));
    return 0;
}
