/* cli/summary.h: the end-of-run summary on standard error. */
#ifndef NP_CLI_SUMMARY_H
#define NP_CLI_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>

struct np_source_stats;
struct np_track;

/* Packets read, filtered and tracked; flows by end reason; every non-zero
 * anomaly counter by name; for a live source (live) always the kernel's and
 * the interface's drops. */
void np_summary_print(FILE *f, const char *cmd, const struct np_source_stats *ss,
                      struct np_track *trk, bool live);

#endif
