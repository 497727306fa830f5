// Package symbolize turns kernel addresses into names, the way the kernel
// prints them with %pS: "symbol+0xoff [module]". It loads /proc/kallsyms
// once into one sorted table (names packed in a few 256 KiB strings, so
// 200k symbols cost a few MB), looks addresses up by binary search without
// allocating, and reloads once when an address falls outside every known
// symbol (a module loaded after the table was read). Loading allocates per
// block of symbols, not per line, and sorts only what the kernel did not
// list in order; RATIONALE.md says what it costs.
package symbolize
