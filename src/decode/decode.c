/* src/decode/decode.c: placeholder, being written. */
typedef int np_placeholder_decode_t;
