package program

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

func TestParseType(t *testing.T) {
	for typ, name := range typeNames {
		got, err := ParseType(name)
		if err != nil || got != typ {
			t.Errorf("ParseType(%q) = %v, %v; want %v", name, got, err, typ)
		}
		if typ.String() != name {
			t.Errorf("%d.String() = %q, want %q", uint32(typ), typ.String(), name)
		}
	}
	if _, err := ParseType("lsm"); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "tracepoint") {
		t.Errorf("ParseType(lsm): %v", err)
	}
	if Type(99).String() != "Type(99)" {
		t.Errorf("Type(99).String() = %q", Type(99).String())
	}
	// The kernel's numbers.
	if SocketFilter != 1 || XDP != 6 || RawTracepoint != 17 || Tracepoint != 5 {
		t.Error("kernel program type numbers changed")
	}
}

func TestTypeJSON(t *testing.T) {
	var v struct{ Type Type }
	if err := json.Unmarshal([]byte(`{"Type":"raw_tracepoint"}`), &v); err != nil || v.Type != RawTracepoint {
		t.Fatalf("unmarshal: %v, %v", v.Type, err)
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"Type":"raw_tracepoint"}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
}

func TestMapIndex(t *testing.T) {
	p := &Program{
		Maps: []*MapSpec{
			{Name: "counts", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 16},
			{Name: "config", Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1},
		},
		Insns: asm.Instructions{
			asm.LoadMapPtr(asm.R1, 0).WithReference("config"),
			asm.LoadMapPtr(asm.R1, 0),
			asm.LoadMapValue(asm.R2, 1, 8),
			asm.LoadMapPtr(asm.R1, 2),
			asm.LoadMapPtr(asm.R1, 0).WithReference("missing"),
			asm.Return(),
		},
	}
	for i, want := range []int{1, 0, 1} {
		got, err := p.MapIndex(i)
		if err != nil || got != want {
			t.Errorf("MapIndex(%d) = %d, %v; want %d", i, got, err, want)
		}
	}
	if _, err := p.MapIndex(3); err == nil || !strings.Contains(err.Error(), "map index 2 out of range") {
		t.Errorf("MapIndex(3): %v", err)
	}
	if _, err := p.MapIndex(4); err == nil || !strings.Contains(err.Error(), `map "missing"`) {
		t.Errorf("MapIndex(4): %v", err)
	}
	if _, err := p.MapIndex(5); !errors.Is(err, ErrInvalid) {
		t.Errorf("MapIndex(5) of exit: %v", err)
	}
	_, err := p.MapRefs()
	if err == nil || !strings.HasPrefix(err.Error(), "insn 6: map index 2") {
		t.Errorf("MapRefs: %v, want insn 6 located (raw slots count lddw twice)", err)
	}
	p.Insns = p.Insns[:3]
	refs, err := p.MapRefs()
	if err != nil {
		t.Fatal(err)
	}
	want := []MapRef{{Slot: 0, Map: 1}, {Slot: 2, Map: 0}, {Slot: 4, Map: 1, Value: true, Offset: 8}}
	for i := range want {
		if refs[i] != want[i] {
			t.Errorf("ref %d = %+v, want %+v", i, refs[i], want[i])
		}
	}
}

func TestHelperNames(t *testing.T) {
	for id, want := range map[asm.BuiltinFunc]string{
		asm.FnMapLookupElem:          "bpf_map_lookup_elem",
		asm.FnGetSmpProcessorId:      "bpf_get_smp_processor_id",
		asm.FnL3CsumReplace:          "bpf_l3_csum_replace",
		asm.FnGetCurrentTaskBtf:      "bpf_get_current_task_btf",
		asm.FnSkcToTcp6Sock:          "bpf_skc_to_tcp6_sock",
		asm.FnDPath:                  "bpf_d_path",
		asm.FnJiffies64:              "bpf_jiffies64",
		asm.FnTcpRawGenSyncookieIpv4: "bpf_tcp_raw_gen_syncookie_ipv4",
		asm.FnCgrpStorageDelete:      "bpf_cgrp_storage_delete",
	} {
		if got := HelperName(id); got != want {
			t.Errorf("HelperName(%d) = %q, want %q", id, got, want)
		}
	}
	if got := DescribeHelper(158); got != "helper 158 (bpf_get_current_task_btf)" {
		t.Errorf("DescribeHelper(158) = %q", got)
	}
	if got := DescribeHelper(100000); got != "helper 100000 (unknown)" {
		t.Errorf("DescribeHelper(100000) = %q", got)
	}
	for id := asm.BuiltinFunc(1); id <= 211; id++ {
		if HelperName(id) == "" {
			t.Errorf("helper %d has no name", id)
		}
	}
}

func TestHelperProtos(t *testing.T) {
	for _, id := range []asm.BuiltinFunc{1, 2, 3, 5, 6, 7, 8, 14, 25, 27} {
		p, ok := Helper(id)
		if !ok {
			t.Errorf("no prototype for %s", DescribeHelper(id))
			continue
		}
		if p.Func != id {
			t.Errorf("prototype for %d says %d", id, p.Func)
		}
		if !p.Allows(Tracepoint) {
			t.Errorf("%s not allowed in tracepoint programs", p.Name())
		}
	}
	lookup, _ := Helper(asm.FnMapLookupElem)
	if lookup.Ret != RetPtrToMapValueOrNull || lookup.NumArgs() != 2 || lookup.Args[1] != ArgPtrToMapKey {
		t.Errorf("bpf_map_lookup_elem: %+v", lookup)
	}
	printk, _ := Helper(asm.FnTracePrintk)
	if got := printk.Args[0].String(); got != "ARG_PTR_TO_MEM|MEM_RDONLY" || !printk.GPLOnly {
		t.Errorf("bpf_trace_printk arg 1: %s, gpl %v", got, printk.GPLOnly)
	}
	stackid, _ := Helper(asm.FnGetStackid)
	if stackid.Allows(XDP) {
		t.Error("bpf_get_stackid allowed in XDP programs")
	}
}

func TestClone(t *testing.T) {
	shared := &MapSpec{Name: "m", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4,
		InnerMap: &MapSpec{Name: "inner", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}}
	p := &Program{Name: "p", Type: Tracepoint, License: "GPL", Maps: []*MapSpec{shared, shared},
		Insns: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()}}
	c := p.Clone()
	if c.Maps[0] != c.Maps[1] {
		t.Error("one spec in two entries became two specs")
	}
	p.Insns[0] = asm.Mov.Imm(asm.R0, 2)
	shared.MaxEntries, shared.InnerMap.MaxEntries = 99, 99
	p.Maps[1] = nil
	if c.Insns[0].Constant != 1 || c.Maps[0].MaxEntries != 4 || c.Maps[0].InnerMap.MaxEntries != 1 || c.Maps[1] == nil {
		t.Errorf("the copy changed with the original: %v, %+v", c.Insns, c.Maps)
	}
	if (*Program)(nil).Clone() != nil || (&Program{}).Clone().Maps != nil {
		t.Error("Clone of nil or of no maps")
	}
}

func TestKernelSpec(t *testing.T) {
	m := &MapSpec{Name: "counts", Type: ebpf.Hash, KeySize: 16, ValueSize: 8, MaxEntries: 4, Flags: 1}
	p := &Program{Name: "count", Type: Tracepoint, License: "GPL", Maps: []*MapSpec{m},
		Insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}}
	spec, err := p.KernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	ps, ms := spec.Programs["count"], spec.Maps["counts"]
	if ps == nil || ps.Type != ebpf.TracePoint || ps.License != "GPL" || len(ps.Instructions) != 2 ||
		ms == nil || ms.Type != ebpf.Hash || ms.KeySize != 16 || ms.ValueSize != 8 || ms.MaxEntries != 4 || ms.Flags != 1 {
		t.Fatalf("spec: program %+v, map %+v", ps, ms)
	}
	p.Maps = []*MapSpec{{Name: "outer", Type: ebpf.HashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: m}}
	if _, err := p.KernelSpec(); err == nil || !strings.Contains(err.Error(), "maps of maps") {
		t.Errorf("map of maps: %v", err)
	}
}
