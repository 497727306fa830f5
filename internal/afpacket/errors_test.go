package afpacket

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenError(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		wantIs error
		want   string
	}{
		{name: "no device", err: unix.ENODEV, wantIs: ErrNoInterface, want: "afpacket: open on eth9: no such interface"},
		{name: "EPERM", err: unix.EPERM, wantIs: os.ErrPermission,
			want: "afpacket: open on eth9: socket: operation not permitted (run as root, or grant CAP_NET_RAW)"},
		{name: "EACCES", err: unix.EACCES, wantIs: os.ErrPermission,
			want: "afpacket: open on eth9: socket: permission denied (run as root, or grant CAP_NET_RAW)"},
		{name: "other", err: unix.ENOMEM, wantIs: unix.ENOMEM, want: "afpacket: open on eth9: socket: cannot allocate memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := openError("eth9", "socket", tt.err)
			if err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not match %v", err, tt.wantIs)
			}
		})
	}
}
