// Package monitor wires dropmon's data path together: the skb:kfree_skb
// tracepoint on every CPU, one goroutine per CPU that reads its ring and
// runs the drop-counting program on an engine, and the program's map, which
// the caller reads every interval. It is what the dropmon command runs, and
// what its tests drive directly (with a pid filter, for exact counts).
package monitor
