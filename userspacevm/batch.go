package userspacevm

// BatchItem is one run of a batch: the context and, for __sk_buff
// programs, the packet; RunBatch writes the program's R0. Its layout is a
// contract with generated code (the JIT reads the slices' pointers and
// lengths and writes R0 in place), checked by the JIT's tests.
type BatchItem struct {
	Ctx    []byte
	Packet []byte
	R0     uint64
}

// BatchRunner is a Runner that runs many contexts in one call, paying the
// entry into the engine once per batch instead of once per run: the JIT's
// Runner, whose entry from Go costs several ns, as much as a short
// program.
type BatchRunner interface {
	Runner
	// RunBatch runs the program over each item in order, as Run would
	// with rc (whose Packet is each item's), writing each R0. It returns
	// how many items ran; on an error, the items from the failing one on
	// are left as they were.
	RunBatch(items []BatchItem, rc *RunContext) (int, error)
}

// RunBatch runs r over items: in one call when r is a BatchRunner, else run
// by run. rc may be nil; its Packet is replaced for each item and restored.
func RunBatch(r Runner, items []BatchItem, rc *RunContext) (int, error) {
	if br, ok := r.(BatchRunner); ok {
		return br.RunBatch(items, rc)
	}
	if rc == nil {
		rc = new(RunContext)
	}
	saved := rc.Packet
	for i := range items {
		rc.Packet = items[i].Packet
		r0, err := r.Run(items[i].Ctx, rc)
		if err != nil {
			rc.Packet = saved
			return i, err
		}
		items[i].R0 = r0
	}
	rc.Packet = saved
	return len(items), nil
}
