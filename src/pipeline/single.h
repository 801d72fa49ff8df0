/* pipeline/single.h: the single-threaded runner: one shard driven inline.
 *
 * Reads batches from the source and hands them to the shard's tracker until
 * the source ends, a limit is reached or np_source_stop() is called (from a
 * signal handler); then ends every remaining flow. The same tracker code runs
 * in each shard of the multi-core pipeline.
 */
#ifndef NP_PIPELINE_SINGLE_H
#define NP_PIPELINE_SINGLE_H

#include "core/err.h"

struct np_batch;
struct np_source;
struct np_track;

/* Called after each batch was processed (an output flush, say), with the
 * batch, whose packets stay valid during the call; a result other than
 * NP_OK stops the run with that error. */
typedef enum np_rc np_batch_done_fn(const struct np_batch *b, void *ctx, struct np_err *err);

/* Runs to the end. after may be NULL. Returns NP_OK, or the source's or
 * after's error (err set) after the flows seen so far were ended. */
enum np_rc np_run_single(struct np_source *src, struct np_track *trk, np_batch_done_fn *after,
                         void *ctx, struct np_err *err);

#endif
