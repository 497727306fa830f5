package protocount_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/samples/sockex/protocount"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// versions are the two builds of the counter.
func versions(t *testing.T) map[string]*program.Program {
	t.Helper()
	c, err := protocount.FromObject()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*program.Program{"asm": protocount.Program(), "c": c}
}

// packet is one run: the __sk_buff fields and the frame.
type packet struct {
	name    string
	pktType uint32
	proto   uint16 // EtherType
	frame   []byte
	wantKey int // the key counted, or -1 for none
}

// frame returns an Ethernet frame of n bytes with the given EtherType and
// byte b at offset at.
func frame(n int, etherType uint16, at int, b byte) []byte {
	f := make([]byte, n)
	binary.BigEndian.PutUint16(f[12:], etherType)
	if at < n {
		f[at] = b
	}
	return f
}

var packets = []packet{
	{name: "ipv4 tcp", proto: 0x0800, frame: frame(54, 0x0800, 23, 6), wantKey: 6},
	{name: "ipv4 udp", proto: 0x0800, frame: frame(42, 0x0800, 23, 17), wantKey: 17},
	{name: "ipv4 icmp broadcast", pktType: skbuff.PacketBroadcast, proto: 0x0800, frame: frame(98, 0x0800, 23, 1), wantKey: 1},
	{name: "ipv6 udp", proto: 0x86dd, frame: frame(62, 0x86dd, 20, 17), wantKey: 17},
	{name: "ipv6 hop-by-hop counts under 0", proto: 0x86dd, frame: frame(90, 0x86dd, 20, 0), wantKey: 0},
	{name: "arp is not ip", pktType: skbuff.PacketBroadcast, proto: 0x0806, frame: frame(42, 0x0806, 23, 6), wantKey: protocount.KeyNotIP},
	{name: "outgoing tcp is skipped", pktType: skbuff.PacketOutgoing, proto: 0x0800, frame: frame(54, 0x0800, 23, 6), wantKey: -1},
	{name: "other host udp", pktType: skbuff.PacketOtherHost, proto: 0x0800, frame: frame(60, 0x0800, 23, 17), wantKey: 17},
	// LD_ABS past the end ends the program with 0: nothing counted.
	{name: "truncated ipv4", proto: 0x0800, frame: frame(20, 0x0800, 23, 6), wantKey: -1},
}

// TestCount runs both versions on both user-space engines over the same
// packets: each must count exactly the packets and bytes expected, and
// return 0 for every packet.
func TestCount(t *testing.T) {
	want := map[uint32]protocount.Count{}
	for _, p := range packets {
		if p.wantKey >= 0 {
			want[uint32(p.wantKey)] = want[uint32(p.wantKey)].Add(protocount.Count{Packets: 1, Bytes: uint64(len(p.frame))})
		}
	}
	engines := map[string]userspacevm.Engine{"interp": userspacevm.Interp{}, "jit": jit.Engine{}}
	for vname, prog := range versions(t) {
		for ename, engine := range engines {
			t.Run(vname+"/"+ename, func(t *testing.T) {
				v, err := verifier.Verify(prog, nil)
				if err != nil {
					t.Fatalf("verify: %+v", err)
				}
				prep, err := userspacevm.PrepareVerified(v, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer prep.Close()
				r, err := engine.Load(prep)
				if errors.Is(err, jit.ErrNotSupported) {
					t.Skip(err)
				}
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				var skb skbuff.Context
				for _, p := range packets {
					skb.Set(&skbuff.Fields{Len: uint32(len(p.frame)), PktType: p.pktType, Protocol: p.proto})
					r0, err := r.Run(skb.Bytes(), &userspacevm.RunContext{Packet: p.frame})
					if err != nil || r0 != 0 {
						t.Errorf("%s: Run = %d, %v; want 0, nil", p.name, r0, err)
					}
				}
				m := prep.Maps[0]
				for k := range uint32(protocount.Entries) {
					v, err := m.Lookup(binary.NativeEndian.AppendUint32(nil, k))
					if err != nil {
						t.Fatal(err)
					}
					got, err := protocount.DecodeValue(v)
					if err != nil {
						t.Fatal(err)
					}
					if got != want[k] {
						t.Errorf("key %d: %+v, want %+v", k, got, want[k])
					}
				}
			})
		}
	}
}

// TestSameMap checks that both versions declare the map the sample reads.
func TestSameMap(t *testing.T) {
	for name, prog := range versions(t) {
		t.Run(name, func(t *testing.T) {
			if prog.Type != program.SocketFilter || prog.Name != protocount.ProgramName {
				t.Errorf("program %s of type %s, want %s of type socket_filter", prog.Name, prog.Type, protocount.ProgramName)
			}
			if len(prog.Maps) != 1 {
				t.Fatalf("%d maps, want 1", len(prog.Maps))
			}
			m, want := prog.Maps[0], protocount.MapSpec()
			if m.Name != want.Name || m.Type != want.Type || m.KeySize != want.KeySize ||
				m.ValueSize != want.ValueSize || m.MaxEntries != want.MaxEntries {
				t.Errorf("map %+v, want %+v", m, want)
			}
		})
	}
}

// TestKernelLoad checks that the kernel's verifier accepts both versions.
func TestKernelLoad(t *testing.T) {
	for name, prog := range versions(t) {
		t.Run(name, func(t *testing.T) {
			spec, err := prog.KernelSpec()
			if err != nil {
				t.Fatal(err)
			}
			coll, err := ebpf.NewCollection(spec)
			testutil.Privileged(t, err)
			if err != nil {
				t.Fatalf("%+v", err)
			}
			coll.Close()
		})
	}
}

func TestTotals(t *testing.T) {
	one := func(p, b uint64) protocount.Count { return protocount.Count{Packets: p, Bytes: b} }
	tests := []struct {
		name   string
		values map[uint32]protocount.Count
		want   protocount.Totals
	}{
		{name: "empty", values: nil, want: protocount.Totals{}},
		{name: "tcp and udp", values: map[uint32]protocount.Count{6: one(2, 100), 17: one(3, 150)},
			want: protocount.Totals{TCP: one(2, 100), UDP: one(3, 150)}},
		{name: "other ip and not ip", values: map[uint32]protocount.Count{1: one(1, 98), 0: one(1, 90), 255: one(4, 168)},
			want: protocount.Totals{Other: one(6, 356), NotIP: one(4, 168)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocount.Read(func(k uint32) ([]byte, error) {
				v := tt.values[k]
				return binary.NativeEndian.AppendUint64(binary.NativeEndian.AppendUint64(nil, v.Packets), v.Bytes), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Read = %+v, want %+v", got, tt.want)
			}
			if d := got.Sub(got); d != (protocount.Totals{}) {
				t.Errorf("t.Sub(t) = %+v", d)
			}
		})
	}
	if _, err := protocount.DecodeValue(make([]byte, 8)); err == nil {
		t.Error("DecodeValue accepted 8 bytes")
	}
	if _, err := protocount.Read(func(uint32) ([]byte, error) { return nil, errors.New("gone") }); err == nil {
		t.Error("Read hid the lookup's error")
	}
}
