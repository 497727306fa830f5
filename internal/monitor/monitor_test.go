package monitor_test

import (
	"errors"
	"github.com/cilium/ebpf"
	"github.com/dropmon/dropmon/internal/report"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/symbolize"
)

// TestMonitorExactCount runs the whole data path (tracepoint, per-CPU
// rings, the drop counter on the interpreter, its hash map) filtered on
// this process, and checks the count is exactly what the test sent.
func TestMonitorExactCount(t *testing.T) {
	for _, engine := range monitor.Engines {
		t.Run(engine, func(t *testing.T) { testExactCount(t, engine) })
	}
}

// countDrops starts a monitor filtered on this process, makes n drops,
// stops it and returns it (closed when the test ends) and its counts.
func countDrops(t *testing.T, cfg monitor.Config, n int) (*monitor.Monitor, report.Counts) {
	t.Helper()
	cfg.PID = uint32(os.Getpid())
	m, err := monitor.Start(cfg)
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	testutil.SendToClosedPort(t, n)
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	counts, err := m.Counts()
	if err != nil {
		t.Fatal(err)
	}
	return m, counts
}

func testExactCount(t *testing.T, engine string) {
	const n = 1000
	m, counts := countDrops(t, monitor.Config{Engine: engine}, n)
	stats := m.Stats()
	if stats.Lost != 0 || stats.RunErrors != 0 || stats.Corrupt != 0 {
		t.Fatalf("stats: %+v", stats)
	}
	if len(counts) != 1 {
		t.Fatalf("counted %d drop sites, want 1: %v", len(counts), counts)
	}
	tab, symErr := symbolize.Load()
	for key, got := range counts {
		if got != n {
			t.Errorf("counted %d drops, want %d", got, n)
		}
		if m.HasReasons() {
			if name := m.ReasonName(key.Reason); name != "NO_SOCKET" {
				t.Errorf("reason %d (%s), want NO_SOCKET", key.Reason, name)
			}
		}
		if symErr == nil {
			if loc := tab.Format(key.Location); !strings.HasPrefix(loc, "__udp4_lib_rcv+") {
				t.Errorf("location %s, want __udp4_lib_rcv", loc)
			}
		}
	}
	if engine != "kernel" && stats.Records != n {
		t.Errorf("ran the program %d times, want %d", stats.Records, n)
	}
	if m.Engine() != engine {
		t.Errorf("ran on engine %s, want %s", m.Engine(), engine)
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     monitor.Config
		wantErr string
	}{
		{name: "unknown engine", cfg: monitor.Config{Engine: "fast"}, wantErr: `unknown engine "fast"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := monitor.Start(tt.cfg)
			if err == nil {
				m.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestFlushLoneDrop: one drop stays below the wakeup watermark, and with a
// long MaxDelay nothing would read it for an hour; Flush runs it at once,
// so that a report shows it in the interval it happened in.
func TestFlushLoneDrop(t *testing.T) {
	for _, readers := range []string{monitor.ReadersOne, monitor.ReadersPerCPU} {
		t.Run(readers, func(t *testing.T) {
			m, err := monitor.Start(monitor.Config{PID: uint32(os.Getpid()), MaxDelay: time.Hour, Readers: readers})
			testutil.Privileged(t, err)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			testutil.SendToClosedPort(t, 1)
			if !m.Flush(5 * time.Second) {
				t.Fatal("Flush did not finish within 5s")
			}
			counts, err := m.Counts()
			if err != nil {
				t.Fatal(err)
			}
			var total uint64
			for _, n := range counts {
				total += n
			}
			if total != 1 {
				t.Fatalf("after Flush the map counts %d drops, want 1: %v", total, counts)
			}
			if s := m.Stats(); len(s.LostPerCPU) != m.CPUs() || s.Lost != 0 {
				t.Errorf("stats: %+v, want no loss on each of %d CPUs", s, m.CPUs())
			}
		})
	}
}

// TestKernelLeavesNothing: after Close the kernel no longer has the
// program the kernel engine loaded. A link left attached, or a map or
// program fd left open, would keep it loaded.
func TestKernelLeavesNothing(t *testing.T) {
	m, err := monitor.Start(monitor.Config{Engine: "kernel"})
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	ids := m.KernelProgramIDs()
	if len(ids) != 1 {
		m.Close()
		t.Fatalf("the kernel engine reports program ids %v, want one", ids)
	}
	id := ids[0]
	if !kernelHasProgram(t, id) {
		t.Fatalf("program %d is not loaded while the monitor runs", id)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if kernelHasProgram(t, id) {
		t.Fatalf("program %d is still loaded after Close", id)
	}
}

// kernelHasProgram reports whether the kernel has a BPF program with the ID.
func kernelHasProgram(t *testing.T, id uint32) bool {
	t.Helper()
	prog, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatalf("look up program %d: %v", id, err)
	}
	prog.Close()
	return true
}
