package metrics

import (
	"net/http"
	"runtime"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Other is the location label of the drops of every (location, reason) pair
// that came after the first MaxSeries.
const Other = "other"

// DefaultMaxSeries is the default bound on the drop series with a location
// of their own.
const DefaultMaxSeries = 100

// Options configure the metrics.
type Options struct {
	// MaxSeries is how many (location, reason) pairs get a series of their
	// own; DefaultMaxSeries when 0.
	MaxSeries int
	Version   string // dropmon's version, for dropmon_build_info
	Engine    string // the engine that counts, for dropmon_engine_info; or SetEngine
}

// Metrics are dropmon's Prometheus metrics. They are safe for concurrent use:
// the monitor adds while the HTTP server gathers.
type Metrics struct {
	reg       *prometheus.Registry
	drops     *prometheus.CounterVec
	lost      prometheus.Counter
	records   prometheus.Counter
	engine    *prometheus.GaugeVec
	maxSeries int

	mu          sync.Mutex
	own         map[series]struct{} // the pairs with their own series
	lastLost    uint64
	lastRecords uint64
}

type series struct{ location, reason string }

// New makes the metrics and registers them, with the Go and process
// collectors, on a registry of their own.
func New(opts Options) *Metrics {
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = DefaultMaxSeries
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dropmon_drops_total",
			Help: `Packets the kernel dropped (skb:kfree_skb), by location (symbol+0xoff [module]) and reason; location "other" counts the pairs seen after the first --metrics-max-series.`,
		}, []string{"location", "reason"}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dropmon_lost_records_total",
			Help: "Records the kernel could not write because a perf ring was full: drops that were not counted.",
		}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dropmon_records_total",
			Help: "Tracepoint records dropmon read from the perf rings and ran its program on (0 on the kernel engine, which counts in the kernel).",
		}),
		maxSeries: opts.MaxSeries,
		own:       map[series]struct{}{},
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dropmon_build_info",
		Help: "Always 1: the version of dropmon and of Go it was built with.",
	}, []string{"version", "goversion"})
	build.WithLabelValues(opts.Version, runtime.Version()).Set(1)
	m.engine = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dropmon_engine_info",
		Help: "Always 1: the engine that runs the drop counter (jit, interp or kernel).",
	}, []string{"engine"})
	if opts.Engine != "" {
		m.SetEngine(opts.Engine)
	}
	m.reg.MustRegister(m.drops, m.lost, m.records, build, m.engine,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the metrics are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// SetEngine names the engine in dropmon_engine_info, once the monitor
// runs: the JIT may have fallen back to the interpreter.
func (m *Metrics) SetEngine(name string) {
	m.engine.Reset()
	m.engine.WithLabelValues(name).Set(1)
}

// AddDrops adds n drops at location with reason. A pair seen for the first
// time gets its own series while fewer than MaxSeries have one; after that
// it is counted under location Other, reason kept. A pair keeps the series
// it got first, so no series ever goes down.
func (m *Metrics) AddDrops(location, reason string, n uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := series{location, reason}
	if _, ok := m.own[s]; !ok {
		if len(m.own) < m.maxSeries {
			m.own[s] = struct{}{}
		} else {
			s.location = Other
		}
	}
	m.drops.WithLabelValues(s.location, s.reason).Add(float64(n))
}

// SetLost sets dropmon_lost_records_total to total, records lost since
// start; a total below the last one is ignored.
func (m *Metrics) SetLost(total uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if total > m.lastLost {
		m.lost.Add(float64(total - m.lastLost))
		m.lastLost = total
	}
}

// SetRecords sets dropmon_records_total to total, records run since start; a
// total below the last one is ignored.
func (m *Metrics) SetRecords(total uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if total > m.lastRecords {
		m.records.Add(float64(total - m.lastRecords))
		m.lastRecords = total
	}
}
