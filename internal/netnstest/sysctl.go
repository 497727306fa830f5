package netnstest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// disableIPv6 sets net.ipv6.conf.<name>.disable_ipv6 to 1. It must run
// inside the namespace: /proc/sys/net shows the namespace of the thread
// that opens it. A kernel without IPv6 has no such file, and nothing to
// disable.
func disableIPv6(name string) error {
	path := filepath.Join("/proc/sys/net/ipv6/conf", name, "disable_ipv6")
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat("/proc/sys/net/ipv6"); errors.Is(serr, os.ErrNotExist) {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("netns: disable IPv6 on %s: %w", name, err)
	}
	_, err = f.WriteString("1\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("netns: disable IPv6 on %s: %w", name, err)
	}
	return nil
}
