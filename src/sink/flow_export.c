/* src/sink/flow_export.c: placeholder, being written. */
typedef int np_placeholder_flow_export_t;
