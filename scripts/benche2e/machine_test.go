package main

import (
	"strings"
	"testing"
)

func TestParseMemTotal(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    uint64
		wantErr bool
	}{
		{"meminfo", "MemTotal:       24589356 kB\nMemFree:        1 kB\n", 24589356 << 10, false},
		{"missing", "MemFree:        1 kB\n", 0, true},
		{"garbage", "MemTotal: lots kB\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMemTotal(strings.NewReader(tt.text))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseMemTotal() = %d, %v, want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseCPUModel(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n", "AMD EPYC 7B13"},
		{"none", "processor\t: 0\nBogoMIPS\t: 50.00\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseCPUModel(strings.NewReader(tt.text)); got != tt.want {
				t.Fatalf("parseCPUModel() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHasTracefs(t *testing.T) {
	const proc = "22 27 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
	tests := []struct {
		name, text string
		want       bool
	}{
		{"none", proc, false},
		{"tracefs", proc + "40 22 0:36 / /sys/kernel/tracing rw,relatime shared:18 - tracefs tracefs rw\n", true},
		{"debugfs", proc + "41 22 0:7 / /sys/kernel/debug rw,relatime shared:19 - debugfs debugfs rw\n", true},
		{"optional fields", "40 22 0:36 / /t rw shared:18 master:2 - tracefs nodev rw\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hasTracefs(strings.NewReader(tt.text)); got != tt.want {
				t.Fatalf("hasTracefs() = %v, want %v", got, tt.want)
			}
		})
	}
}
