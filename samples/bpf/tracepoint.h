/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The common head of every tracepoint record (struct trace_entry in the
 * kernel's include/linux/trace_events.h), for the samples' local copies of
 * the records, which CO-RE relocates against the kernel's BTF.
 */
#ifndef DROPMON_TRACEPOINT_H
#define DROPMON_TRACEPOINT_H

struct trace_entry {
	__u16 type;
	__u8 flags;
	__u8 preempt_count;
	int pid;
};

#endif
