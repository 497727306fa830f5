// Package perfdata writes and reads perf.data files, the format of
// `perf record`, for tracepoint samples such as skb:kfree_skb. Files that
// Create writes are read by `perf script` and `perf report`; Open reads
// those and captures made by `perf record -e skb:kfree_skb -a`, and hands
// back their samples in file order (File.Records) or time order
// (File.SortedRecords, which follows perf's FINISHED_ROUND rule).
//
// The layout follows tools/perf/util/header.c in the kernel tree: a fixed
// "PERFILE2" header, each attr's sample ids, the attr section (each
// perf_event_attr with the place of its ids), the data section of records,
// then the feature sections: a table of offsets, one per bit set in the
// header's feature bitmap, and their contents. Only the little-endian,
// seekable ("normal") variant is handled; pipe-mode, big-endian and
// compressed (perf record -z) files are refused with ErrNotSupported, and
// malformed ones with ErrFormat, both as a *FormatError naming the offset.
// No size field in a file can make the reader allocate more than the file
// holds or loop without progress.
//
// RATIONALE.md says why the writer adds a kernel MMAP and COMM records, why
// attrs are written at 128 bytes, and how report markers show in perf script.
package perfdata
