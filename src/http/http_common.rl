/*
 * The character classes of RFC 9110 section 5.6, shared by the Ragel
 * machines of the request head (http_parser.rl) and of the chunked body
 * (http_chunked.rl), which include this machine.  It generates no code
 * of its own.
 *
 * SPDX-License-Identifier: MIT
 */
%%{
    machine http_common;

    CR = "\r";
    LF = "\n";
    ws = [ \t];
    tchar = alnum | [!#$%&'*+\-.^_`|~];
    vchar = 0x21..0x7e | 0x80..0xff;    # VCHAR and obs-text
    field_content = vchar | ws;
}%%
