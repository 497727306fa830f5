package main

import (
	"errors"
	"fmt"

	flag "github.com/spf13/pflag"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/tracepoint"
)

// filterFlags are the monitor's filters, as given: reason names and the
// function are resolved against the running kernel when the monitor starts.
type filterFlags struct {
	reasons        []string
	excludeReasons []string
	protocol       string
	pid            uint32
	comm           string
	location       string

	parsed dropcount.Filter // what needs no kernel: protocol, comm
}

// taskNote is what --pid and --comm mean, for --help.
const taskNote = " (the task running when the packet was dropped: for received packets often whichever task ran the softirq, such as the sender on loopback or ksoftirqd)"

func (ff *filterFlags) register(fs *flag.FlagSet) {
	fs.StringSliceVar(&ff.reasons, "reason", nil, "count only drops with these reasons, NAME[,NAME] as the kernel names them (NO_SOCKET, any case, SKB_DROP_REASON_ prefix optional)")
	fs.StringSliceVar(&ff.excludeReasons, "exclude-reason", nil, "leave out drops with these reasons, NAME[,NAME]")
	fs.StringVar(&ff.protocol, "protocol", "", "count only drops of packets of this EtherType: ipv4, ipv6, arp or a number (0x8100)")
	fs.Uint32Var(&ff.pid, "pid", 0, "count only drops made while a thread of process PID ran"+taskNote)
	fs.StringVar(&ff.comm, "comm", "", "count only drops made while a task called NAME ran (at most 15 bytes)"+taskNote)
	fs.StringVar(&ff.location, "location", "", "count only drops inside this kernel function (__udp4_lib_rcv)")
}

// any reports whether a filter flag was given.
func (ff *filterFlags) any() bool {
	return len(ff.reasons) > 0 || len(ff.excludeReasons) > 0 || ff.protocol != "" || ff.pid != 0 || ff.comm != "" || ff.location != ""
}

// check validates what needs no kernel; program says --program was given.
func (ff *filterFlags) check(program bool) error {
	if program && ff.any() {
		return errors.New("--reason, --exclude-reason, --protocol, --pid, --comm and --location filter the drop counter; they do not go with --program")
	}
	if ff.protocol != "" {
		p, err := dropcount.ParseProtocol(ff.protocol)
		if err != nil {
			return fmt.Errorf("--protocol: %w", err)
		}
		ff.parsed.Protocol, ff.parsed.HasProtocol = p, true
	}
	ff.parsed.Comm = ff.comm
	if err := ff.parsed.Check(); err != nil {
		return fmt.Errorf("--comm: %w", err)
	}
	for _, lists := range [][]string{ff.reasons, ff.excludeReasons} {
		for _, name := range lists {
			if name == "" {
				return errors.New("--reason and --exclude-reason: empty reason name")
			}
		}
	}
	return nil
}

// apply puts the filters into the monitor's configuration.
func (ff *filterFlags) apply(cfg *monitor.Config) error {
	filter, err := ff.build()
	if err != nil {
		return err
	}
	cfg.PID, cfg.Filter = ff.pid, filter
	return nil
}

// build resolves the filter against the running kernel: reason names from
// the tracepoint's format, the function from /proc/kallsyms. It returns nil
// when no filter was asked for.
func (ff *filterFlags) build() (*dropcount.Filter, error) {
	if !ff.any() {
		return nil, nil
	}
	var format *tracepoint.Format
	if len(ff.reasons) > 0 || len(ff.excludeReasons) > 0 {
		var err error
		if format, err = tracepoint.ReadFormat("skb", "kfree_skb"); err != nil {
			return nil, err
		}
	}
	return ff.resolve(format, monitor.FunctionRange)
}

// resolve is build with the format and the function lookup given.
func (ff *filterFlags) resolve(format *tracepoint.Format, function func(string) (*dropcount.Range, error)) (*dropcount.Filter, error) {
	filter := ff.parsed
	var err error
	if filter.Reasons, err = dropcount.ParseReasons(format, ff.reasons); err != nil {
		return nil, fmt.Errorf("--reason: %w", err)
	}
	if filter.ExcludeReasons, err = dropcount.ParseReasons(format, ff.excludeReasons); err != nil {
		return nil, fmt.Errorf("--exclude-reason: %w", err)
	}
	if ff.location != "" {
		if filter.Location, err = function(ff.location); err != nil {
			return nil, fmt.Errorf("--location: %w", err)
		}
	}
	return &filter, nil
}
