/* src/flow/key.c: placeholder, being written. */
typedef int np_placeholder_key_t;
