/* text.h - showing untrusted text safely: on a terminal and in a CSV cell.
 *
 * Values come from office PCs, CSV files and master data; some were stored
 * before the control-character rule existed.  Anything printed to a person
 * goes through these, so an escape sequence never reaches a terminal and a
 * cell never runs as a spreadsheet formula.
 */
#ifndef KJ_TEXT_H
#define KJ_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* The UTF-8 sequence at p: its length (1-4) with the code point in *cp, or
 * 0 when p does not start a valid one (overlong forms, surrogates and code
 * points past U+10FFFF are invalid; a NUL is a 1-byte sequence).  The one
 * UTF-8 decoder of the project (kj_utf8_len in proto/record.h counts with
 * it). */
int kj_utf8_next(const unsigned char *p, unsigned *cp);

/* Write s (UTF-8, NULL prints nothing) to out with every control character
 * (C0 below 0x20, DEL 0x7f, and the C1 range U+0080-U+009F) written as a
 * visible escape: "\n", "\t", "\r", "\e" for ESC, else "\xNN" (for C1 the
 * code point, "\u0085").  A backslash is written as "\\" so the output is
 * unambiguous.  Printable text, multi-byte UTF-8 included, is unchanged.
 * Bytes that are not valid UTF-8 are written as "\xNN" each.  Returns the
 * number of bytes written, or -1 on a write error (errno from stdio). */
long kj_term_fputs(const char *s, FILE *out);

/* The same escaping into a buffer: writes at most size-1 bytes and a NUL
 * (truncates on a character boundary); returns the length the whole escaped
 * text needs (like snprintf), so a caller can measure with size 0. */
size_t kj_term_escape(const char *s, char *out, size_t size);

/* 1 when a CSV cell with this text would run as a formula when opened in
 * a spreadsheet: it starts with '=', '+', '-', '@', a tab or a carriage
 * return (OWASP "CSV Injection").  Writers put a single quote before such
 * a cell; readers drop one leading quote from a cell whose text after it
 * is again such a cell (see kj_csv_formula_unguard). */
int kj_csv_formula_trigger(const char *s);

/* The reader's side: when s is "'" followed by a formula trigger, return
 * s + 1 (the original value), else s. */
const char *kj_csv_formula_unguard(const char *s);

/* A malloc'd copy of at most n bytes of s, NUL-terminated (POSIX strndup,
 * which Windows lacks): NULL when memory runs out.  The caller frees it. */
char *kj_strndup(const char *s, size_t n);

#endif
