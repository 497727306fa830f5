package report_test

import (
	"os"
	"time"

	"github.com/dropmon/dropmon/internal/report"
)

// A report as JSON lines: one object per line, with the numbers the table
// would show.
func ExampleRenderJSON() {
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	udp := report.Key{Location: 0xffffffff820a8c2c, Reason: 3}
	tr := report.NewTracker(report.ByLocationReason, []int{0, 1}, start)
	r := tr.Next(start.Add(time.Second), report.Counts{udp: 100}, nil)
	opts := report.Options{By: report.ByLocationReason, Reasons: true, Engine: "jit", Tracepoint: "skb:kfree_skb",
		Names: report.Names{Reason: func(uint32) string { return "NO_SOCKET" }}}
	report.RenderJSON(os.Stdout, r, opts)
	// Output:
	// {"type":"report","time":"2026-12-03T12:00:01.000000000Z","interval":1,"drops":100,"rate":100,"total":100,"lost":0,"lost_total":0,"cpus":2,"engine":"jit","tracepoint":"skb:kfree_skb","entries":[{"address":"0xffffffff820a8c2c","location":"0xffffffff820a8c2c","reason":"NO_SOCKET","reason_code":3,"count":100,"total":100,"share":1}]}
}
