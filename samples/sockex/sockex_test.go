package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dropmon/dropmon/internal/netnstest"
	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/samples/sockex/protocount"
)

// TestCountsExactly is the sample's end-to-end test: in a namespace of its
// own, with a veth pair that carries nothing but what the test sends, it
// counts on one end with each engine and each version of the program,
// sends exactly 37 TCP and 23 UDP frames from the other end, and expects
// exactly those counts, their bytes, and nothing else. The pair has IPv6
// off and no addresses, so the kernel sends nothing on its own; packets
// the counting end sends would be skipped by the program anyway. A second
// counter on the sending end sees the same frames as outgoing and must
// count none of them.
func TestCountsExactly(t *testing.T) {
	const tcp, udp, payload = 37, 23, 40
	const tcpFrame, udpFrame = 14 + 20 + 20 + payload, 14 + 20 + 8 + payload
	want := protocount.Totals{
		TCP: protocount.Count{Packets: tcp, Bytes: tcp * tcpFrame},
		UDP: protocount.Count{Packets: udp, Bytes: udp * udpFrame},
	}
	for _, engine := range []string{"kernel", "interp", "jit"} {
		for _, version := range versions {
			t.Run(engine+"/"+version, func(t *testing.T) {
				p := netnstest.NewPair(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var c, sender counter
				err := p.NS.Do(func() (err error) {
					if c, err = openCounter(config{iface: p.B.Name, engine: engine, version: version}); err != nil {
						return err
					}
					sender, err = openCounter(config{iface: p.A.Name, engine: engine, version: version})
					return err
				})
				testutil.Privileged(t, err)
				if err != nil {
					t.Fatal(err)
				}
				defer c.close()
				defer sender.close()
				// The sender's counter reads its ring in the background.
				go sender.run(ctx)

				var out bytes.Buffer
				type result struct {
					t   protocount.Totals
					err error
				}
				done := make(chan result, 1)
				go func() {
					tot, err := report(ctx, c, 20*time.Millisecond, &out)
					done <- result{tot, err}
				}()

				if err := p.Send(tcp, udp, payload); err != nil {
					t.Fatal(err)
				}
				waitFor(t, c, want)
				cancel()
				var res result
				select {
				case res = <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("report did not end after its context")
				}
				if res.err != nil {
					t.Fatal(res.err)
				}
				if res.t != want {
					t.Errorf("totals\n got %+v\nwant %+v", res.t, want)
				}
				st, err := c.stats()
				if err != nil {
					t.Fatal(err)
				}
				if st.Drops != 0 {
					t.Errorf("the ring dropped %d packets", st.Drops)
				}
				if n, last := c.runErrors(); n != 0 {
					t.Errorf("%d runs failed, the last: %v", n, last)
				}
				if got, err := sender.totals(); err != nil || got != (protocount.Totals{}) {
					t.Errorf("the sending end counted %+v (%v), want nothing: its frames are outgoing", got, err)
				}
				if st, err := sender.stats(); err == nil && engine != "kernel" && st.Packets != tcp+udp {
					t.Errorf("the sending end's ring saw %d packets, want the %d it sent", st.Packets, tcp+udp)
				}
				if !strings.Contains(out.String(), "\ntotal ") {
					t.Errorf("no totals in the report:\n%s", out.String())
				}
			})
		}
	}
}

// waitFor waits until the counts reach want, for at most 5 seconds, and
// then 100 ms more, in which nothing else may arrive.
func waitFor(t *testing.T, c counter, want protocount.Totals) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := c.totals()
		if err != nil {
			t.Fatal(err)
		}
		if got.TCP.Packets >= want.TCP.Packets && got.UDP.Packets >= want.UDP.Packets {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %+v, want %+v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
}

func TestCheckFlags(t *testing.T) {
	ok := config{iface: "eth0", engine: "jit", version: "asm"}
	tests := []struct {
		name     string
		cfg      config
		interval time.Duration
		duration time.Duration
		wantErr  string
	}{
		{name: "defaults", cfg: ok, interval: time.Second},
		{name: "no interface", cfg: config{engine: "jit", version: "asm"}, interval: time.Second, wantErr: "-i/--interface is required"},
		{name: "unknown engine", cfg: config{iface: "eth0", engine: "bpfvm", version: "asm"}, interval: time.Second, wantErr: `--engine "bpfvm"`},
		{name: "unknown program", cfg: config{iface: "eth0", engine: "kernel", version: "rust"}, interval: time.Second, wantErr: `--program "rust"`},
		{name: "zero interval", cfg: ok, wantErr: "--interval 0s: must be positive"},
		{name: "negative duration", cfg: ok, interval: time.Second, duration: -time.Second, wantErr: "--duration -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkFlags(tt.cfg, tt.interval, tt.duration, 0)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestOpenErrors checks the errors a user sees first.
func TestOpenErrors(t *testing.T) {
	p := netnstest.NewPair(t)
	tests := []struct {
		name    string
		cfg     config
		wantErr string
	}{
		{name: "no such interface, user space", cfg: config{iface: "eth9", engine: "interp", version: "asm"},
			wantErr: "afpacket: open on eth9: no such interface (list the interfaces with: ip link)"},
		{name: "no such interface, kernel", cfg: config{iface: "eth9", engine: "kernel", version: "c"},
			wantErr: "afpacket: open on eth9: no such interface"},
		{name: "unknown engine", cfg: config{iface: p.B.Name, engine: "bpfvm", version: "asm"}, wantErr: `engine "bpfvm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.NS.Do(func() error {
				c, err := openCounter(tt.cfg)
				if err == nil {
					c.close()
				}
				return err
			})
			testutil.Privileged(t, err)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
