/* src/cli/interfaces.c: placeholder, being written. */
typedef int np_placeholder_interfaces_t;
