package protocount

import (
	"encoding/binary"
	"fmt"
)

// IP protocol numbers the totals single out.
const (
	ProtoTCP = 6
	ProtoUDP = 17
)

// Count is one value of the map: packets and their bytes.
type Count struct {
	Packets uint64
	Bytes   uint64
}

// Add returns c + d.
func (c Count) Add(d Count) Count {
	return Count{Packets: c.Packets + d.Packets, Bytes: c.Bytes + d.Bytes}
}

// Sub returns c - d, the growth since d.
func (c Count) Sub(d Count) Count {
	return Count{Packets: c.Packets - d.Packets, Bytes: c.Bytes - d.Bytes}
}

// DecodeValue decodes one value of the map, in the machine's byte order.
func DecodeValue(b []byte) (Count, error) {
	if len(b) != ValueSize {
		return Count{}, fmt.Errorf("%s value of %d bytes, want %d", MapName, len(b), ValueSize)
	}
	return Count{Packets: binary.NativeEndian.Uint64(b), Bytes: binary.NativeEndian.Uint64(b[8:])}, nil
}

// Totals are the counts the sample prints.
type Totals struct {
	TCP, UDP Count
	// Other counts every other IP protocol and, under KeyNotIP, packets
	// that are not IP.
	Other Count
	NotIP Count // the part of Other that is not IP
}

// Add adds the count of key (an IP protocol number, or KeyNotIP) to t.
func (t *Totals) Add(key uint32, c Count) {
	switch key {
	case ProtoTCP:
		t.TCP = t.TCP.Add(c)
	case ProtoUDP:
		t.UDP = t.UDP.Add(c)
	case KeyNotIP:
		t.NotIP = t.NotIP.Add(c)
		t.Other = t.Other.Add(c)
	default:
		t.Other = t.Other.Add(c)
	}
}

// Sub returns the growth of the totals since u.
func (t Totals) Sub(u Totals) Totals {
	return Totals{TCP: t.TCP.Sub(u.TCP), UDP: t.UDP.Sub(u.UDP), Other: t.Other.Sub(u.Other), NotIP: t.NotIP.Sub(u.NotIP)}
}

// Read sums the map's entries into Totals: lookup returns the value of
// one key.
func Read(lookup func(key uint32) ([]byte, error)) (Totals, error) {
	var t Totals
	for k := range uint32(Entries) {
		v, err := lookup(k)
		if err != nil {
			return Totals{}, fmt.Errorf("read %s[%d]: %w", MapName, k, err)
		}
		c, err := DecodeValue(v)
		if err != nil {
			return Totals{}, err
		}
		t.Add(k, c)
	}
	return t, nil
}
