package flowdissect

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/userspacevm"
)

// BenchmarkFlowDissector is the seed's benchmark: ns per frame for each
// engine, "same" dissecting one cached frame again and again, "different"
// walking in order distinct frames whose bytes span at least 4 times the
// last-level cache, so that most frames come from memory (Distinct's mix;
// frames are packed back to back, so the bytes read span the cache 4 times
// over too).
//
// Engines that run in this process time themselves with the benchmark's
// timer. The kernel row reports the kernel's own time instead (ns/op set
// with b.ReportMetric, which replaces the timer's): BPF_PROG_TEST_RUN's
// duration, taken with ktime_get_ns around its loop of runs, each run being
// bpf_flow_dissect (memset of the keys, the program, the clamping) as
// Dissect does it, without the syscall or copying the frame in. For "same"
// one call runs the frame b.N times (in chunks). For "different" one call
// per frame with repeat 1 reports that frame's time; the kernel copies
// each frame into a buffer of its own just before, so the program reads it
// from cache, not memory, and each time includes one ktime_get_ns (tens of
// ns): kernel/different measures distinct frames, not cold ones, and
// overstates the program by the timer.
func BenchmarkFlowDissector(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			b.Run("same", func(b *testing.B) {
				e.bench(b, [][]byte{benchFrame(b)})
			})
			b.Run("different", func(b *testing.B) {
				e.bench(b, differentFrames(b))
			})
		})
	}
}

// runFunc dissects one frame as an engine does; Dissect is one.
type runFunc func(frame []byte, k *Keys) (Verdict, error)

// engine is one row of BenchmarkFlowDissector. An engine that runs frames
// in this process gives open; one that measures itself gives timed.
type engine struct {
	name string
	// open returns the engine's run function (or skips b).
	open func(b *testing.B) runFunc
	// batch returns the engine's burst function (or skips b).
	batch func(b *testing.B) batchFunc
	// timed dissects frames[i%len(frames)] for i < b.N and returns the
	// time the engine measured for all of them.
	timed func(b *testing.B, frames [][]byte) time.Duration
}

// engines lists the rows. The user-space engines leave the keys where the
// program wrote them, in the kernel's struct bpf_flow_keys inside the
// context (User.RunRaw), as the kernel's flow dissector leaves them for
// its caller; native writes a Keys. Both include the setup and the
// clamping.
//
// The user-space engines run frames in bursts of batchSize through one
// call (User.RunBatch): entering machine code from Go costs about 4 ns
// (the ABI switch, the trampoline), as much as dissecting a frame, and a
// burst pays it once, as a kernel driver hands the stack a burst of
// packets. jit-percall is the JIT entered once per frame (User.RunRaw),
// for comparison.
var engines = []engine{
	{name: "native", open: func(*testing.B) runFunc { return Dissect }},
	{name: "interp", batch: func(b *testing.B) batchFunc { return userBatch(b, userspacevm.Interp{}) }},
	{name: "jit", batch: func(b *testing.B) batchFunc { return userBatch(b, jitEngine(b)) }},
	{name: "jit-percall", open: func(b *testing.B) runFunc {
		u := loadUser(b, jitEngine(b))
		return func(frame []byte, _ *Keys) (Verdict, error) { return u.RunRaw(frame) }
	}},
	{name: "kernel", timed: kernelTimed},
}

// batchSize is the burst the user-space engines run in one call.
const batchSize = 32

// batchFunc dissects a burst of frames, as User.RunBatch.
type batchFunc func(frames [][]byte, verdicts []Verdict) error

func jitEngine(b *testing.B) userspacevm.Engine {
	if runtime.GOARCH != "amd64" {
		b.Skipf("the JIT compiles for amd64, not %s", runtime.GOARCH)
	}
	return jit.Engine{Exclusive: true}
}

// userBatch loads the object on a user-space engine for a benchmark.
func userBatch(b *testing.B, e userspacevm.Engine) batchFunc {
	return loadUser(b, e).RunBatch
}

// benchBatch is bench for engines that take bursts: b.N frames, in bursts
// of batchSize taken in order from frames (one frame repeated for same).
func (e engine) benchBatch(b *testing.B, frames [][]byte) {
	run := e.batch(b)
	if len(frames) == 1 {
		same := make([][]byte, batchSize)
		for i := range same {
			same[i] = frames[0]
		}
		frames = same
	}
	verdicts := make([]Verdict, batchSize)
	bad := 0
	b.ResetTimer()
	for done, j := 0, 0; done < b.N; {
		n := min(batchSize, b.N-done, len(frames)-j)
		if err := run(frames[j:j+n], verdicts); err != nil {
			b.Fatal(err)
		}
		for _, v := range verdicts[:n] {
			if v != OK {
				bad++
			}
		}
		done += n
		if j += n; j == len(frames) {
			j = 0
		}
	}
	b.StopTimer()
	if bad != 0 {
		b.Fatalf("%d of %d frames dropped", bad, b.N)
	}
}

func (e engine) bench(b *testing.B, frames [][]byte) {
	b.ReportAllocs()
	if e.timed != nil {
		d := e.timed(b, frames)
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "ns/op")
		return
	}
	if e.batch != nil {
		e.benchBatch(b, frames)
		return
	}
	run := e.open(b)
	var k Keys
	bad := 0
	b.ResetTimer()
	for i, j := 0, 0; i < b.N; i++ {
		if v, _ := run(frames[j], &k); v != OK {
			bad++
		}
		if j++; j == len(frames) {
			j = 0
		}
	}
	b.StopTimer()
	if bad != 0 {
		b.Fatalf("%d of %d frames dropped", bad, b.N)
	}
}

// kernelTimed runs frames through BPF_PROG_TEST_RUN and sums the kernel's
// durations: one frame with a repeat count, several with one call each. It
// also reports empty-ns/op, the same for a flow dissector that returns
// BPF_OK at once: the kernel's cost around the program (the indirect call,
// through a retpoline where the CPU needs one, the memset and clamping,
// the test run's loop and timer).
func kernelTimed(b *testing.B, frames [][]byte) time.Duration {
	kp := loadKernel(b)
	empty := loadEmpty(b)
	emptyTime := kernelTime(b, empty, frames, b.N)
	b.ResetTimer() // which also drops reported metrics
	d := kernelTime(b, kp, frames, b.N)
	b.ReportMetric(float64(emptyTime.Nanoseconds())/float64(b.N), "empty-ns/op")
	return d
}

// kernelTime is kernelTimed's measure for one program.
func kernelTime(b *testing.B, kp *Kernel, frames [][]byte, n int) time.Duration {
	var k Keys
	var total time.Duration
	if len(frames) == 1 {
		const chunk = 1 << 20
		for left := n; left > 0; left -= chunk {
			n := min(left, chunk)
			v, d, err := kp.Run(frames[0], &k, uint32(n))
			if err != nil || v != OK {
				b.Fatalf("%v %v", v, err)
			}
			total += d * time.Duration(n)
		}
		return total
	}
	for i, j := 0, 0; i < n; i++ {
		v, d, err := kp.Run(frames[j], &k, 1)
		if err != nil || v != OK {
			b.Fatalf("frame %d: %v %v", j, v, err)
		}
		total += d
		if j++; j == len(frames) {
			j = 0
		}
	}
	return total
}

// benchFrame is "same"'s frame: IPv4 TCP, the commonest case.
func benchFrame(b *testing.B) []byte { return corpusFrame(b, "ipv4/tcp") }

var (
	differentOnce sync.Once
	differentSet  [][]byte
)

// differentFrames returns Distinct frames spanning 4 times the last-level
// cache, made once per process.
func differentFrames(b *testing.B) [][]byte {
	differentOnce.Do(func() {
		llc, err := LLCSize()
		if err != nil {
			llc = DefaultLLCSize
			b.Logf("%v: assuming %d MiB", err, llc>>20)
		}
		differentSet = DistinctSpanning(4 * llc)
	})
	return differentSet
}

// loadEmpty loads a flow dissector that returns BPF_OK at once.
func loadEmpty(b *testing.B) *Kernel {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "empty",
		Type:         ebpf.FlowDissector,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, int32(OK)), asm.Return()},
		License:      "GPL",
	})
	if err != nil {
		b.Fatalf("load empty flow dissector: %v", err)
	}
	kp := &Kernel{prog: prog}
	b.Cleanup(func() { kp.Close() })
	return kp
}

// BenchmarkFlowDissectorRatio measures the JIT against native Go in the
// same process, alternating slices of about a millisecond between them,
// so that the machine's drift (a shared, noisy host) falls on both alike:
// it reports each one's ns per frame and jit/native, the seed's ratio
// (1.21 for its JIT against C). b.N counts frames of each.
func BenchmarkFlowDissectorRatio(b *testing.B) {
	for _, c := range []struct {
		name   string
		frames func(*testing.B) [][]byte
	}{
		{"same", func(b *testing.B) [][]byte { return [][]byte{benchFrame(b)} }},
		{"different", differentFrames},
	} {
		b.Run(c.name, func(b *testing.B) {
			frames := c.frames(b)
			if len(frames) == 1 {
				frames = slices.Repeat(frames, batchSize)
			}
			jitRun := userBatch(b, jitEngine(b))
			verdicts := make([]Verdict, batchSize)
			var k Keys
			const slice = 1 << 16 // frames per turn: about a millisecond
			var native, jitted time.Duration
			b.ResetTimer()
			for done, j := 0, 0; done < b.N; {
				n := min(slice, b.N-done)
				start := time.Now()
				for i, jj := 0, j; i < n; i++ {
					if v, _ := Dissect(frames[jj], &k); v != OK {
						b.Fatal("dropped")
					}
					if jj++; jj == len(frames) {
						jj = 0
					}
				}
				native += time.Since(start)
				start = time.Now()
				for i := 0; i < n; {
					m := min(batchSize, n-i, len(frames)-j)
					if err := jitRun(frames[j:j+m], verdicts); err != nil {
						b.Fatal(err)
					}
					i += m
					if j += m; j == len(frames) {
						j = 0
					}
				}
				jitted += time.Since(start)
				done += n
			}
			b.StopTimer()
			b.ReportMetric(float64(native.Nanoseconds())/float64(b.N), "native-ns/frame")
			b.ReportMetric(float64(jitted.Nanoseconds())/float64(b.N), "jit-ns/frame")
			b.ReportMetric(float64(jitted)/float64(native), "jit/native")
		})
	}
}
