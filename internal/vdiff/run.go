package vdiff

import (
	"runtime"
	"sync"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/vgen"
)

// Run compares programs [first, first+n) of seed in every mode of modes,
// on workers goroutines (0 means GOMAXPROCS), adding every result to
// stats and passing each to each, which must be safe for concurrent use.
func Run(l *kernelverdict.Loader, seed uint64, first, n int, modes []kernelverdict.Mode, workers int,
	stats *Stats, each func(*Result)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				c := vgen.At(seed, i)
				for _, mode := range modes {
					r := CompareCase(l, &c, mode)
					stats.Add(&r)
					if each != nil {
						each(&r)
					}
				}
			}
		})
	}
	for i := first; i < first+n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
