package bounded

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadAll(t *testing.T) {
	big := strings.Repeat("x", 3*chunk+5)
	boom := errors.New("boom")
	tests := []struct {
		name     string
		r        io.Reader
		limit    int64
		hint     int64
		want     string
		wantOver bool
		wantErr  error
	}{
		{name: "empty", r: strings.NewReader(""), limit: 10, want: ""},
		{name: "under", r: strings.NewReader("abc"), limit: 10, want: "abc"},
		{name: "at the limit", r: strings.NewReader("abcdefghij"), limit: 10, want: "abcdefghij"},
		{name: "one past", r: strings.NewReader("abcdefghijk"), limit: 10, wantOver: true},
		{name: "zero limit", r: strings.NewReader("a"), limit: 0, wantOver: true},
		{name: "several chunks", r: strings.NewReader(big), limit: 4 * chunk, want: big},
		{name: "several chunks, over", r: strings.NewReader(big), limit: 3 * chunk, wantOver: true},
		{name: "exact hint", r: strings.NewReader("abc"), limit: 10, hint: 3, want: "abc"},
		{name: "hint too small", r: strings.NewReader(big), limit: 4 * chunk, hint: 3, want: big},
		{name: "one byte at a time", r: iotest.OneByteReader(strings.NewReader("abcdef")), limit: 10, want: "abcdef"},
		{name: "endless", r: iotest.OneByteReader(zeros{}), limit: 100, wantOver: true},
		{name: "error", r: iotest.ErrReader(boom), limit: 10, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, over, err := ReadAll(tt.r, tt.limit, tt.hint)
			if !errors.Is(err, tt.wantErr) || over != tt.wantOver {
				t.Fatalf("ReadAll = over %t, %v; want over %t, %v", over, err, tt.wantOver, tt.wantErr)
			}
			if !bytes.Equal(got, []byte(tt.want)) {
				t.Errorf("ReadAll read %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

// zeros is an endless reader, like /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
