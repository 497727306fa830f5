// Package snmp reads the kernel's network counters in /proc/net/snmp: here
// Udp NoPorts, the datagrams the kernel dropped for want of a socket, which
// the drop generator and the tests use to know their drops were made.
package snmp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Path holds the network namespace's SNMP MIB counters.
const Path = "/proc/net/snmp"

// ReadNoPorts returns the Udp NoPorts counter from the file at path.
func ReadNoPorts(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read udp counters: %w", err)
	}
	defer f.Close()
	n, err := ParseNoPorts(f)
	if err != nil {
		return 0, fmt.Errorf("read udp counters from %s: %w", path, err)
	}
	return n, nil
}

// ParseNoPorts finds Udp NoPorts in /proc/net/snmp text: each protocol has
// a line of names and then a line of values, both starting "Udp:".
func ParseNoPorts(r io.Reader) (uint64, error) {
	var names []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		for i, name := range names {
			if name != "NoPorts" {
				continue
			}
			if i >= len(fields) {
				return 0, errors.New("udp values line shorter than its names line")
			}
			n, err := strconv.ParseUint(fields[i], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("udp NoPorts: %w", err)
			}
			return n, nil
		}
		return 0, errors.New("no NoPorts among the udp counters")
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no udp counters")
}
