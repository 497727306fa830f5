package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseDropgen(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    dropgenResult
		wantErr string
	}{
		{
			name: "full",
			line: "dropgen: sent=12345678 seconds=3.001 rate=4113000 noports=12345670 senders=2\n",
			want: dropgenResult{sent: 12345678, seconds: 3.001, noports: 12345670},
		},
		{name: "no prefix", line: "sent=1 seconds=1 noports=1", wantErr: "prefix"},
		{name: "no noports", line: "dropgen: sent=1 seconds=1", wantErr: "no noports="},
		{name: "bad number", line: "dropgen: sent=x seconds=1 noports=1", wantErr: "sent"},
		{name: "zero seconds", line: "dropgen: sent=1 seconds=0 noports=1", wantErr: "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDropgen(tt.line)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseDropgen() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseDropgen() = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseSummary(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		want   dropmonSummary
		wantOK bool
	}{
		{"summary", "summary: 410305 drops in 3.807s (107771.5/s), 20607 lost records, 2 CPUs",
			dropmonSummary{drops: 410305, lost: 20607}, true},
		{"no drops", "summary: 0 drops in 2.759s (0.0/s), 0 lost records, 2 CPUs", dropmonSummary{}, true},
		{"one lost record", "summary: 5 drops in 1m2s (0.1/s), 1 lost record, 1 CPU", dropmonSummary{drops: 5, lost: 1}, true},
		{"header", "20:10:42  drops: 1050 (1049.7/s)  total: 1050  lost: 0  cpus: 2", dropmonSummary{}, false},
		{"table row", " 1  27773  27773  100.0%  __udp4_lib_rcv+0x4bc  NO_SOCKET", dropmonSummary{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseSummary(tt.line)
			if ok != tt.wantOK || got != tt.want {
				t.Fatalf("parseSummary() = %+v, %v, want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseHeaderTime(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		want   time.Duration
		wantOK bool
	}{
		{"header", "20:10:42  drops: 1050 (1049.7/s)  total: 1050  lost: 0  cpus: 2", 20*time.Hour + 10*time.Minute + 42*time.Second, true},
		{"per-cpu lost", "00:00:01  drops: 9 (9.0/s)  total: 9  lost: 5 (cpu0 5, cpu1 0)  cpus: 2", time.Second, true},
		{"summary", "summary: 0 drops in 2.759s (0.0/s), 0 lost records, 2 CPUs", 0, false},
		{"no drops line", "  no drops", 0, false},
		{"bad hour", "25:00:00  drops: 1", 0, false},
		{"one space", "20:10:42 drops: 1", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseHeaderTime(tt.line)
			if ok != tt.wantOK || got != tt.want {
				t.Fatalf("parseHeaderTime() = %v, %v, want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParsePerfRecord(t *testing.T) {
	tests := []struct {
		name    string
		stderr  string
		want    perfRecordStats
		wantErr string
	}{
		{
			name: "nothing lost",
			stderr: "[ perf record: Woken up 334 times to write data ]\n" +
				"[ perf record: Captured and wrote 83.925 MB /dev/shm/x/perf.data (845824 samples) ]",
			want: perfRecordStats{captured: 845824},
		},
		{
			name: "lost samples",
			stderr: "[ perf record: Woken up 25168 times to write data ]\nWarning:\n" +
				"Processed 584764 events and lost 419 chunks!\n\nCheck IO/CPU overload!\n\nWarning:\n" +
				"Processed 743758 samples and lost 27.21%!\n\nWarning:\n3 out of order events recorded.\n" +
				"[ perf record: Captured and wrote 54.066 MB /dev/shm/x/perf.data (541414 samples) ]",
			want: perfRecordStats{captured: 541414, processed: 743758, lost: 202344},
		},
		{name: "killed", stderr: "[ perf record: Woken up 1 times to write data ]", wantErr: "Captured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePerfRecord(strings.Split(tt.stderr, "\n"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parsePerfRecord() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parsePerfRecord() = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestSumBpftraceCounts(t *testing.T) {
	tests := []struct {
		name   string
		stdout string
		want   uint64
	}{
		{"two keys", "Attaching 1 probe...\n\n\n@[skb_release_data]: 3\n@[__udp4_lib_rcv]: 410305\n", 410308},
		{"empty map", "Attaching 1 probe...\n\n\n", 0},
		{"key with spaces", "@[kfree_skb_reason, 2]: 7\n", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sumBpftraceCounts(strings.Split(tt.stdout, "\n")); got != tt.want {
				t.Fatalf("sumBpftraceCounts() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseProcStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr string
	}{
		{
			name: "dropmon",
			stat: "4242 (dropmon) S 4200 4242 4200 0 -1 4194560 1219 0 0 0 150 27 0 0 20 0 9 0 123 0 0",
			want: 1770 * time.Millisecond,
		},
		{
			name: "spaces and parens in comm",
			stat: "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 5",
			want: 70 * time.Millisecond,
		},
		{name: "no comm", stat: "7 R 1", wantErr: "no ')'"},
		{name: "short", stat: "7 (x) R 1 2 3", wantErr: "fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStatCPU(tt.stat)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseProcStatCPU() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseProcStatCPU() = %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}

func TestMaxLateness(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 20, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	tests := []struct {
		name     string
		arrivals []time.Time
		want     time.Duration
		wantOK   bool
	}{
		{"none", nil, 0, false},
		{"on time", []time.Time{at(time.Second), at(2 * time.Second)}, 0, true},
		{"second late", []time.Time{at(1010 * time.Millisecond), at(2300 * time.Millisecond), at(3020 * time.Millisecond)}, 300 * time.Millisecond, true},
		{"early", []time.Time{at(999 * time.Millisecond)}, -time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := maxLateness(t0, time.Second, tt.arrivals)
			if ok != tt.wantOK || got != tt.want {
				t.Fatalf("maxLateness() = %v, %v, want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParsePerfStatsLost(t *testing.T) {
	const aggregated = "\nAggregated stats:\n           TOTAL events:     319009\n" +
		"            LOST events:         77  ( 0.0%)\n          SAMPLE events:     304746  (95.5%)\n" +
		"    LOST_SAMPLES events:          2  ( 0.0%)\n  FINISHED_ROUND events:      13649  ( 4.3%)\n"
	tests := []struct {
		name   string
		text   string
		want   uint64
		wantOK bool
	}{
		{"lost", aggregated + "skb:kfree_skb stats:\n          SAMPLE events:     304746\n    LOST_SAMPLES events:      26139\n", 26139, true},
		{"none lost", "\nAggregated stats:\n          SAMPLE events:     845824  (99.9%)\nskb:kfree_skb stats:\n          SAMPLE events:     845824\n", 0, true},
		{"two events", "a:b stats:\n    LOST_SAMPLES events:      1\nc:d stats:\n    LOST_SAMPLES events:      2\n", 3, true},
		{"aggregated only", aggregated, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parsePerfStatsLost(tt.text)
			if ok != tt.wantOK || got != tt.want {
				t.Fatalf("parsePerfStatsLost() = %d, %v, want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
