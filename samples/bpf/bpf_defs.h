/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What dropmon's C samples need from libbpf's bpf_helpers.h and
 * bpf_core_read.h, written out so that building them needs neither libbpf
 * nor kernel headers: clang alone.
 */
#ifndef DROPMON_BPF_DEFS_H
#define DROPMON_BPF_DEFS_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;

/* Places a program or a map in the ELF section the loader reads it from. */
#define SEC(name) __attribute__((section(name), used))

/*
 * BTF-defined maps: each attribute is a pointer member whose pointee type
 * carries the value (an array length for numbers, the type itself for key
 * and value types), which the loader reads from the object's BTF.
 */
#define __uint(attr, val) int (*attr)[val]
#define __type(attr, val) typeof(val) *attr

/* enum bpf_map_type and the update flags of include/uapi/linux/bpf.h. */
#define BPF_MAP_TYPE_HASH 1
#define BPF_ANY 0
#define BPF_NOEXIST 1

/*
 * Helpers are called through their kernel number (enum bpf_func_id); only
 * those the user-space engines implement are declared.
 */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;

/*
 * CO-RE: __builtin_preserve_field_info asks the loader for a fact about a
 * field of the target kernel's type; kind 2 (BPF_FIELD_EXISTS in clang's
 * BPFCORE.h) is 1 when the field exists there, 0 when it does not.
 */
#define BPF_FIELD_EXISTS 2
#define bpf_core_field_exists(field) __builtin_preserve_field_info(field, BPF_FIELD_EXISTS)

#endif
