// Command dropgen makes a bounded storm of packet drops on this machine: it
// sends UDP datagrams to a closed port on 127.0.0.1, and the kernel frees
// each one in __udp4_lib_rcv with kfree_skb reason NO_SOCKET, a
// skb:kfree_skb event per datagram.
//
// One sender per CPU, each locked to its OS thread and pinned to its CPU,
// sends batches with sendmmsg(2) on an unconnected socket, so the ICMP
// port-unreachable answers fail no send. It stops after -d (at most a
// minute) and prints one line for scripts:
//
//	dropgen: sent=12345678 seconds=3.001 rate=4113000 noports=12345678 senders=2
//
// noports is the change of Udp NoPorts in /proc/net/snmp during the run: the
// datagrams the kernel really dropped for want of a socket (other traffic of
// the network namespace included).
package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/dropmon/dropmon/internal/snmp"
	"net"
	"os"
	"runtime"
	"time"
)

// maxDuration bounds a storm, so that a wrong flag cannot flood the machine
// for long.
const maxDuration = 60 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "dropgen: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	d := flag.Duration("d", 0, "how long to send (required, at most 60s)")
	senders := flag.Int("senders", runtime.NumCPU(), "sender threads, one pinned to each CPU in turn")
	batch := flag.Int("batch", 64, "datagrams per sendmmsg call (1-1024)")
	size := flag.Int("size", 16, "UDP payload bytes (0-1400)")
	flag.Parse()
	switch {
	case flag.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	case *d <= 0 || *d > maxDuration:
		return fmt.Errorf("-d %s: give a duration between 1ns and %s", *d, maxDuration)
	case *senders < 1 || *senders > 1024:
		return fmt.Errorf("-senders %d: must be 1-1024", *senders)
	case *batch < 1 || *batch > 1024:
		return fmt.Errorf("-batch %d: must be 1-1024", *batch)
	case *size < 0 || *size > 1400:
		return fmt.Errorf("-size %d: must be 0-1400", *size)
	}

	port, err := closedPort()
	if err != nil {
		return err
	}
	before, err := snmp.ReadNoPorts(snmp.Path)
	if err != nil {
		return err
	}
	res, err := storm(stormConfig{port: port, senders: *senders, batch: *batch, size: *size, d: *d})
	if err != nil {
		return err
	}
	after, err := snmp.ReadNoPorts(snmp.Path)
	if err != nil {
		return err
	}
	secs := res.elapsed.Seconds()
	fmt.Printf("dropgen: sent=%d seconds=%.3f rate=%.0f noports=%d senders=%d\n",
		res.sent, secs, float64(res.sent)/secs, after-before, *senders)
	return nil
}

// closedPort returns a UDP port on 127.0.0.1 where nothing listens: one the
// kernel just gave to a socket that is closed again. Another process could
// bind it in between; the noports count would then fall short of sent.
func closedPort() (int, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, fmt.Errorf("find a closed port: %w", err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if err := c.Close(); err != nil {
		return 0, fmt.Errorf("find a closed port: %w", err)
	}
	if port == 0 {
		return 0, errors.New("find a closed port: kernel gave port 0")
	}
	return port, nil
}
