package afpacket

import (
	"encoding/binary"
	"reflect"
	"testing"
	"time"
)

// testFrame is what synthBlock writes for one packet.
type testFrame struct {
	data            []byte
	len             uint32
	status          uint32
	proto           uint16 // host order; written big-endian as sll_protocol
	pktType         uint8
	ifindex         int32
	vlanTCI         uint32
	vlanTPID        uint16
	sec, nsec, hash uint32
}

// synthBlock lays frames out in a block of size bytes as the kernel does:
// a block header, then each frame's tpacket3_hdr, sockaddr_ll and data at
// tp_mac, the next frame 16-byte aligned after it.
func synthBlock(size int, frames []testFrame) []byte {
	b := make([]byte, size)
	ne := binary.NativeEndian
	const first = 48
	ne.PutUint32(b[blockStatus:], statusUser)
	ne.PutUint32(b[blockNumPkts:], uint32(len(frames)))
	ne.PutUint32(b[blockFirstFrame:], first)
	off := uint32(first)
	for i, f := range frames {
		h := b[off:]
		mac := uint32(hdrSize + 32)
		ne.PutUint32(h[hdrSec:], f.sec)
		ne.PutUint32(h[hdrNsec:], f.nsec)
		ne.PutUint32(h[hdrSnaplen:], uint32(len(f.data)))
		ne.PutUint32(h[hdrLen:], f.len)
		ne.PutUint32(h[hdrStatus:], f.status)
		ne.PutUint16(h[hdrMac:], uint16(mac))
		ne.PutUint32(h[hdrRxHash:], f.hash)
		ne.PutUint32(h[hdrVLANTCI:], f.vlanTCI)
		ne.PutUint16(h[hdrVLANTPID:], f.vlanTPID)
		binary.BigEndian.PutUint16(h[sllProtocol:], f.proto)
		ne.PutUint32(h[sllIfindex:], uint32(f.ifindex))
		ne.PutUint16(h[sllHAType:], 1)
		h[sllPktType] = f.pktType
		copy(h[mac:], f.data)
		next := (mac + uint32(len(f.data)) + 15) &^ 15
		if i+1 < len(frames) {
			ne.PutUint32(h[hdrNextOffset:], next)
		}
		off += next
	}
	return b
}

func TestReadBlock(t *testing.T) {
	frames := []testFrame{
		{data: []byte{1, 2, 3}, len: 3, proto: 0x0800, pktType: 0, ifindex: 7, sec: 10, nsec: 20, hash: 99},
		{data: []byte{4, 5, 6, 7, 8}, len: 1500, status: statusVLANValid | statusVLANTPIDValid,
			proto: 0x86dd, pktType: 4, ifindex: 7, vlanTCI: 0x2005, vlanTPID: 0x88a8},
		{data: []byte{9}, len: 1, status: statusVLANValid, vlanTCI: 42, vlanTPID: 0x8100, proto: 0x0806, pktType: 1, ifindex: 8},
	}
	b := synthBlock(4096, frames)
	var got []Frame
	n, ok := readBlock(b, new(Frame), func(f *Frame) {
		c := *f
		c.Data = append([]byte(nil), f.Data...)
		got = append(got, c)
	})
	if !ok || n != len(frames) {
		t.Fatalf("readBlock = %d, %v; want %d, true", n, ok, len(frames))
	}
	tests := []struct {
		name string
		got  Frame
		want Frame
	}{
		{name: "ipv4 host", got: got[0], want: Frame{Data: []byte{1, 2, 3}, Len: 3, Snaplen: 3, Protocol: 0x0800,
			HAType: 1, Ifindex: 7, RxHash: 99, Sec: 10, Nsec: 20}},
		{name: "ipv6 outgoing, 802.1ad tag, truncated", got: got[1], want: Frame{Data: []byte{4, 5, 6, 7, 8}, Len: 1500,
			Snaplen: 5, Status: statusVLANValid | statusVLANTPIDValid, Protocol: 0x86dd, PktType: 4, HAType: 1,
			Ifindex: 7, VLANValid: true, VLANTCI: 0x2005, VLANTPID: 0x88a8}},
		{name: "tag without tpid", got: got[2], want: Frame{Data: []byte{9}, Len: 1, Snaplen: 1, Status: statusVLANValid,
			Protocol: 0x0806, PktType: 1, HAType: 1, Ifindex: 8, VLANValid: true, VLANTCI: 42}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got.Data) != string(tt.want.Data) {
				t.Errorf("Data = %v, want %v", tt.got.Data, tt.want.Data)
			}
			tt.got.Data, tt.want.Data = nil, nil
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("frame\n got %+v\nwant %+v", tt.got, tt.want)
			}
		})
	}
	if tm := got[0].Time(); !tm.Equal(time.Unix(10, 20)) {
		t.Errorf("Time() = %v", tm)
	}
}

func TestReadBlockCorrupt(t *testing.T) {
	ne := binary.NativeEndian
	tests := []struct {
		name    string
		corrupt func(b []byte)
		wantN   int
	}{
		{name: "first frame past the end", corrupt: func(b []byte) { ne.PutUint32(b[blockFirstFrame:], 4090) }, wantN: 0},
		{name: "snaplen past the end", corrupt: func(b []byte) { ne.PutUint32(b[48+hdrSnaplen:], 5000) }, wantN: 0},
		{name: "mac offset past the end", corrupt: func(b []byte) { ne.PutUint16(b[48+hdrMac:], 4080) }, wantN: 0},
		{name: "more packets than frames", corrupt: func(b []byte) { ne.PutUint32(b[blockNumPkts:], 3) }, wantN: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := synthBlock(4096, []testFrame{{data: make([]byte, 60), len: 60}, {data: make([]byte, 60), len: 60}})
			tt.corrupt(b)
			n, ok := readBlock(b, new(Frame), func(*Frame) {})
			if ok || n != tt.wantN {
				t.Errorf("readBlock = %d, %v; want %d, false", n, ok, tt.wantN)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    *Options
		wantErr bool
	}{
		{name: "nil gives defaults", opts: nil},
		{name: "one page", opts: &Options{BlockSize: 4096, Blocks: 1}},
		{name: "block not page multiple", opts: &Options{BlockSize: 5000}, wantErr: true},
		{name: "negative blocks", opts: &Options{Blocks: -1}, wantErr: true},
		{name: "frame not aligned", opts: &Options{FrameSize: 100}, wantErr: true},
		{name: "frame larger than block", opts: &Options{BlockSize: 4096, FrameSize: 8192}, wantErr: true},
		{name: "sub-millisecond retire", opts: &Options{RetireTimeout: time.Microsecond}, wantErr: true},
		{name: "ring over 4 GiB", opts: &Options{BlockSize: 1 << 30, Blocks: 8}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.opts.withDefaults()
			if (err != nil) != tt.wantErr {
				t.Fatalf("withDefaults: %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (o.BlockSize == 0 || o.Blocks == 0 || o.FrameSize == 0 || o.RetireTimeout == 0) {
				t.Errorf("zero fields left: %+v", o)
			}
		})
	}
}

// BenchmarkReadBlock walks a block of 64-byte frames; it allocates nothing.
func BenchmarkReadBlock(b *testing.B) {
	frames := make([]testFrame, 0, 1024)
	for range cap(frames) {
		frames = append(frames, testFrame{data: make([]byte, 64), len: 64, proto: 0x0800})
	}
	blk := synthBlock(1<<18, frames)
	f := new(Frame)
	var bytes uint64
	fn := func(f *Frame) { bytes += uint64(f.Len) }
	b.ReportAllocs()
	for b.Loop() {
		readBlock(blk, f, fn)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frames)), "ns/frame")
}
