package maps

import (
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
)

// TestLayoutOffsets checks the contract with generated code: every offset
// constant equals the field's real offset.
func TestLayoutOffsets(t *testing.T) {
	var h Header
	var s SlotHeader
	var st StackHeader
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"HeaderOffMagic", HeaderOffMagic, unsafe.Offsetof(h.Magic)},
		{"HeaderOffType", HeaderOffType, unsafe.Offsetof(h.Type)},
		{"HeaderOffKeySize", HeaderOffKeySize, unsafe.Offsetof(h.KeySize)},
		{"HeaderOffValueSize", HeaderOffValueSize, unsafe.Offsetof(h.ValueSize)},
		{"HeaderOffMaxEntries", HeaderOffMaxEntries, unsafe.Offsetof(h.MaxEntries)},
		{"HeaderOffFlags", HeaderOffFlags, unsafe.Offsetof(h.Flags)},
		{"HeaderOffNumCPUs", HeaderOffNumCPUs, unsafe.Offsetof(h.NumCPUs)},
		{"HeaderOffNumSlots", HeaderOffNumSlots, unsafe.Offsetof(h.NumSlots)},
		{"HeaderOffBucketMask", HeaderOffBucketMask, unsafe.Offsetof(h.BucketMask)},
		{"HeaderOffKeyOffset", HeaderOffKeyOffset, unsafe.Offsetof(h.KeyOffset)},
		{"HeaderOffValueOffset", HeaderOffValueOffset, unsafe.Offsetof(h.ValueOffset)},
		{"HeaderOffValueStride", HeaderOffValueStride, unsafe.Offsetof(h.ValueStride)},
		{"HeaderOffSlotStride", HeaderOffSlotStride, unsafe.Offsetof(h.SlotStride)},
		{"HeaderOffPerCPUStride", HeaderOffPerCPUStride, unsafe.Offsetof(h.PerCPUStride)},
		{"HeaderOffBucketsOff", HeaderOffBucketsOff, unsafe.Offsetof(h.BucketsOff)},
		{"HeaderOffSlotsOff", HeaderOffSlotsOff, unsafe.Offsetof(h.SlotsOff)},
		{"HeaderOffSize", HeaderOffSize, unsafe.Offsetof(h.Size)},
		{"SlotOffState", SlotOffState, unsafe.Offsetof(s.State)},
		{"SlotOffHash", SlotOffHash, unsafe.Offsetof(s.Hash)},
		{"SlotOffNext", SlotOffNext, unsafe.Offsetof(s.Next)},
		{"SlotOffRef", SlotOffRef, unsafe.Offsetof(s.Ref)},
		{"SlotOffKey", SlotOffKey, unsafe.Sizeof(s)},
		{"StackOffHash", StackOffHash, unsafe.Offsetof(st.Hash)},
		{"StackOffNr", StackOffNr, unsafe.Offsetof(st.Nr)},
		{"StackOffIPs", StackOffIPs, unsafe.Sizeof(st)},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, field is at %d", tc.name, tc.got, tc.want)
		}
	}
	if unsafe.Sizeof(h) > HeaderSize {
		t.Errorf("Header is %d bytes, more than HeaderSize %d", unsafe.Sizeof(h), HeaderSize)
	}
}

func TestLayoutHeader(t *testing.T) {
	for _, tc := range []struct {
		name            string
		typ             ebpf.MapType
		key, value, max uint32
		want            Header // the fields compared below
	}{
		{name: "array", typ: ebpf.Array, key: 4, value: 12, max: 10,
			want: Header{NumCPUs: 1, NumSlots: 10, ValueStride: 16, SlotStride: 16, SlotsOff: HeaderSize}},
		{name: "percpu array", typ: ebpf.PerCPUArray, key: 4, value: 8, max: 3,
			want: Header{NumCPUs: testCPUs, NumSlots: 3, ValueStride: 8, SlotStride: 8, PerCPUStride: 64, SlotsOff: HeaderSize}},
		{name: "hash", typ: ebpf.Hash, key: 6, value: 8, max: 100,
			want: Header{NumCPUs: 1, NumSlots: 164, BucketMask: 127, KeyOffset: 16, ValueOffset: 24, ValueStride: 8,
				SlotStride: 32, BucketsOff: HeaderSize, SlotsOff: HeaderSize + 512}},
		{name: "percpu hash", typ: ebpf.PerCPUHash, key: 8, value: 4, max: 1024,
			want: Header{NumCPUs: testCPUs, NumSlots: 1152, BucketMask: 1023, KeyOffset: 16, ValueOffset: 24, ValueStride: 8,
				SlotStride: 24 + 4*8, PerCPUStride: 8, BucketsOff: HeaderSize, SlotsOff: HeaderSize + 4096}},
		{name: "stack trace", typ: ebpf.StackTrace, key: 4, value: 64, max: 100,
			want: Header{NumCPUs: 1, NumSlots: 128, BucketMask: 127, ValueOffset: 8, ValueStride: 64, SlotStride: 72, SlotsOff: HeaderSize}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustNew(t, tc.typ, tc.key, tc.value, tc.max)
			got := m.Layout()
			want := tc.want
			want.Magic, want.Type, want.KeySize, want.ValueSize, want.MaxEntries = HeaderMagic, uint32(tc.typ), tc.key, tc.value, tc.max
			want.Size = got.Size
			if got != want {
				t.Errorf("header\n got %+v\nwant %+v", got, want)
			}
			base, size := m.Block()
			if *(*Header)(base) != got || uint64(size) != got.Size || size%uintptr(pageSize) != 0 {
				t.Errorf("block header or size %d disagrees with %+v", size, got)
			}
			if got.SlotsOff%64 != 0 || got.SlotStride%8 != 0 || (got.PerCPUStride%8 != 0) {
				t.Errorf("slots not aligned: %+v", got)
			}
		})
	}
}

// TestValueAddresses checks that values are 8-byte aligned, where the
// layout says, and do not move while other entries come and go.
func TestValueAddresses(t *testing.T) {
	for _, typ := range []ebpf.MapType{ebpf.Hash, ebpf.PerCPUHash, ebpf.LRUHash, ebpf.Array, ebpf.PerCPUArray} {
		t.Run(typ.String(), func(t *testing.T) {
			m := mustNew(t, typ, 4, 12, 64)
			h := m.Layout()
			addrs := map[uint32][]uint64{}
			for k := range uint32(32) {
				if err := m.Update(u32(k), make([]byte, 12), UpdateAny); err != nil {
					t.Fatal(err)
				}
			}
			for k := range uint32(32) {
				for cpu := range m.NumCPUs() {
					a := m.LookupAddr(u32(k), cpu)
					if a == 0 || a%8 != 0 {
						t.Fatalf("key %d cpu %d: address %#x", k, cpu, a)
					}
					if !m.ValueAccessOK(a-m.Pointer(), 12) || m.ValueAccessOK(a-m.Pointer(), 13) {
						t.Fatalf("key %d cpu %d: ValueAccessOK disagrees with address %#x", k, cpu, a)
					}
					if cpu > 0 && a-addrs[k][cpu-1] != h.PerCPUStride {
						t.Fatalf("key %d: cpu %d's value is %d bytes after cpu %d's, want %d", k, cpu, a-addrs[k][cpu-1], cpu-1, h.PerCPUStride)
					}
					addrs[k] = append(addrs[k], a)
				}
			}
			if m.Kind() == KindHash {
				for k := uint32(100); k < 132; k++ { // churn other keys
					_ = m.Update(u32(k), make([]byte, 12), UpdateAny)
					if k%2 == 0 {
						_ = m.Delete(u32(k))
					}
				}
				for k := range uint32(16) {
					_ = m.Delete(u32(k))
				}
			}
			for k := uint32(16); k < 32; k++ {
				for cpu, want := range addrs[k] {
					if got := m.LookupAddr(u32(k), cpu); got != want {
						t.Errorf("key %d cpu %d moved from %#x to %#x", k, cpu, want, got)
					}
				}
			}
		})
	}
}

func TestValueAccessOK(t *testing.T) {
	hash := mustNew(t, ebpf.Hash, 4, 12, 8)      // slots: 16 hdr + 8 key + 16 value = 40
	pcpu := mustNew(t, ebpf.PerCPUHash, 4, 4, 8) // slots: 16 + 8 + 4*8 = 56
	arr := mustNew(t, ebpf.PerCPUArray, 4, 4, 2) // per-CPU stride 64
	stack := mustNew(t, ebpf.StackTrace, 4, 16, 2)
	hs, ps, as := hash.Layout().SlotsOff, pcpu.Layout().SlotsOff, arr.Layout().SlotsOff
	for _, tc := range []struct {
		name      string
		m         *Map
		off, size uint64
		want      bool
	}{
		{"hash header", hash, 0, 4, false},
		{"hash bucket", hash, HeaderSize, 4, false},
		{"hash slot state", hash, hs, 4, false},
		{"hash key", hash, hs + SlotOffKey, 4, false},
		{"hash value", hash, hs + 24, 12, true},
		{"hash value tail", hash, hs + 24 + 8, 4, true},
		{"hash value overrun", hash, hs + 24 + 8, 8, false},
		{"hash value padding", hash, hs + 24 + 12, 4, false},
		{"hash second slot", hash, hs + 40 + 24, 8, true},
		{"hash last slot", hash, hs + 40*uint64(hash.nslots-1) + 24, 8, true},
		{"hash past last slot", hash, hs + 40*uint64(hash.nslots) + 24, 8, false},
		{"hash zero size", hash, hs + 24, 0, false},
		{"hash huge size", hash, hs + 24, 1 << 63, false},
		{"percpu hash cpu 0", pcpu, ps + 24, 4, true},
		{"percpu hash cpu 3", pcpu, ps + 24 + 24, 4, true},
		{"percpu hash across cpus", pcpu, ps + 24 + 4, 8, false},
		{"percpu hash next slot header", pcpu, ps + 56, 4, false},
		{"percpu array cpu 0 idx 1", arr, as + 8, 4, true},
		{"percpu array cpu 0 past end", arr, as + 16, 4, false},
		{"percpu array cpu 3 idx 0", arr, as + 3*64, 4, true},
		{"percpu array cpu 4", arr, as + 4*64, 4, false},
		{"stack trace", stack, stack.Layout().SlotsOff + 8, 8, false},
	} {
		if got := tc.m.ValueAccessOK(tc.off, tc.size); got != tc.want {
			t.Errorf("%s: ValueAccessOK(%d, %d) = %v, want %v", tc.name, tc.off, tc.size, got, tc.want)
		}
	}
}
