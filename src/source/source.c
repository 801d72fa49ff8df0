/* src/source/source.c: placeholder, being written. */
typedef int np_placeholder_source_t;
