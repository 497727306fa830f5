package perfdata

import (
	"container/heap"
)

// SortedRecords calls fn for each SAMPLE and LOST record in time order,
// holding back only as many records as perf's FINISHED_ROUND rule needs
// (tools/perf/util/session.c, process_finished_round):
//
// perf record writes FINISHED_ROUND after each pass over all its rings.
// Let t be the newest timestamp read before the round n ended. A ring that
// still held records older than t when round n ended gives them up in
// round n+1 at the latest. So when round n+1 ends, every record up to t
// has been read and can be delivered; newer ones wait for the next round.
// At the end of the file everything left is delivered.
//
// A file without FINISHED_ROUND is therefore sorted whole, in memory.
// Records without a timestamp are delivered as soon as they are read, as
// perf does; a record older than what was already delivered (a writer that
// broke the rule) is delivered with the next batch, out of order, again as
// perf does. Equal timestamps keep file order. Unlike Records, the Record
// and its slices stay valid after fn returns.
func (f *File) SortedRecords(fn func(*Record) error) error {
	q := &recordQueue{}
	var seq, roundMax, prevRoundMax uint64
	flush := func(upTo uint64) error {
		for q.Len() > 0 && (*q)[0].time <= upTo {
			if err := fn(&heap.Pop(q).(*queued).rec); err != nil {
				return err
			}
		}
		return nil
	}
	err := f.Records(func(r *Record) error {
		if r.Type == RecordFinishedRound {
			if err := flush(prevRoundMax); err != nil {
				return err
			}
			prevRoundMax = roundMax
			return nil
		}
		t, ok := f.recordTime(r)
		c := copyRecord(r)
		if !ok {
			return fn(&c)
		}
		roundMax = max(roundMax, t)
		seq++
		heap.Push(q, &queued{time: t, seq: seq, rec: c})
		if queueLenHook != nil {
			queueLenHook(q.Len())
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush(^uint64(0))
}

// queueLenHook, set by tests, sees the queue's length after each push.
var queueLenHook func(n int)

// recordTime returns a record's timestamp, when its attr records one.
func (f *File) recordTime(r *Record) (uint64, bool) {
	if r.Attr < 0 {
		return 0, false
	}
	st := f.Attrs[r.Attr].Attr.Sample_type
	if st&sampleTime == 0 {
		return 0, false
	}
	if r.Type == RecordSample || f.idAll {
		return r.Sample.Time, true
	}
	return 0, false
}

// copyRecord detaches r from the reader's buffers.
func copyRecord(r *Record) Record {
	c := *r
	c.Sample.Raw = clone(r.Sample.Raw)
	if len(r.Sample.Callchain) > 0 {
		c.Sample.Callchain = append([]uint64(nil), r.Sample.Callchain...)
	} else {
		c.Sample.Callchain = nil
	}
	return c
}

type queued struct {
	time, seq uint64
	rec       Record
}

// recordQueue is a min-heap by (time, seq).
type recordQueue []*queued

func (q recordQueue) Len() int { return len(q) }
func (q recordQueue) Less(i, j int) bool {
	if q[i].time != q[j].time {
		return q[i].time < q[j].time
	}
	return q[i].seq < q[j].seq
}
func (q recordQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *recordQueue) Push(x any)   { *q = append(*q, x.(*queued)) }
func (q *recordQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return x
}
