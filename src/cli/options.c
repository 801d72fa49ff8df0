/* src/cli/options.c: placeholder, being written. */
typedef int np_placeholder_options_t;
