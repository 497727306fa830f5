package kernelverdict

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/program"
)

func newLoader(t *testing.T) *Loader {
	t.Helper()
	l, err := NewLoader(nil)
	testutil.Privileged(t, err)
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("cannot load programs into the kernel: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

// needMode skips the test when the machine cannot load in mode.
func needMode(t *testing.T, l *Loader, mode Mode) {
	t.Helper()
	if err := l.Available(mode); err != nil {
		if errors.Is(err, ErrUnavailable) {
			t.Skipf("%v loads unavailable: %v", mode, err)
		}
		t.Fatal(err)
	}
}

func socketFilter(insns ...asm.Instruction) *program.Program {
	return &program.Program{Type: program.SocketFilter, Insns: insns, License: "GPL"}
}

// The verdicts that tell the modes apart, as Linux gives them.
func TestModes(t *testing.T) {
	l := newLoader(t)
	needMode(t, l, BPFOnly)
	needMode(t, l, Unprivileged)
	loop := socketFilter(asm.Mov.Imm(asm.R0, 0),
		asm.Add.Imm(asm.R0, 1).WithSymbol("top"), asm.JLT.Imm(asm.R0, 4, "top"), asm.Return())
	cgroup := socketFilter(asm.Mov.Imm(asm.R0, 1), asm.Return())
	cgroup.Type = program.CgroupSKB
	tests := []struct {
		name string
		prog *program.Program
		want [3]Verdict // by mode
		msg  string     // in the log of the first rejection
		// spectre: the BPFOnly verdict depends on the CPU's Spectre v1
		// mitigation (the kernel simulates speculative paths for loaders
		// without CAP_PERFMON, and a bounded loop may then not converge).
		spectre bool
	}{
		{"return of ctx", socketFilter(asm.Mov.Reg(asm.R0, asm.R1), asm.Return()),
			[3]Verdict{Accept, Reject, Reject}, "R0 leaks addr as return value", false},
		{"uninit stack read", socketFilter(asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord), asm.Return()),
			[3]Verdict{Accept, Reject, Reject}, "invalid read from stack", false},
		{"bounded loop", loop, [3]Verdict{Accept, Accept, Reject}, "back-edge from insn 2 to 1", true},
		{"cgroup_skb", cgroup, [3]Verdict{Accept, Accept, Accept}, "", false},
		{"r0 unset", socketFilter(asm.Return()), [3]Verdict{Reject, Reject, Reject}, "R0 !read_ok", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range Modes {
				v, log, err := l.Load(tt.prog, mode)
				if err != nil {
					t.Fatalf("%v: %v", mode, err)
				}
				if mode == BPFOnly && tt.spectre {
					t.Logf("%v: %v (under %s)", mode, v, Mitigations())
					continue
				}
				if v != tt.want[mode] {
					t.Fatalf("%v: %v, want %v; log:\n%s", mode, v, tt.want[mode], log)
				}
				if v == Reject && !strings.Contains(log, tt.msg) {
					t.Errorf("%v: log does not contain %q:\n%s", mode, tt.msg, log)
				}
			}
		})
	}
}

// An unprivileged loader may load at most 4096 instructions (BPF_MAXINSNS):
// a verdict, not an error.
func TestUnprivilegedInstructionLimit(t *testing.T) {
	l := newLoader(t)
	needMode(t, l, Unprivileged)
	insns := make(asm.Instructions, 0, 4097)
	for range 4096 {
		insns = append(insns, asm.Mov.Imm(asm.R0, 0))
	}
	p := socketFilter(append(insns, asm.Return())...)
	if v, _, err := l.Load(p, Unprivileged); err != nil || v != Reject {
		t.Errorf("4097 instructions unprivileged: %v, %v; want a rejection", v, err)
	}
	if v, _, err := l.Load(p, BPFOnly); err != nil || v != Accept {
		t.Errorf("4097 instructions with CAP_BPF: %v, %v; want acceptance", v, err)
	}
}

// A map the kernel will not create is an error, not a verdict.
func TestMapErrorIsNoVerdict(t *testing.T) {
	l := newLoader(t)
	p := socketFilter(asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R0, 0), asm.Return())
	p.Maps = []*program.MapSpec{{Type: ebpf.Array, KeySize: 4, ValueSize: 0, MaxEntries: 1}}
	if _, _, err := l.Load(p, Privileged); err == nil || !strings.Contains(err.Error(), "create map 0") {
		t.Errorf("map of 0-byte values: err = %v, want a map creation error", err)
	}
}

// Map loads by index and by name reach their maps; a flag of the map
// spec reaches the kernel.
func TestMaps(t *testing.T) {
	l := newLoader(t)
	maps := []*program.MapSpec{
		{Name: "a", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1},
		{Name: "ro", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: 1 << 7},
	}
	write := func(load asm.Instruction) *program.Program {
		p := socketFilter(load, asm.StoreImm(asm.R1, 0, 1, asm.Word), asm.Mov.Imm(asm.R0, 0), asm.Return())
		p.Maps = maps
		return p
	}
	for _, tt := range []struct {
		load asm.Instruction
		want Verdict
	}{
		{asm.LoadMapValue(asm.R1, 0, 0), Accept},
		{asm.LoadMapValue(asm.R1, 0, 0).WithReference("ro"), Reject},
		{asm.LoadMapValue(asm.R1, 1, 0), Reject},
	} {
		for _, mode := range []Mode{Privileged, BPFOnly} {
			if mode != Privileged {
				needMode(t, l, mode)
			}
			v, log, err := l.Load(write(tt.load), mode)
			if err != nil || v != tt.want {
				t.Errorf("%v %v: %v %v, want %v\n%s", tt.load, mode, v, err, tt.want, log)
			}
		}
	}
}

func TestFailedInsn(t *testing.T) {
	tests := []struct {
		log  string
		insn int
		line string
	}{
		{"0: R1=ctx() R10=fp0\n0: (bf) r0 = r1 ; R0=ctx()\n1: (95) exit\nR0 leaks addr as return value\n" +
			"processed 2 insns (limit 1000000) max_states_per_insn 0\n", 1, "R0 leaks addr as return value"},
		{"0: (b7) r0 = 0 ; R0=0\n1: (55) if r0 != 0x0 goto pc+1      ; R0=0\nR1 !read_ok\n", 1, "R1 !read_ok"},
		{"back-edge from insn 4 to 2\nprocessed 0 insns (limit 1000000)\n", 4, "back-edge from insn 4 to 2"},
		{"2: (55) if r0 != 0x0 goto pc+1 ; R0=2\n4: (05) goto pc-3\n2: (55) if r0 != 0x0 goto pc+1\n" +
			"infinite loop detected at insn 4\ncur state: R0=2\nold state: R0=P2\n", 4, "infinite loop detected at insn 4"},
		{"3: (07) r7 += 1 ; R7=2\n4: (a5) if r7 < 0x2 goto pc-2    ; R7=2\n4: (a5) if r7 < 0x2 goto pc-2 3: R7=1 R10=fp0\n3: (07) r7 += 1\n" +
			"4: (a5) if r7 < 0x2 goto pc-2 infinite loop detected at insn 3\ncur state: R7=scalar()\n", 3,
			"infinite loop detected at insn 3"},
		{"0: (79) r0 = *(u64 *)(r10 -8)\nfrom 3 to 5: R0=1\n5: R0=1\ninvalid read from stack R10 off=-8 size=8\n", 0,
			"invalid read from stack R10 off=-8 size=8"},
	}
	for _, tt := range tests {
		insn, ok := FailedInsn(tt.log)
		if !ok || insn != tt.insn {
			t.Errorf("FailedInsn = %d, %v; want %d\n%s", insn, ok, tt.insn, tt.log)
		}
		if got := ErrorLine(tt.log); got != tt.line {
			t.Errorf("ErrorLine = %q, want %q", got, tt.line)
		}
	}
	if _, ok := FailedInsn("load program: bad address"); ok {
		t.Error("FailedInsn found an instruction in a log without one")
	}
}

func TestMitigations(t *testing.T) {
	m := Mitigations()
	for _, name := range vulnerabilities {
		if !strings.Contains(m, name+"=") {
			t.Errorf("Mitigations() = %q, lacks %s", m, name)
		}
	}
	t.Log(m)
}

// holdEnv makes the test binary TestHoldSysctl's helper.
const holdEnv = "KERNELVERDICT_TEST_HOLD"

// TestHoldSysctl is the helper of TestSignalRestoresSysctl: it lowers the
// sysctl, says so, and waits to be killed.
func TestHoldSysctl(t *testing.T) {
	if os.Getenv(holdEnv) == "" {
		t.Skip("helper of TestSignalRestoresSysctl")
	}
	l, err := NewLoader(&Options{Children: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Available(Unprivileged); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("lowered " + l.exe.dir + "\n")
	time.Sleep(time.Minute)
	t.Fatal("not interrupted")
}

// TestSignalRestoresSysctl interrupts a process that lowered
// kernel.unprivileged_bpf_disabled and checks that it put the value back,
// or, when killed, that the next Loader does.
func TestSignalRestoresSysctl(t *testing.T) {
	newLoader(t) // skips where BPF is out of reach
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			before, err := readSysctl()
			if err != nil {
				t.Fatal(err)
			}
			if before != "2" {
				t.Skipf("kernel.unprivileged_bpf_disabled is %s, not 2: nothing to restore, "+
					"or another process has it lowered", before)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestHoldSysctl$", "-test.count=1")
			cmd.Env = append(os.Environ(), holdEnv+"=1")
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			exeDir, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "lowered ")
			if err != nil || !ok {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper said %q, %v", line, err)
			}
			if now, _ := readSysctl(); now != "0" {
				t.Errorf("helper running: kernel.unprivileged_bpf_disabled = %s, want 0", now)
			}
			cmd.Process.Signal(sig)
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != sig {
				t.Errorf("helper ended with %v, want death by %v", err, sig)
			}
			if sig == syscall.SIGKILL {
				os.RemoveAll(exeDir) // the helper had no chance to
				// Nothing runs on SIGKILL: the next Loader to lower the
				// sysctl finds the saved value and restores it.
				l := newLoader(t)
				needMode(t, l, Unprivileged)
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if after, _ := readSysctl(); after != before {
				t.Errorf("after %v: kernel.unprivileged_bpf_disabled = %s, want %s", sig, after, before)
			}
		})
	}
}
