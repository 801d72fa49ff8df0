/* analyze/sampler.c: the first N packets of every TCP session. */
#include "analyze/sampler.h"

#include <stdlib.h>

#include "core/mem.h"
#include "decode/decode.h"

/* Per session, indexed by flow index; reset when the flow is new. */
struct np_sample_state {
    uint16_t taken; /* packets taken, saturating at the cap */
    uint8_t flags;  /* ST_* */
    uint8_t pad;
};

enum {
    ST_ACTIVE = 0x1, /* a session is running on this flow */
    ST_SEEN = 0x2,   /* the flow's first packet has been judged */
};

struct np_sampler {
    struct np_sampler_cfg cfg;
    struct np_sample_state *st; /* owned mapping; max_sessions entries */
    struct np_sampler_stats stats;
};

_Static_assert(sizeof(struct np_sample_state) == 4, "sampler state grew");

struct np_sampler *np_sampler_create(const struct np_sampler_cfg *cfg, struct np_err *err)
{
    struct np_sampler *s = calloc(1, sizeof(*s));
    if (s != NULL) {
        s->cfg = *cfg;
        /* Mapped for every index the table may hand out; pages become real
         * as flows use them (core/mem.h). */
        s->st = np_mem_alloc((size_t)cfg->max_sessions * sizeof(*s->st));
    }
    if (s == NULL || s->st == NULL) {
        np_sampler_destroy(s);
        np_err_set(err, NP_ERR_NOMEM, "out of memory for the sampler");
        return NULL;
    }
    return s;
}

void np_sampler_destroy(struct np_sampler *s)
{
    if (s == NULL)
        return;
    np_mem_free(s->st, (size_t)s->cfg.max_sessions * sizeof(*s->st));
    free(s);
}

void np_sampler_track_cfg(const struct np_sampler_cfg *cfg, struct np_track_cfg *tc)
{
    np_track_cfg_default(tc);
    tc->tcp_only = true;
    tc->timeout_ns[NP_FLOW_CLASS_TCP] = cfg->timeout_ns;
    tc->timeout_ns[NP_FLOW_CLASS_CLOSED] = cfg->timeout_ns;
    tc->max_flows = cfg->max_sessions;
    tc->finish_any_order = true; /* sessions end silently: no order to keep */
}

unsigned np_sampler_packet(struct np_sampler *s, const struct np_flow_pkt *fp)
{
    struct np_sample_state *st = &s->st[fp->idx];
    if (fp->new_flow)
        *st = (struct np_sample_state){ 0 };
    unsigned ev = 0;
    bool syn = (fp->tcp_flags & (NP_TCP_SYN | NP_TCP_ACK)) == NP_TCP_SYN;
    if (!(st->flags & ST_ACTIVE) && !fp->after_close &&
        (syn || (s->cfg.midstream && !(st->flags & ST_SEEN)))) {
        st->flags |= ST_ACTIVE;
        st->taken = 0;
        s->stats.sessions_seen++;
        ev |= NP_SAMPLE_START;
    }
    st->flags |= ST_SEEN;
    if ((st->flags & ST_ACTIVE) && !fp->after_close && st->taken < s->cfg.n) {
        st->taken++;
        s->stats.pkts_taken++;
        s->stats.frames_taken += fp->frag_n ? fp->frag_n : 1;
        ev |= NP_SAMPLE_TAKE;
        if (st->taken == s->cfg.n) {
            s->stats.sessions_full++;
            ev |= NP_SAMPLE_FULL;
        }
    } else {
        s->stats.pkts_passed++;
    }
    return ev;
}

void np_sampler_flow_end(struct np_sampler *s, uint32_t idx, enum np_flow_end why)
{
    if (why == NP_END_EVICTION && (s->st[idx].flags & ST_ACTIVE))
        s->stats.sessions_evicted++;
}

const struct np_sampler_stats *np_sampler_stats(const struct np_sampler *s)
{
    return &s->stats;
}
