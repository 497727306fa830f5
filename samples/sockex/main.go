// Command sockex counts the TCP, UDP and other packets that arrive on a
// network interface with the first sample of the 2014 eBPF RFC: a socket
// filter that reads each packet's IP protocol with LD_ABS and counts
// packets and bytes per protocol in an array map (package protocount).
//
//	go run ./samples/sockex -i eth0 [--engine jit|interp|kernel] [--program asm|c]
//
// With --engine kernel the program runs in the kernel, attached to an
// AF_PACKET socket with SO_ATTACH_BPF, and the counts come from the
// kernel's map. With jit (the default) or interp it runs in this process,
// over the packets of a TPACKET_V3 ring on the interface, on dropmon's
// JIT or interpreter. It prints the counts of each interval, and the
// totals at the end (Ctrl-C, or --duration), with the packets the ring
// dropped. Packets the interface sends are not counted. Needs root (or
// CAP_NET_RAW, and CAP_BPF for the kernel engine).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	flag "github.com/spf13/pflag"
)

func main() {
	var cfg config
	flag.StringVarP(&cfg.iface, "interface", "i", "", "the interface to count packets on (required)")
	flag.StringVar(&cfg.engine, "engine", "jit", "where the program runs: "+strings.Join(engines, ", "))
	flag.StringVar(&cfg.version, "program", "asm", "the program: asm (built with cilium/ebpf's asm package) or c (samples/bpf/sockex.bpf.c)")
	interval := flag.Duration("interval", time.Second, "time between reports")
	duration := flag.DurationP("duration", "d", 0, "stop after this long (0: run until Ctrl-C)")
	flag.Parse()
	cfg.fallback = !flag.CommandLine.Changed("engine")
	if err := checkFlags(cfg, *interval, *duration, flag.NArg()); err != nil {
		fmt.Fprintln(os.Stderr, "sockex:", err)
		flag.Usage()
		os.Exit(2)
	}

	c, err := openCounter(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sockex:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	fmt.Fprintf(os.Stderr, "counting packets arriving on %s with the %s program on the %s engine\n", cfg.iface, cfg.version, c.engine())
	_, err = report(ctx, c, *interval, os.Stdout)
	stop()
	if cerr := c.close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sockex:", err)
		os.Exit(1)
	}
}

func checkFlags(cfg config, interval, duration time.Duration, args int) error {
	switch {
	case cfg.iface == "":
		return fmt.Errorf("-i/--interface is required")
	case !slices.Contains(engines, cfg.engine):
		return fmt.Errorf("--engine %q: want one of %s", cfg.engine, strings.Join(engines, ", "))
	case !slices.Contains(versions, cfg.version):
		return fmt.Errorf("--program %q: want one of %s", cfg.version, strings.Join(versions, ", "))
	case interval <= 0:
		return fmt.Errorf("--interval %s: must be positive", interval)
	case duration < 0:
		return fmt.Errorf("--duration %s: must not be negative", duration)
	case args > 0:
		return fmt.Errorf("unexpected arguments: %s", strings.Join(flag.Args(), " "))
	}
	return nil
}
