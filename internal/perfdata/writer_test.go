package perfdata

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCreateRejects(t *testing.T) {
	noIdent := kfreeSkbAttr(1, tracepointSampleType&^sampleIdentifier|sampleID)
	noIDAll := markerAttr(tracepointSampleType)
	noIDAll.Attr.Bits = 0
	tests := []struct {
		name    string
		attrs   []Attr
		wantErr string
	}{
		{name: "no attrs", wantErr: "no attrs"},
		{name: "branch stack", attrs: []Attr{kfreeSkbAttr(1, tracepointSampleType|unix.PERF_SAMPLE_BRANCH_STACK)}, wantErr: "cannot encode"},
		{name: "read values", attrs: []Attr{kfreeSkbAttr(1, tracepointSampleType|sampleRead)}, wantErr: "cannot encode"},
		{name: "two attrs without IDENTIFIER", attrs: []Attr{noIdent, markerAttr(tracepointSampleType)}, wantErr: "PERF_SAMPLE_IDENTIFIER"},
		{name: "sample_id_all differs", attrs: []Attr{kfreeSkbAttr(1, tracepointSampleType), noIDAll}, wantErr: "sample_id_all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Create(&memFile{}, tt.attrs, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

func TestWriterRejects(t *testing.T) {
	w, err := Create(&memFile{}, []Attr{kfreeSkbAttr(1, tracepointSampleType|sampleCallchain)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		write   func() error
		wantErr string
	}{
		{name: "attr index", write: func() error { return w.WriteSample(1, &Sample{}) }, wantErr: "attr index 1 out of range"},
		{name: "negative attr", write: func() error { return w.WriteLost(-1, 0, 1, nil) }, wantErr: "out of range"},
		{name: "record too big", write: func() error { return w.WriteSample(0, &Sample{Raw: make([]byte, 70000)}) }, wantErr: "over perf's limit"},
		{name: "callchain too long", write: func() error { return w.WriteSample(0, &Sample{Callchain: make([]uint64, 9000)}) }, wantErr: "over perf's limit"},
		{name: "after close", write: func() error { _ = w.Close(); return w.WriteFinishedRound() }, wantErr: "after Close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.write(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

// pipeWriter is an io.WriteSeeker that cannot seek, like a pipe.
type pipeWriter struct{ memFile }

func (pipeWriter) Seek(int64, int) (int64, error) { return 0, errors.New("illegal seek") }

func TestCreateNeedsSeekableOutput(t *testing.T) {
	_, err := Create(&pipeWriter{}, []Attr{kfreeSkbAttr(1, tracepointSampleType)}, nil)
	if err == nil || !strings.Contains(err.Error(), "seekable") {
		t.Errorf("error %v, want one saying the output must be seekable", err)
	}
}

func TestParseBuildIDNote(t *testing.T) {
	note := func(name string, typ uint32, desc []byte) []byte {
		b := le.AppendUint32(nil, uint32(len(name)+1))
		b = le.AppendUint32(b, uint32(len(desc)))
		b = le.AppendUint32(b, typ)
		b = append(b, name...)
		for b = append(b, 0); len(b)%4 != 0; b = append(b, 0) {
		}
		b = append(b, desc...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	xen := note("Xen", 1, []byte{1, 2, 3})
	gnu := note("GNU", ntGNUBuildID, testBuildID)
	tests := []struct {
		name    string
		data    []byte
		want    []byte
		wantErr string
	}{
		{name: "only note", data: gnu, want: testBuildID},
		{name: "after another note", data: append(bytes.Clone(xen), gnu...), want: testBuildID},
		{name: "other owner", data: note("Linux", ntGNUBuildID, testBuildID), wantErr: "no NT_GNU_BUILD_ID"},
		{name: "empty", wantErr: "no NT_GNU_BUILD_ID"},
		{name: "truncated", data: gnu[:20], wantErr: "truncated"},
		{name: "huge sizes", data: append(le.AppendUint32(le.AppendUint32(nil, 1<<31), 1<<31), 3, 0, 0, 0), wantErr: "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBuildIDNote(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("got %x, %v; want %x", got, err, tt.want)
			}
		})
	}
}

// TestKernelBuildIDMatchesPerf compares with perf buildid-list -k.
func TestKernelBuildIDMatchesPerf(t *testing.T) {
	id, err := KernelBuildID()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	out, err := exec.Command(requirePerf(t), "buildid-list", "-k").Output()
	if err != nil {
		t.Fatalf("perf buildid-list -k: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != hex.EncodeToString(id) {
		t.Errorf("KernelBuildID %x, perf says %s", id, got)
	}
}

func TestReadTracingFromTracefs(t *testing.T) {
	dir := t.TempDir()
	for p, text := range map[string]string{
		"events/header_page":          "page",
		"events/header_event":         "event",
		"events/skb/kfree_skb/format": "name: kfree_skb\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		events  []string
		wantErr string
	}{
		{name: "kfree_skb", events: []string{"skb/kfree_skb"}},
		{name: "no events", events: nil},
		{name: "unknown event", events: []string{"skb/nope"}, wantErr: "no such file"},
		{name: "not system/name", events: []string{"skb:kfree_skb"}, wantErr: "not SYSTEM/NAME"},
		{name: "path escape", events: []string{"skb/../../x"}, wantErr: "not SYSTEM/NAME"},
		{name: "dot-dot system", events: []string{"../x"}, wantErr: "not SYSTEM/NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td, err := ReadTracingFromTracefs(dir, tt.events...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(td.HeaderPage) != "page" || string(td.HeaderEvent) != "event" || len(td.Events) != len(tt.events) {
				t.Errorf("got %+v", td)
			}
		})
	}
}
