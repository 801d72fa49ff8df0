/* src/cli/flows.c: placeholder, being written. */
typedef int np_placeholder_flows_t;
