/* core/cursor.h: the bounded cursor through which all untrusted bytes are read.
 *
 * A read past the end returns 0 and sets the sticky flag 'bad', so a parser
 * reads a whole header and checks once. A length declared by a header
 * becomes a sub-cursor (np_cur_take), so an inner layer cannot read the
 * outer layer's trailer. No pointer arithmetic on packet data happens
 * outside this file.
 */
#ifndef NP_CORE_CURSOR_H
#define NP_CORE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct np_cur {
    const uint8_t *p; /* next unread byte; borrowed */
    size_t left;      /* bytes we may still read */
    bool bad;         /* set by the first read past the end; stays set */
};

static inline struct np_cur np_cur_make(const uint8_t *p, size_t n)
{
    struct np_cur c = { p, n, false };
    return c;
}

/* True when n more bytes can be read; otherwise marks the cursor bad. */
static inline bool np_cur_need(struct np_cur *c, size_t n)
{
    if (c->bad || c->left < n) {
        c->bad = true;
        return false;
    }
    return true;
}

static inline uint8_t np_cur_u8(struct np_cur *c)
{
    if (!np_cur_need(c, 1))
        return 0;
    uint8_t v = c->p[0];
    c->p += 1;
    c->left -= 1;
    return v;
}

static inline uint16_t np_cur_be16(struct np_cur *c)
{
    if (!np_cur_need(c, 2))
        return 0;
    uint16_t v = (uint16_t)((unsigned)c->p[0] << 8 | c->p[1]);
    c->p += 2;
    c->left -= 2;
    return v;
}

static inline uint16_t np_cur_le16(struct np_cur *c)
{
    if (!np_cur_need(c, 2))
        return 0;
    uint16_t v = (uint16_t)((unsigned)c->p[1] << 8 | c->p[0]);
    c->p += 2;
    c->left -= 2;
    return v;
}

static inline uint32_t np_cur_be32(struct np_cur *c)
{
    if (!np_cur_need(c, 4))
        return 0;
    uint32_t v =
            (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    c->left -= 4;
    return v;
}

static inline uint32_t np_cur_le32(struct np_cur *c)
{
    if (!np_cur_need(c, 4))
        return 0;
    uint32_t v =
            (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 | c->p[0];
    c->p += 4;
    c->left -= 4;
    return v;
}

/* Copies n bytes into dst (zero-filled when short). */
static inline void np_cur_copy(struct np_cur *c, void *dst, size_t n)
{
    if (!np_cur_need(c, n)) {
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, c->p, n);
    c->p += n;
    c->left -= n;
}

static inline void np_cur_skip(struct np_cur *c, size_t n)
{
    if (!np_cur_need(c, n))
        return;
    c->p += n;
    c->left -= n;
}

/* Splits off the next n bytes as a sub-cursor and advances past them. When
 * fewer than n are left, the sub-cursor gets what there is and is bad, and c
 * is marked bad too. */
static inline struct np_cur np_cur_take(struct np_cur *c, size_t n)
{
    struct np_cur sub;
    if (c->bad) {
        sub = np_cur_make(c->p, 0);
        sub.bad = true;
        return sub;
    }
    if (c->left < n) {
        sub = np_cur_make(c->p, c->left);
        sub.bad = true;
        c->p += c->left;
        c->left = 0;
        c->bad = true;
        return sub;
    }
    sub = np_cur_make(c->p, n);
    c->p += n;
    c->left -= n;
    return sub;
}

/* Like np_cur_take, but a short buffer yields what there is without marking
 * either cursor bad: for payloads that a snapshot length may have cut. A
 * cursor that is already bad yields an empty (not bad) sub-cursor. */
static inline struct np_cur np_cur_take_upto(struct np_cur *c, size_t n)
{
    size_t k = c->bad ? 0 : (c->left < n ? c->left : n);
    struct np_cur sub = np_cur_make(c->p, k);
    c->p += k;
    c->left -= k;
    return sub;
}

/* Peeks at byte i ahead without consuming; 0 (and bad) when out of range. */
static inline uint8_t np_cur_peek(struct np_cur *c, size_t i)
{
    if (c->bad || i >= c->left) { /* not np_cur_need(c, i + 1): i + 1 may wrap */
        c->bad = true;
        return 0;
    }
    return c->p[i];
}

#endif
