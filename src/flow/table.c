/* src/flow/table.c: placeholder, being written. */
typedef int np_placeholder_table_t;
