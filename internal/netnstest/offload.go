package netnstest

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// offload is one offload the legacy ethtool commands switch: the command
// that sets it and the one that reads it back (ETHTOOL_S* and ETHTOOL_G*
// of include/uapi/linux/ethtool.h), under the name `ethtool -K` uses.
type offload struct {
	name     string
	set, get uint32
}

// offloads are turned off in this order: GRO would merge the test's TCP
// segments into fewer, larger packets; TSO, GSO and tx checksumming would
// let the kernel hand on packets that are not what went on the wire.
var offloads = []offload{
	{"gro", unix.ETHTOOL_SGRO, unix.ETHTOOL_GGRO},
	{"tso", unix.ETHTOOL_STSO, unix.ETHTOOL_GTSO},
	{"gso", unix.ETHTOOL_SGSO, unix.ETHTOOL_GGSO},
	{"tx-checksumming", unix.ETHTOOL_STXCSUM, unix.ETHTOOL_GTXCSUM},
}

// ethtoolValue is struct ethtool_value.
type ethtoolValue struct {
	cmd  uint32
	data uint32
}

// ifreqData is struct ifreq with its union as ifr_data: a pointer to the
// ethtool command.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// disableOffloads turns the offloads off on the interface name and checks
// that each reads back off. It runs inside the namespace: SIOCETHTOOL
// finds the interface in its socket's namespace. This is what
// `ethtool -K name gro off tso off gso off tx off` does; the machines
// dropmon is tested on need not have ethtool.
func disableOffloads(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns: socket for ethtool: %w", err)
	}
	defer unix.Close(fd)
	for _, o := range offloads {
		if err := ethtool(fd, name, &ethtoolValue{cmd: o.set, data: 0}); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("netns: turn %s off on %s: %w", o.name, name, err)
		}
		v := &ethtoolValue{cmd: o.get}
		if err := ethtool(fd, name, v); err != nil {
			return fmt.Errorf("netns: read %s of %s: %w", o.name, name, err)
		}
		if v.data != 0 {
			return fmt.Errorf("netns: %s is still on on %s", o.name, name)
		}
	}
	return nil
}

// ethtoolOn issues one SIOCETHTOOL command on name, with a socket of its
// own, in the calling thread's namespace.
func ethtoolOn(name string, v *ethtoolValue) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns: socket for ethtool: %w", err)
	}
	defer unix.Close(fd)
	if err := ethtool(fd, name, v); err != nil {
		return fmt.Errorf("netns: ethtool command %#x on %s: %w", v.cmd, name, err)
	}
	return nil
}

// ethtool issues one SIOCETHTOOL command. The command is pinned for the
// call: the kernel reads and writes it through the pointer in ifreq, which
// the garbage collector does not see as a use.
func ethtool(fd int, name string, v *ethtoolValue) error {
	if len(name) >= unix.IFNAMSIZ {
		return fmt.Errorf("interface name %q: %w", name, unix.EINVAL)
	}
	var pin runtime.Pinner
	pin.Pin(v)
	defer pin.Unpin()
	req := &ifreqData{data: unsafe.Pointer(v)}
	copy(req.name[:], name)
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(req)))
	if errno != 0 {
		return errno
	}
	return nil
}
