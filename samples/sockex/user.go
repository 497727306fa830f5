package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dropmon/dropmon/internal/afpacket"
	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/samples/sockex/protocount"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// userCounter runs the program in user space: packets come from the
// socket's TPACKET_V3 ring, and each runs through the program on the
// interpreter or the JIT with the struct __sk_buff a socket filter would
// see, built from the ring's headers, and the frame for LD_ABS. One
// goroutine reads and runs; the map is read from another while it does,
// as dropmon's monitor reads its counts.
type userCounter struct {
	name   string
	prep   *userspacevm.Prepared
	runner userspacevm.Runner
	rd     *afpacket.Reader

	// Reused for every packet: the run allocates nothing.
	skb    skbuff.Context
	fields skbuff.Fields
	rc     userspacevm.RunContext
	handle func(*afpacket.Frame)

	errs    atomic.Uint64
	errMu   sync.Mutex
	lastErr error
}

func openUser(v *verifier.Verified, cfg config) (_ *userCounter, err error) {
	u, err := openUserEngine(v, cfg)
	if err != nil {
		return nil, err
	}
	if u.rd, err = afpacket.Open(cfg.iface, nil); err != nil {
		u.close()
		return nil, adviseSocket(err)
	}
	return u, nil
}

// openUserEngine loads the program on the engine, without the socket.
func openUserEngine(v *verifier.Verified, cfg config) (_ *userCounter, err error) {
	u := &userCounter{name: cfg.engine}
	u.handle = u.runFrame
	defer func() {
		if err != nil {
			u.close()
		}
	}()
	if u.prep, err = userspacevm.PrepareVerified(v, nil); err != nil {
		return nil, err
	}
	var engine userspacevm.Engine = userspacevm.Interp{}
	if cfg.engine == "jit" {
		// One runner writes the counts: its atomic adds need no bus lock.
		engine = jit.Engine{Exclusive: true}
	}
	u.runner, err = engine.Load(u.prep)
	if err != nil && cfg.fallback && errors.Is(err, jit.ErrNotSupported) {
		u.name = "interp"
		u.runner, err = userspacevm.Interp{}.Load(u.prep)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s on engine %s: %w", v.Program().Name, u.name, err)
	}
	return u, nil
}

// runFrame runs the program over one frame of the ring.
func (u *userCounter) runFrame(f *afpacket.Frame) {
	setFields(&u.fields, f)
	u.skb.Set(&u.fields)
	u.rc.Packet = f.Data
	_, err := u.runner.Run(u.skb.Bytes(), &u.rc)
	u.rc.Packet = nil // a view into the ring, valid only during the callback
	if err != nil {
		u.errs.Add(1)
		u.errMu.Lock()
		u.lastErr = err
		u.errMu.Unlock()
	}
}

// setFields fills in what a socket filter on a packet socket sees in
// struct __sk_buff from the TPACKET_V3 headers: skb->len is the whole
// frame from the MAC header on (packet_rcv pushes the header back before
// it runs the filter), the protocol and pkt_type are sockaddr_ll's, and
// the VLAN tag is the one the device took off.
func setFields(d *skbuff.Fields, f *afpacket.Frame) {
	*d = skbuff.Fields{
		Len:         f.Len,
		PktType:     uint32(f.PktType),
		Protocol:    f.Protocol,
		VlanPresent: f.VLANValid,
		VlanTCI:     f.VLANTCI,
		VlanProto:   f.VLANTPID,
		Ifindex:     uint32(f.Ifindex),
		Hash:        f.RxHash,
		Tstamp:      uint64(f.Sec)*1e9 + uint64(f.Nsec),
		WireLen:     f.Len,
	}
	if f.VLANValid && f.VLANTPID == 0 {
		d.VlanProto = 0x8100 // TPACKET_V3 without TP_STATUS_VLAN_TPID_VALID: 802.1Q
	}
	if f.PktType != skbuff.PacketOutgoing {
		d.IngressIfindex = uint32(f.Ifindex)
	}
}

func (u *userCounter) run(ctx context.Context) error {
	for {
		_, err := u.rd.Read(ctx, u.handle)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (u *userCounter) totals() (protocount.Totals, error) {
	m := u.prep.Maps[0]
	var key [protocount.KeySize]byte
	return protocount.Read(func(k uint32) ([]byte, error) {
		binary.NativeEndian.PutUint32(key[:], k)
		return m.Lookup(key[:])
	})
}

func (u *userCounter) stats() (afpacket.Stats, error) {
	if u.rd == nil {
		return afpacket.Stats{}, nil
	}
	return u.rd.Stats()
}

func (u *userCounter) runErrors() (uint64, error) {
	u.errMu.Lock()
	defer u.errMu.Unlock()
	return u.errs.Load(), u.lastErr
}

func (u *userCounter) engine() string { return u.name }

func (u *userCounter) close() error {
	var errs []error
	if u.rd != nil {
		errs = append(errs, u.rd.Close())
	}
	if u.runner != nil {
		errs = append(errs, u.runner.Close())
	}
	if u.prep != nil {
		errs = append(errs, u.prep.Close())
	}
	return errors.Join(errs...)
}
