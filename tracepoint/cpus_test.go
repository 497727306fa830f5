package tracepoint

import (
	"slices"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []int
		wantErr bool
	}{
		{name: "single", in: "0\n", want: []int{0}},
		{name: "range", in: "0-3", want: []int{0, 1, 2, 3}},
		{name: "mixed", in: "0-1,3,5-6\n", want: []int{0, 1, 3, 5, 6}},
		{name: "empty", in: "\n", wantErr: true},
		{name: "garbage", in: "a-b", wantErr: true},
		{name: "reversed range", in: "3-1", wantErr: true},
		{name: "negative", in: "-1", wantErr: true},
		{name: "huge range", in: "0-99999999", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCPUList(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseCPUList(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && !slices.Equal(got, tt.want) {
				t.Fatalf("parseCPUList(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestOnlineCPUs(t *testing.T) {
	cpus, err := OnlineCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) == 0 {
		t.Fatal("no online cpus")
	}
}
