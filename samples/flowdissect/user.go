package flowdissect

import (
	"errors"
	"fmt"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/samples"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// User is samples/bpf/flowdissect.bpf.o on one of dropmon's user-space
// engines (the interpreter or the JIT), verified by dropmon's verifier
// first. The engine gives the program what the kernel gives a flow
// dissector: an __sk_buff whose data and data_end bound the frame and whose
// flow_keys point to struct bpf_flow_keys, set up and clamped as
// bpf_flow_dissect does for BPF_PROG_TEST_RUN. A User runs one frame, or
// one batch, at a time.
type User struct {
	prep   *userspacevm.Prepared
	runner userspacevm.Runner
	skb    skbuff.Context
	rc     userspacevm.RunContext

	// For RunBatch: a context and a batch item per frame, reused.
	batchSkb   []skbuff.Context
	batchItems []userspacevm.BatchItem
}

// LoadUser verifies the committed object's program and loads it on engine.
func LoadUser(engine userspacevm.Engine) (*User, error) {
	obj, err := samples.Object(ObjectName)
	if err != nil {
		return nil, err
	}
	prog, err := program.FromELFBytes(obj, ObjectName, "flow_dissector", ProgramName, nil)
	if err != nil {
		return nil, err
	}
	v, err := verifier.Verify(prog, nil)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", ProgramName, err)
	}
	u := &User{}
	if u.prep, err = userspacevm.PrepareVerified(v, nil); err != nil {
		return nil, err
	}
	if u.runner, err = engine.Load(u.prep); err != nil {
		u.prep.Close()
		return nil, fmt.Errorf("load %s on %s: %w", ProgramName, engine.Name(), err)
	}
	return u, nil
}

// Close releases the runner and the program.
func (u *User) Close() error {
	return errors.Join(u.runner.Close(), u.prep.Close())
}

// RunRaw dissects frame and leaves the keys in the 56-byte layout of
// struct bpf_flow_keys, where the program wrote them: RawKeys returns them.
// The engine sets them up and clamps them as the kernel's bpf_flow_dissect
// does. A frame shorter than 14 bytes gives ErrShortFrame, as the kernel's
// test run refuses it.
func (u *User) RunRaw(frame []byte) (Verdict, error) {
	if len(frame) < EthHlen {
		return Drop, ErrShortFrame
	}
	u.rc.Packet = frame
	r0, err := u.runner.Run(u.skb.Bytes(), &u.rc)
	u.rc.Packet = nil
	if err != nil {
		return Drop, err
	}
	return Verdict(r0), nil
}

// RawKeys returns the flow keys of the last run, in the kernel's layout.
func (u *User) RawKeys() *[KeysSize]byte {
	return (*[KeysSize]byte)(u.skb.FlowKeys())
}

// Run is RunRaw with the keys decoded into k: it has Dissect's signature.
func (u *User) Run(frame []byte, k *Keys) (Verdict, error) {
	v, err := u.RunRaw(frame)
	if err != nil {
		return v, err
	}
	k.Decode(u.RawKeys())
	return v, nil
}

// RunBatch dissects frames in one call into the engine
// (userspacevm.RunBatch: on the JIT, one entry into machine code for all
// of them, which otherwise costs several ns per frame). verdicts[i] gets
// frame i's verdict and BatchKeys(i) its keys, until the next RunBatch,
// which also holds on to the frames until then. A frame shorter than 14
// bytes gives ErrShortFrame and nothing runs.
func (u *User) RunBatch(frames [][]byte, verdicts []Verdict) error {
	if len(verdicts) < len(frames) {
		return fmt.Errorf("run batch: %d verdicts for %d frames", len(verdicts), len(frames))
	}
	if len(u.batchSkb) < len(frames) {
		u.batchSkb = make([]skbuff.Context, len(frames))
		u.batchItems = make([]userspacevm.BatchItem, len(frames))
		for i := range u.batchItems {
			u.batchItems[i].Ctx = u.batchSkb[i].Bytes()
		}
	}
	items := u.batchItems[:len(frames)]
	for i, f := range frames {
		if len(f) < EthHlen {
			return fmt.Errorf("frame %d: %w", i, ErrShortFrame)
		}
		items[i].Packet = f
	}
	n, err := userspacevm.RunBatch(u.runner, items, &u.rc)
	if err != nil {
		return fmt.Errorf("frame %d: %w", n, err)
	}
	verdicts = verdicts[:len(frames)]
	for i := range verdicts {
		verdicts[i] = Verdict(items[i].R0)
	}
	return nil
}

// BatchKeys returns the keys of frame i of the last RunBatch, in the
// kernel's layout.
func (u *User) BatchKeys(i int) *[KeysSize]byte {
	return u.batchSkb[i].Keys()
}
