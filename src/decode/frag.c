/* src/decode/frag.c: placeholder, being written. */
typedef int np_placeholder_frag_t;
