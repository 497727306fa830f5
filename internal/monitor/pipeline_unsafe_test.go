package monitor

import (
	"sync/atomic"
	"unsafe"
)

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func loadAcquire(p *uint64) uint64 { return atomic.LoadUint64(p) }

func storeRelease(p *uint64, v uint64) { atomic.StoreUint64(p, v) }
