package snmp

import (
	"strings"
	"testing"
)

func TestParseNoPorts(t *testing.T) {
	const udp = "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n"
	tests := []struct {
		name    string
		text    string
		want    uint64
		wantErr string
	}{
		{
			name: "linux 6.18",
			text: "Ip: Forwarding DefaultTTL\nIp: 1 64\n" + udp +
				"Udp: 27 123456789012 0 28 0 0 0 0 0\nUdpLite: InDatagrams NoPorts\nUdpLite: 0 7\n",
			want: 123456789012,
		},
		{name: "no udp", text: "Ip: Forwarding\nIp: 1\n", wantErr: "no udp counters"},
		{name: "names only", text: udp, wantErr: "no udp counters"},
		{name: "no NoPorts", text: "Udp: InDatagrams\nUdp: 5\n", wantErr: "no NoPorts"},
		{name: "short values", text: udp + "Udp: 27\n", wantErr: "shorter"},
		{name: "not a number", text: udp + "Udp: 27 x 0\n", wantErr: "invalid syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNoPorts(strings.NewReader(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseNoPorts() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseNoPorts() = %d, %v, want %d", got, err, tt.want)
			}
		})
	}
}
