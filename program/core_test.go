package program

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// dropCountObject is the C drop counter that package samples builds and
// commits (scripts/build-samples.sh): a tracepoint program that reads
// location and, guarded by bpf_core_field_exists, reason of struct
// trace_event_raw_kfree_skb through CO-RE.
var dropCountObject = filepath.Join("..", "samples", "bpf", "dropcount.bpf.o")

// field is a member of a test target's struct trace_event_raw_kfree_skb.
type field struct {
	name   string
	offset uint32 // bytes
	typ    btf.Type
}

var (
	voidPtr   = &btf.Pointer{Target: &btf.Void{}}
	u16       = &btf.Int{Name: "short unsigned int", Size: 2}
	reasonTyp = &btf.Enum{Name: "skb_drop_reason", Size: 4, Values: []btf.EnumValue{{Name: "SKB_DROP_REASON_NOT_SPECIFIED", Value: 2}}}
	entry     = &btf.Struct{Name: "trace_entry", Size: 8, Members: []btf.Member{
		{Name: "type", Type: u16},
		{Name: "flags", Type: &btf.Int{Name: "unsigned char", Size: 1}, Offset: 16},
		{Name: "preempt_count", Type: &btf.Int{Name: "unsigned char", Size: 1}, Offset: 24},
		{Name: "pid", Type: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Offset: 32},
	}}
)

// The record layouts of tracepoint/testdata/kfree_skb_*.format.
var (
	layout618 = []field{{"ent", 0, entry}, {"skbaddr", 8, voidPtr}, {"location", 16, voidPtr},
		{"rx_sk", 24, voidPtr}, {"protocol", 32, u16}, {"reason", 36, reasonTyp}}
	layout61 = []field{{"ent", 0, entry}, {"skbaddr", 8, voidPtr}, {"location", 16, voidPtr},
		{"protocol", 24, u16}, {"reason", 28, reasonTyp}}
	layout510 = []field{{"ent", 0, entry}, {"skbaddr", 8, voidPtr}, {"location", 16, voidPtr},
		{"protocol", 24, u16}}
)

// targetBTF builds a kernel BTF holding struct name with the given members.
func targetBTF(t *testing.T, name string, fields []field) *btf.Spec {
	t.Helper()
	s := &btf.Struct{Name: name}
	for _, f := range fields {
		s.Members = append(s.Members, btf.Member{Name: f.name, Type: f.typ, Offset: btf.Bits(8 * f.offset)})
		size, err := btf.Sizeof(f.typ)
		if err != nil {
			t.Fatal(err)
		}
		s.Size = max(s.Size, (f.offset+uint32(size)+7)&^7)
	}
	b, err := btf.NewBuilder([]btf.Type{s}, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// ctxLoads lists the offsets of the loads through R1, the context, which
// the drop counter reads before it calls anything.
func ctxLoads(insns asm.Instructions) []int16 {
	var offs []int16
	for _, ins := range insns {
		if ins.OpCode.Class() == asm.LdXClass && ins.Src == asm.R1 {
			offs = append(offs, ins.Offset)
		}
	}
	slices.Sort(offs)
	return offs
}

func TestFromELFCORE(t *testing.T) {
	for _, tc := range []struct {
		name     string
		target   *btf.Spec
		want     []int16 // offsets the program reads
		wantNops int     // dead poisoned loads made no-ops
		wantErr  string
	}{
		{name: "6.18 with rx_sk", target: targetBTF(t, "trace_event_raw_kfree_skb", layout618), want: []int16{16, 36}},
		{name: "6.1", target: targetBTF(t, "trace_event_raw_kfree_skb", layout61), want: []int16{16, 28}},
		{name: "5.10 without reason", target: targetBTF(t, "trace_event_raw_kfree_skb", layout510), want: []int16{16}, wantNops: 1},
		{name: "reason not an enum", want: []int16{16}, wantNops: 1, target: targetBTF(t, "trace_event_raw_kfree_skb",
			append(slices.Clone(layout510), field{"reason", 28, &btf.Int{Name: "int", Size: 4}}))},
		{name: "location moved", target: targetBTF(t, "trace_event_raw_kfree_skb", []field{{"location", 40, voidPtr},
			{"reason", 8, reasonTyp}}), want: []int16{8, 40}},
		{name: "no location", target: targetBTF(t, "trace_event_raw_kfree_skb", []field{{"reason", 8, reasonTyp}}),
			wantErr: "field trace_event_raw_kfree_skb.location (byte_off)"},
		{name: "no struct", target: targetBTF(t, "trace_event_raw_consume_skb", layout618),
			wantErr: "cannot relocate field trace_event_raw_kfree_skb.location (byte_off) at \"count_drop((__u64)ctx->location, record_reason(ctx));\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := FromELFWithOptions(dropCountObject, "", "count_drops", &ELFOptions{KernelTypes: tc.target})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				var ie *InsnError
				if !errors.Is(err, ErrNotSupported) || !errors.As(err, &ie) {
					t.Errorf("%v: want an *InsnError matching ErrNotSupported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ctxLoads(p.Insns); !slices.Equal(got, tc.want) {
				t.Errorf("reads the context at %v, want %v", got, tc.want)
			}
			nops := 0
			for i := range p.Insns {
				if btf.CORERelocationMetadata(&p.Insns[i]) != nil {
					t.Errorf("insn %d keeps its CO-RE relocation", i)
				}
				if p.Insns[i].OpCode.JumpOp() == asm.Ja && p.Insns[i].Offset == 0 {
					nops++
				}
			}
			if nops != tc.wantNops {
				t.Errorf("%d no-ops, want %d", nops, tc.wantNops)
			}
			if _, err := Decode(p.Insns); err != nil {
				t.Errorf("decode: %v", err)
			}
		})
	}
}

// TestFromELFCOREKernel relocates against the running kernel's BTF, the
// default target.
func TestFromELFCOREKernel(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("the running kernel has no BTF: %v", err)
	}
	p, err := FromELF(dropCountObject, "tracepoint/skb/kfree_skb", "")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	var s *btf.Struct
	if err := spec.TypeByName("trace_event_raw_kfree_skb", &s); err != nil {
		t.Fatal(err)
	}
	var want []int16
	for _, m := range s.Members {
		if m.Name == "location" || m.Name == "reason" {
			want = append(want, int16(m.Offset/8))
		}
	}
	slices.Sort(want)
	if got := ctxLoads(p.Insns); !slices.Equal(got, want) {
		t.Errorf("reads the context at %v, want %v (the kernel's offsets)", got, want)
	}
}

func TestFromELFCORENoKernelBTF(t *testing.T) {
	defer func(f func() (*btf.Spec, error)) { loadKernelSpec = f }(loadKernelSpec)
	loadKernelSpec = func() (*btf.Spec, error) {
		return nil, fmt.Errorf("no BTF: %w", btf.ErrNotSupported)
	}
	_, err := FromELF(dropCountObject, "", "")
	if err == nil || !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "ELFOptions.KernelTypes") {
		t.Fatalf("err = %v, want ErrNotSupported and advice", err)
	}
	if !errors.Is(err, btf.ErrNotSupported) {
		t.Errorf("%v does not wrap the cause", err)
	}
}
