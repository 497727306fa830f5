package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr string
	}{
		{in: "512KiB", want: 512 << 10},
		{in: "4MiB", want: 4 << 20},
		{in: "4M", want: 4 << 20},
		{in: "64k", want: 64 << 10},
		{in: "1GiB", want: 1 << 30},
		{in: "65536", want: 65536},
		{in: "8192B", want: 8192},
		{in: " 2 MiB ", want: 2 << 20},
		{in: "", wantErr: "want a size"},
		{in: "lots", wantErr: "want a size"},
		{in: "-4K", wantErr: "want a size"},
		{in: "1.5M", wantErr: "want a size"},
		{in: "99999999999G", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseSize(%q) = %d, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			if back, err := parseSize(formatSize(got)); err != nil || back != got {
				t.Errorf("formatSize(%d) = %q does not parse back", got, formatSize(got))
			}
		})
	}
}

func TestRingSizeHint(t *testing.T) {
	refused := fmt.Errorf("open tracepoint skb:kfree_skb on cpu 0: perfring: cpu 0: mmap ring of 129 pages (516 KiB): %w (locked memory limit: ...)", os.ErrPermission)
	if got := ringSizeHint(refused, 512<<10).Error(); !strings.Contains(got, "--ring-size 512KiB was asked for: try a smaller one such as --ring-size 128KiB") {
		t.Errorf("hint for a refused ring: %s", got)
	}
	other := fmt.Errorf("perf_event_open skb:kfree_skb on cpu 0: %w", os.ErrPermission)
	if got := ringSizeHint(other, 512<<10); got != other {
		t.Errorf("hint added to an error that is not about the ring: %v", got)
	}
}
