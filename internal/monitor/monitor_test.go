package monitor_test

import (
	"os"
	"strings"
	"testing"

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

func testExactCount(t *testing.T, engine string) {
	const n = 1000
	m, err := monitor.Start(monitor.Config{Engine: engine, PID: uint32(os.Getpid())})
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	testutil.SendToClosedPort(t, n)
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	counts, err := m.Counts()
	if err != nil {
		t.Fatal(err)
	}
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
	if stats.Records != n {
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
		{name: "engine not yet", cfg: monitor.Config{Engine: "kernel"}, wantErr: "not available"},
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
