package symbolize

import (
	"runtime"
	"testing"
)

// TestMemory checks that the live table costs a few MB at most.
func TestMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tab, err := Load()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	perSymbol := float64(used) / float64(tab.Len())
	t.Logf("%d symbols in %.1f MB (%.0f bytes each)", tab.Len(), float64(used)/1e6, perSymbol)
	if perSymbol > 64 {
		t.Errorf("%.0f bytes per symbol; want at most 64", perSymbol)
	}
	runtime.KeepAlive(tab)
}
