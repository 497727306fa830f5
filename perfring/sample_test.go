package perfring

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSample(t *testing.T) {
	full := Record{Type: RecordSample, Misc: 1, IP: 0xffffffff81234567, Pid: 100, Tid: 101,
		Time: 123456789, Addr: 0xdead0000, ID: 42, StreamID: 43, SampleCPU: 5, Period: 1,
		Callchain: []uint64{0xfffffffffffffe00, 0xffffffff81000000, 0xfffffffffffffe00 - 512, 0x401000},
		Raw:       pattern(44)}
	// keep returns full with only the fields of sample type st.
	keep := func(st uint64) Record {
		r := Record{Type: RecordSample, Misc: full.Misc}
		fields := []struct {
			bit uint64
			set func()
		}{
			{unix.PERF_SAMPLE_IDENTIFIER, func() { r.ID = full.ID }},
			{unix.PERF_SAMPLE_IP, func() { r.IP = full.IP }},
			{unix.PERF_SAMPLE_TID, func() { r.Pid, r.Tid = full.Pid, full.Tid }},
			{unix.PERF_SAMPLE_TIME, func() { r.Time = full.Time }},
			{unix.PERF_SAMPLE_ADDR, func() { r.Addr = full.Addr }},
			{unix.PERF_SAMPLE_ID, func() { r.ID = full.ID }},
			{unix.PERF_SAMPLE_STREAM_ID, func() { r.StreamID = full.StreamID }},
			{unix.PERF_SAMPLE_CPU, func() { r.SampleCPU = full.SampleCPU }},
			{unix.PERF_SAMPLE_PERIOD, func() { r.Period = full.Period }},
			{unix.PERF_SAMPLE_CALLCHAIN, func() { r.Callchain = full.Callchain }},
			{unix.PERF_SAMPLE_RAW, func() { r.Raw = full.Raw }},
		}
		for _, f := range fields {
			if st&f.bit != 0 {
				f.set()
			}
		}
		return r
	}
	tests := []struct {
		name string
		st   uint64
	}{
		{"none", 0},
		{"identifier", unix.PERF_SAMPLE_IDENTIFIER},
		{"ip", unix.PERF_SAMPLE_IP},
		{"tid", unix.PERF_SAMPLE_TID},
		{"time", unix.PERF_SAMPLE_TIME},
		{"addr", unix.PERF_SAMPLE_ADDR},
		{"id", unix.PERF_SAMPLE_ID},
		{"stream id", unix.PERF_SAMPLE_STREAM_ID},
		{"cpu", unix.PERF_SAMPLE_CPU},
		{"period", unix.PERF_SAMPLE_PERIOD},
		{"callchain", unix.PERF_SAMPLE_CALLCHAIN},
		{"raw", unix.PERF_SAMPLE_RAW},
		{"identifier and id", unix.PERF_SAMPLE_IDENTIFIER | unix.PERF_SAMPLE_ID},
		{"kfree_skb", unix.PERF_SAMPLE_RAW | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CPU | unix.PERF_SAMPLE_TID},
		{"profile", unix.PERF_SAMPLE_IP | unix.PERF_SAMPLE_TID | unix.PERF_SAMPLE_PERIOD | unix.PERF_SAMPLE_CALLCHAIN},
		{"all but identifier", supportedSampleType &^ unix.PERF_SAMPLE_IDENTIFIER},
		{"all", supportedSampleType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSynthRing(t, 3, 1, tt.st, 0, false)
			rd := newTestReader(t, s.Ring)
			want := keep(tt.st)
			if !s.w.Write(encodeSample(tt.st, &full)) {
				t.Fatal("write did not fit")
			}
			var got Record
			if err := rd.ReadInto(&got); err != nil {
				t.Fatal(err)
			}
			want.CPU = 3
			if d := diffRecord(&got, &want); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestOtherRecordTypes(t *testing.T) {
	s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
	rd := newTestReader(t, s.Ring)
	throttle := append(header(RecordThrottle, 2, 32), make([]byte, 24)...)
	s.w.Write(throttle)
	s.w.Write(rawSample([]byte("after")))
	var rec Record
	if err := rd.ReadInto(&rec); err != nil || rec.Type != RecordThrottle || rec.Misc != 2 || rec.Raw != nil {
		t.Fatalf("ReadInto = %v, %+v", err, rec)
	}
	if err := rd.ReadInto(&rec); err != nil || rec.Type != RecordSample || string(rec.Raw) != "after" {
		t.Fatalf("ReadInto = %v, %+v", err, rec)
	}
}

func TestSampleTypeNotSupported(t *testing.T) {
	for bit := uint64(1); bit < unix.PERF_SAMPLE_MAX; bit <<= 1 {
		_, err := checkSampleType(bit)
		if bit&supportedSampleType != 0 {
			if err != nil {
				t.Errorf("%#x: %v", bit, err)
			}
			continue
		}
		if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "PERF_SAMPLE_") {
			t.Errorf("%s: %v", sampleBits(bit), err)
		}
	}
	if got := sampleBits(unix.PERF_SAMPLE_READ | 1<<40); got != "PERF_SAMPLE_READ|bit 40" {
		t.Errorf("sampleBits = %q", got)
	}
	if _, err := NewRingFromMemory(make([]byte, 8192), -1, 0, unix.PERF_SAMPLE_WEIGHT); err == nil ||
		!strings.Contains(err.Error(), fmt.Sprintf("sample type %#x: bits PERF_SAMPLE_WEIGHT", unix.PERF_SAMPLE_WEIGHT)) {
		t.Errorf("newRingFromMemory: %v", err)
	}
}
