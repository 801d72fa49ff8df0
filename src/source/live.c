/* src/source/live.c: placeholder, being written. */
typedef int np_placeholder_live_t;
