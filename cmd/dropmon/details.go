package main

import (
	"errors"
	"fmt"

	flag "github.com/spf13/pflag"

	"github.com/dropmon/dropmon/dropdetails"
	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/report"
)

// detailsFlags are --details and the filters on packet details.
type detailsFlags struct {
	on       bool
	flowsTop int
	maxFlows uint32
	netns    string
	ifname   string
	src, dst string
	port     uint16

	filter dropdetails.Filter // parsed
}

func (df *detailsFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&df.on, "details", false, "read each dropped packet (kernel engine, kernel BTF): network namespace, interface, 5-tuple, length, mark; "+
		"the top flows go under each row (JSON: every flow)")
	fs.IntVar(&df.flowsTop, "flows-top", report.DefaultFlowTop, "with --details: flows per row in the table")
	fs.Uint32Var(&df.maxFlows, "flows-max", dropdetails.DefaultMaxFlows, "with --details: flows kept (an LRU map; evictions are counted and shown)")
	fs.StringVar(&df.netns, "netns", "", "with --details: count only drops in this network namespace: an inode (lsns -t net) or a path (/var/run/netns/NAME, /proc/PID/ns/net)")
	fs.StringVar(&df.ifname, "ifname", "", "with --details: count only drops of packets on the interface called NAME in its own namespace")
	fs.StringVar(&df.src, "src", "", "with --details: count only drops of IP packets from ADDR[/PREFIX]")
	fs.StringVar(&df.dst, "dst", "", "with --details: count only drops of IP packets to ADDR[/PREFIX]")
	fs.Uint16Var(&df.port, "port", 0, "with --details: count only drops of TCP or UDP packets from or to port N")
}

// check validates the flags once fs is parsed; program says --program was
// given.
func (df *detailsFlags) check(fs *flag.FlagSet, program bool) error {
	var without []string
	for _, name := range []string{"flows-top", "flows-max", "netns", "ifname", "src", "dst", "port"} {
		if fs.Changed(name) {
			without = append(without, "--"+name)
		}
	}
	if !df.on {
		if len(without) > 0 {
			return fmt.Errorf("%s goes with --details (the packet details are read in the kernel engine's program)", without[0])
		}
		return nil
	}
	switch {
	case program:
		return errors.New("--details runs dropmon's details program; it does not go with --program")
	case df.flowsTop < 1:
		return fmt.Errorf("--flows-top %d: must be at least 1", df.flowsTop)
	case df.maxFlows < 1:
		return fmt.Errorf("--flows-max %d: must be at least 1", df.maxFlows)
	case fs.Changed("port") && df.port == 0:
		return errors.New("--port 0: ports start at 1")
	}
	var err error
	if df.netns != "" {
		if df.filter.Netns, err = dropdetails.ParseNetns(df.netns); err != nil {
			return fmt.Errorf("--netns: %w", err)
		}
	}
	if df.src != "" {
		if df.filter.Src, err = dropdetails.ParsePrefix(df.src); err != nil {
			return fmt.Errorf("--src: %w", err)
		}
	}
	if df.dst != "" {
		if df.filter.Dst, err = dropdetails.ParsePrefix(df.dst); err != nil {
			return fmt.Errorf("--dst: %w", err)
		}
	}
	df.filter.Ifname, df.filter.Port = df.ifname, df.port
	if err := df.filter.Check(); err != nil {
		return fmt.Errorf("--ifname: %w", err)
	}
	return nil
}

// counter is the details counter, for --details (with call chains for
// --stacks).
func (df *detailsFlags) counter(stacks bool) (*monitor.Counter, error) {
	return monitor.DetailsCounter(&df.filter, df.maxFlows, stacks)
}
