package netnstest

import (
	"fmt"
	"testing"
)

// TestOffloadsOff reads every offload back on both ends of a new pair.
func TestOffloadsOff(t *testing.T) {
	p := NewPair(t)
	err := p.NS.Do(func() error {
		for _, name := range []string{p.A.Name, p.B.Name} {
			for _, o := range offloads {
				v := &ethtoolValue{cmd: o.get}
				if err := ethtoolOn(name, v); err != nil {
					return err
				}
				if v.data != 0 {
					return fmt.Errorf("%s is on on %s", o.name, name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ethtoolOn("nosuch0", &ethtoolValue{cmd: offloads[0].get}); err == nil {
		t.Error("ethtool on a missing interface succeeded")
	}
}
