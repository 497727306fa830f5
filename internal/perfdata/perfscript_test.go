package perfdata

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// requirePerf skips when perf is not installed, except in CI (CI=true),
// where a missing perf fails the test.
func requirePerf(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("perf")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("perf is not installed, and CI=true requires it (install linux-perf): %v", err)
	}
	t.Skipf("skipping: perf is not installed (install linux-perf to compare with perf script): %v", err)
	return ""
}

// runPerf runs perf with args and returns stdout and stderr.
func runPerf(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(requirePerf(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("perf %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

// perfNoise matches what perf script -F trace prints on stderr for every
// file, its own captures included: it applies -F to each event type.
var perfNoise = regexp.MustCompile(`(?m)^'trace' not valid for [a-z -]+ events\. Ignoring\.\n`)

// checkQuiet fails on anything perf wrote to stderr beyond its noise.
func checkQuiet(t *testing.T, what, stderr string) {
	t.Helper()
	if rest := strings.TrimSpace(perfNoise.ReplaceAllString(stderr, "")); rest != "" {
		t.Errorf("%s wrote to stderr:\n%s", what, rest)
	}
}

// markerKind selects how rewrite writes report-boundary markers.
type markerKind int

const (
	// softwareMarker is a PERF_COUNT_SW_DUMMY attr whose samples carry the
	// payload as PERF_SAMPLE_RAW; perf script prints no payload for it.
	softwareMarker markerKind = iota
	// tracepointMarker is a tracepoint attr with an id no kernel event of
	// the file has, described by markerFormat in the file's tracing data:
	// perf script prints its fields like a kernel tracepoint's.
	tracepointMarker
)

// markerFormat describes the tracepointMarker's raw record: the common
// fields, then a sequence number.
const markerFormat = `name: report
ID: 65520
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:u64 seq;	offset:8;	size:8;	signed:0;

print fmt: "seq=%llu", REC->seq
`

// markerLine matches perf script's line for a marker sample.
var markerLine = map[markerKind]*regexp.Regexp{
	softwareMarker:   regexp.MustCompile(`(?m)^ +dropmon-test +\d+ \[\d+\] +\d+\.\d+: +1 dropmon:report: +$`),
	tracepointMarker: regexp.MustCompile(`(?m)^ +dropmon-test +\d+ \[\d+\] +\d+\.\d+: +dropmon:report: seq=\d+$`),
}

// rewrite writes the samples of a perf record capture as dropmon would: the
// tracepoint attr with the capture's tracing data and kernel build-id, a
// marker attr with one sample after each drop, and a COMM for each thread.
// It returns the new file's path.
func rewrite(t *testing.T, src *File, kernelText uint64, kind markerKind) string {
	t.Helper()
	tp := src.Attrs[0]
	tp.IDs = []uint64{1000, 1001}
	marker := markerAttr(tp.Attr.Sample_type)
	meta := src.Meta
	if kind == tracepointMarker {
		marker.Attr.Type, marker.Attr.Config = unix.PERF_TYPE_TRACEPOINT, 65520
		tr := *meta.Tracing
		tr.Events = append(append([]EventFormat(nil), tr.Events...), EventFormat{"dropmon", []byte(markerFormat)})
		meta.Tracing = &tr
	}
	meta.Cmdline = []string{"dropmon", "record", "-o", "drops.data"}
	meta.Version = "dropmon-test"
	meta.KernelText = kernelText
	path := filepath.Join(t.TempDir(), "drops.data")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	w, err := Create(fh, []Attr{tp, marker}, &meta)
	if err != nil {
		t.Fatal(err)
	}
	comms := map[uint32]bool{}
	seq := uint64(0)
	err = src.Records(func(r *Record) error {
		switch {
		case r.Type == RecordFinishedRound:
			return w.WriteFinishedRound()
		case r.Type != RecordSample || r.Attr != 0:
			return nil
		}
		s := r.Sample
		if !comms[s.Tid] {
			comms[s.Tid] = true
			if err := w.WriteComm(s.Pid, s.Tid, "dropmon-test"); err != nil {
				return err
			}
		}
		s.ID = tp.IDs[s.CPU%2]
		if err := w.WriteSample(0, &s); err != nil {
			return err
		}
		s.ID, s.Raw = marker.IDs[0], []byte("report")
		if kind == tracepointMarker {
			s.Raw = make([]byte, 20)
			le.PutUint16(s.Raw, uint16(marker.Attr.Config)) // common_type
			seq++
			le.PutUint64(s.Raw[8:], seq)
		}
		return w.WriteSample(1, &s)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// comparePerfScript checks that perf prints the drops of the dropmon file
// written from capture exactly as those of the capture. withLocation
// compares location= too; perf resolves it only on the capture's kernel.
func comparePerfScript(t *testing.T, capture, dropmon string, kind markerKind, wantDrops int, withLocation bool) {
	t.Helper()
	loc := regexp.MustCompile(`location=\S+`)
	norm := func(s string) string {
		if !withLocation {
			s = loc.ReplaceAllString(s, "location=?")
		}
		return s
	}
	want, stderr := runPerf(t, "script", "-i", capture, "-F", "trace")
	checkQuiet(t, "perf script -F trace on perf's capture", stderr)
	got, stderr := runPerf(t, "script", "-i", dropmon, "-F", "trace")
	checkQuiet(t, "perf script -F trace on dropmon's file", stderr)
	wantLines := strings.Split(strings.TrimSpace(norm(want)), "\n")
	var gotDrops []string
	for _, l := range strings.Split(strings.TrimSpace(norm(got)), "\n") {
		if !strings.HasPrefix(l, "seq=") { // a tracepointMarker's fields
			gotDrops = append(gotDrops, l)
		}
	}
	if len(wantLines) != wantDrops || strings.Join(gotDrops, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("perf script -F trace:\ndropmon's file:\n%s\nperf's capture (%d drops expected):\n%s", got, wantDrops, want)
	}

	out, stderr := runPerf(t, "script", "-i", dropmon)
	checkQuiet(t, "perf script on dropmon's file", stderr)
	t.Logf("perf script -i %s:\n%s", dropmon, out)
	drops := regexp.MustCompile(`(?m)^ +dropmon-test +\d+ \[\d+\] +\d+\.\d+: +skb:kfree_skb: skbaddr=0x[0-9a-f]+ .*reason: \S+$`)
	if n, m := len(drops.FindAllString(out, -1)), len(markerLine[kind].FindAllString(out, -1)); n != wantDrops || m != wantDrops {
		t.Errorf("perf script printed %d drop lines and %d marker lines, want %d of each:\n%s", n, m, wantDrops, out)
	}

	out, stderr = runPerf(t, "report", "-i", dropmon, "--stdio")
	if withLocation {
		// Elsewhere (another kernel, or kallsyms hidden from a user
		// without root) perf report warns that it cannot resolve kernel
		// samples, for its own captures too.
		checkQuiet(t, "perf report on dropmon's file", stderr)
	}
	for _, ev := range []string{"skb:kfree_skb", "dropmon:report"} {
		if want := "# Samples: " + strconv.Itoa(wantDrops) + "  of event '" + ev + "'"; !strings.Contains(out, want) {
			t.Errorf("perf report --stdio lacks %q:\n%s", want, out)
		}
	}
}

// TestPerfScriptReadsDropmonFile writes testdata/kfree_skb.data's drops
// into a dropmon file and has perf script and perf report read it. The
// drops' location is compared only when this machine runs the kernel the
// capture was made on (perf resolves %pS with this machine's symbols).
func TestPerfScriptReadsDropmonFile(t *testing.T) {
	requirePerf(t)
	capture, err := filepath.Abs("testdata/kfree_skb.data")
	if err != nil {
		t.Fatal(err)
	}
	src := openBytes(t, readTestdata(t, "kfree_skb.data"))
	sameKernel := false
	var text uint64
	if id, err := KernelBuildID(); err == nil && bytes.Equal(id, src.Meta.KernelBuildID) {
		if text, err = KernelText(); err == nil {
			sameKernel = true
		}
	}
	if !sameKernel {
		t.Logf("not on the capture's kernel (or /proc/kallsyms hidden): location= is not compared")
	}
	for _, tt := range []struct {
		name string
		kind markerKind
	}{
		{"software marker", softwareMarker},
		{"tracepoint marker", tracepointMarker},
	} {
		t.Run(tt.name, func(t *testing.T) {
			comparePerfScript(t, capture, rewrite(t, src, text, tt.kind), tt.kind, 3, sameKernel)
		})
	}
}
