/* pipeline/single.c: one shard driven inline. */
#include "pipeline/single.h"

#include "core/log.h"
#include "core/packet.h"
#include "flow/track.h"
#include "source/source.h"

/* 4 MiB reads fill a batch; 16384 records covers 4 MiB of minimum-size frames. */
#define BATCH_PKTS  16384u
#define BATCH_BYTES (4u << 20)

enum np_rc np_run_single(struct np_source *src, struct np_track *trk, np_batch_done_fn *after,
                         void *ctx, struct np_err *err)
{
    struct np_batch *b = np_batch_create(BATCH_PKTS, BATCH_BYTES);
    if (b == NULL)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory for packet batches");
    enum np_rc rc;
    do {
        rc = np_source_next(src, b, err);
        np_track_batch(trk, b);
        const char *w = np_source_take_warning(src);
        if (w != NULL)
            np_log_warn("%s", w);
        if (after != NULL) {
            enum np_rc arc = after(b, ctx, err);
            if (arc != NP_OK) {
                rc = arc;
                break;
            }
        }
    } while (rc == NP_OK);
    np_track_finish(trk);
    np_batch_destroy(b);
    return rc == NP_EOF ? NP_OK : rc;
}
