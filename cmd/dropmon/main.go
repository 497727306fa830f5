// Command dropmon shows where and why the Linux kernel drops packets. Its
// subcommands also expose the user-space eBPF engines:
//
//	dropmon exec [--engine interp|jit] [MEM_HEX] < PROGRAM_HEX
//
// runs a program given as hex bytes on stdin, the bpf_conformance plugin
// protocol. Without a command dropmon runs the monitor (dropmon --help).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand: it gets the arguments after its name and
// returns the exit status.
type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

var commands = []command{
	{"exec", "run a program given as hex bytecode on stdin (the bpf_conformance plugin protocol)", runExec},
	{"verify", "check a program (ELF object or JSON description) with dropmon's verifier", runVerify},
	{"disasm", "list a program's eBPF instructions and, with --jit, the x86-64 code the JIT makes of each", runDisasm},
}

// record and replay share the monitor's flags, whose --help lists the
// commands: they join the list here, after it exists.
func init() {
	commands = append(commands,
		command{"record", "run the monitor and write the records it reads to a file (perf.data format) to replay later, anywhere", runRecord},
		command{"replay", "report the drops of a recording (dropmon record, or perf record -e skb:kfree_skb -a), without root", runReplay},
	)
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// dispatch runs the subcommand args[0] names. Exit status 2 is a usage
// error, as with flag parsing.
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return runMonitor(args, stdout, stderr)
	}
	if args[0] == "help" {
		return runMonitor([]string{"--help"}, stdout, stdout)
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "dropmon: unknown command %q (dropmon --help lists the commands)\n", args[0])
	return 2
}
