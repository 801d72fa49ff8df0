/* src/pipeline/single.c: placeholder, being written. */
typedef int np_placeholder_single_t;
