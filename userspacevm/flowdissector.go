package userspacevm

import (
	"encoding/binary"
	"fmt"

	"github.com/dropmon/dropmon/skbuff"
)

// The flow dissector's calling convention. The kernel runs a flow
// dissector program from bpf_flow_dissect (net/core/flow_dissector.c),
// which zeroes struct bpf_flow_keys, passes the protocol and the network
// header's offset in n_proto, nhoff and thoff, runs the program and clamps
// nhoff and thoff to the packet afterwards. The engines do the same around
// every run of a FlowDissector program, for a packet that starts with an
// Ethernet header, as BPF_PROG_TEST_RUN runs one: n_proto is the frame's
// EtherType, nhoff = thoff = 14, flags 0. The caller reads the result in
// skbuff.Context.FlowKeys.
const (
	// EthHeaderLen is the Ethernet header a flow dissector's packet starts
	// with: nhoff and thoff before the run.
	EthHeaderLen = 14

	fkNhoff  = skbuff.FlowKeysNhoff
	fkThoff  = skbuff.FlowKeysThoff
	fkNProto = skbuff.FlowKeysNProto
)

// flowDissectorEnter sets up ctx's flow keys for a run over pkt.
func flowDissectorEnter(ctx, pkt []byte) error {
	if len(pkt) < EthHeaderLen {
		return fmt.Errorf("flow dissector: %d bytes: %w", len(pkt), ErrShortPacket)
	}
	keys := ctx[skbuff.FlowKeysOffset : skbuff.FlowKeysOffset+skbuff.FlowKeysSize]
	clear(keys)
	keys[fkNProto], keys[fkNProto+1] = pkt[12], pkt[13]
	binary.LittleEndian.PutUint16(keys[fkNhoff:], EthHeaderLen)
	binary.LittleEndian.PutUint16(keys[fkThoff:], EthHeaderLen)
	return nil
}

// flowDissectorExit clamps nhoff to [14, len(pkt)] and thoff to
// [nhoff, len(pkt)], as bpf_flow_dissect does after the program.
func flowDissectorExit(ctx, pkt []byte) {
	keys := ctx[skbuff.FlowKeysOffset : skbuff.FlowKeysOffset+skbuff.FlowKeysSize]
	le := binary.LittleEndian
	nhoff := min(max(int(le.Uint16(keys[fkNhoff:])), EthHeaderLen), len(pkt))
	thoff := min(max(int(le.Uint16(keys[fkThoff:])), nhoff), len(pkt))
	le.PutUint16(keys[fkNhoff:], uint16(nhoff))
	le.PutUint16(keys[fkThoff:], uint16(thoff))
}
