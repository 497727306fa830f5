package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/internal/afpacket"
	"github.com/dropmon/dropmon/samples/sockex/protocount"
	"github.com/dropmon/dropmon/verifier"
)

// kernelCounter is the program loaded into the kernel and attached to a
// packet socket with SO_ATTACH_BPF: the kernel runs it for every packet
// of the interface and the counts are read from its array map. The
// program returns 0, so the socket's ring stays empty.
type kernelCounter struct {
	coll *ebpf.Collection
	m    *ebpf.Map
	rd   *afpacket.Reader
}

func openKernel(v *verifier.Verified, iface string) (_ *kernelCounter, err error) {
	prog := v.Program()
	spec, err := prog.KernelSpec()
	if err != nil {
		return nil, fmt.Errorf("kernel engine: %w", err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return nil, kernelLoadError(prog.Name, err)
	}
	k := &kernelCounter{coll: coll, m: coll.Maps[protocount.MapName]}
	defer func() {
		if err != nil {
			k.close()
		}
	}()
	if k.m == nil {
		return nil, fmt.Errorf("kernel engine: program %s has no map %s", prog.Name, protocount.MapName)
	}
	// The smallest ring: nothing reaches it, the program passes nothing.
	k.rd, err = afpacket.Open(iface, &afpacket.Options{BlockSize: os.Getpagesize(), Blocks: 1, Filter: coll.Programs[prog.Name]})
	if err != nil {
		return nil, adviseSocket(err)
	}
	return k, nil
}

// kernelLoadError says why the kernel refused the program.
func kernelLoadError(name string, err error) error {
	var verr *ebpf.VerifierError
	switch {
	case errors.As(err, &verr):
		return fmt.Errorf("kernel engine: dropmon's verifier accepted %s but the kernel's rejected it: %w", name, err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("kernel engine: load %s: %w (loading BPF needs root, or CAP_BPF; "+
			"--engine jit or interp needs only CAP_NET_RAW)", name, err)
	}
	return fmt.Errorf("kernel engine: load %s: %w", name, err)
}

func (k *kernelCounter) run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (k *kernelCounter) totals() (protocount.Totals, error) {
	return protocount.Read(func(key uint32) ([]byte, error) { return k.m.LookupBytes(key) })
}

func (k *kernelCounter) stats() (afpacket.Stats, error) { return k.rd.Stats() }

func (k *kernelCounter) runErrors() (uint64, error) { return 0, nil }

func (k *kernelCounter) engine() string { return "kernel" }

func (k *kernelCounter) close() error {
	var err error
	if k.rd != nil {
		err = k.rd.Close()
	}
	k.coll.Close()
	return err
}
