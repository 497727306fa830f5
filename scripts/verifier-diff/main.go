// Command verifier-diff compares dropmon's verifier with the running
// kernel's on many generated programs (package vgen), in every mode the
// machine allows, and writes a report: counts by class and mode, then
// every disagreement, grouped by class and message, shrunk to a small
// reproducer with both verdicts and the kernel's error line.
//
//	go run ./scripts/verifier-diff -n 100000 -seed 1 -o report.txt
//
// It needs root; the unprivileged mode lowers
// kernel.unprivileged_bpf_disabled from 2 to 0 while it runs.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/vdiff"
)

func main() {
	n := flag.Int("n", 10000, "number of programs")
	seed := flag.Uint64("seed", 1, "generator seed")
	first := flag.Int("first", 0, "index of the first program")
	outPath := flag.String("o", "", "report file (default: standard output)")
	modeList := flag.String("modes", "privileged,bpf-only,unprivileged", "modes to compare in")
	examples := flag.Int("examples", 0, "disagreements shrunk and printed per group (0: all)")
	budget := flag.Int("shrink", 200, "loads spent shrinking each disagreement")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*seed, *first, *n, *modeList, *outPath, *examples, *budget); err != nil {
		log.Fatalf("verifier-diff: %v", err)
	}
}

func run(seed uint64, first, n int, modeList, outPath string, examples, budget int) error {
	l, err := kernelverdict.NewLoader(nil)
	if err != nil {
		return err
	}
	defer l.Close()
	var modes []kernelverdict.Mode
	for _, mode := range kernelverdict.Modes {
		if !strings.Contains(","+modeList+",", ","+mode.String()+",") {
			continue
		}
		if err := l.Available(mode); err != nil {
			log.Printf("skipping %v mode: %v", mode, err)
			continue
		}
		modes = append(modes, mode)
	}

	start := time.Now()
	var (
		stats vdiff.Stats
		mu    sync.Mutex
		dis   []vdiff.Result
		moved []vdiff.Result // both reject, at different instructions
		done  int
	)
	vdiff.Run(l, seed, first, n, modes, 0, &stats, func(r *vdiff.Result) {
		mu.Lock()
		defer mu.Unlock()
		if r.Kind() != vdiff.Agree {
			dis = append(dis, *r)
		} else if same, ok := r.SameInsn(); ok && !same {
			moved = append(moved, *r)
		}
		if done++; done%(10000*len(modes)) == 0 {
			log.Printf("%d of %d compared, %d disagreements, %v", done, n*len(modes), len(dis), time.Since(start).Round(time.Second))
		}
	})
	compared := time.Since(start)
	groups := vdiff.GroupResults(dis)
	shrinkAll(l, groups, examples, budget)

	w := io.Writer(os.Stdout)
	if outPath != "" {
		f, err := os.Create(outPath)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	fmt.Fprintf(w, "verifier-diff: programs %d..%d of seed %d in %d modes, compared in %v, shrunk in %v\n",
		first, first+n-1, seed, len(modes), compared.Round(time.Second), (time.Since(start) - compared).Round(time.Second))
	fmt.Fprintf(w, "kernel: %s\n", kernelRelease())
	fmt.Fprintf(w, "Spectre mitigations: %s\n\n", kernelverdict.Mitigations())
	stats.Format(w)
	fmt.Fprintf(w, "\n%d disagreements in %d groups\n", len(dis), len(groups))
	for _, g := range groups {
		fmt.Fprintf(w, "%6d  %v / %v / %s\n", g.Count(), g.Kind, g.Class, g.Message)
	}
	vdiff.WriteGroups(w, groups, examples)
	writeMoved(w, moved)
	return nil
}

// writeMoved lists the rejections both verifiers agree on but blame on
// different instructions, by class and the kernel's message, with one
// example each.
func writeMoved(w io.Writer, moved []vdiff.Result) {
	type key struct {
		class string
		msg   string
	}
	count := map[key]int{}
	first := map[key]*vdiff.Result{}
	var keys []key
	for i := range moved {
		k := key{moved[i].Class.String(), moved[i].KernelMessage()}
		if count[k]++; count[k] == 1 {
			first[k] = &moved[i]
			keys = append(keys, k)
		}
	}
	slices.SortStableFunc(keys, func(a, b key) int { return count[b] - count[a] })
	fmt.Fprintf(w, "\n\n######## both reject, at different instructions: %d\n", len(moved))
	for _, k := range keys {
		fmt.Fprintf(w, "%6d  %s / kernel: %s\n", count[k], k.class, k.msg)
	}
	for _, k := range keys {
		fmt.Fprintf(w, "\n== %s / kernel: %s: %d\n", k.class, k.msg, count[k])
		vdiff.WriteResult(w, first[k])
	}
}

// shrinkAll shrinks the first examples results of every group (all when
// examples is 0), in parallel.
func shrinkAll(l *kernelverdict.Loader, groups []*vdiff.Group, examples, budget int) {
	jobs := make(chan *vdiff.Result)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for r := range jobs {
				*r = vdiff.Shrink(l, r, budget)
			}
		})
	}
	for _, g := range groups {
		for i := range g.Results {
			if examples > 0 && i >= examples {
				break
			}
			jobs <- &g.Results[i]
		}
	}
	close(jobs)
	wg.Wait()
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
