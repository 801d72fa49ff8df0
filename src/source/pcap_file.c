/* src/source/pcap_file.c: placeholder, being written. */
typedef int np_placeholder_pcap_file_t;
