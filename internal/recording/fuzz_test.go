package recording

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzCapture opens arbitrary bytes as a capture and walks it: errors, never
// a panic or a hang. Seeded with the committed recording of real drops.
func FuzzCapture(f *testing.F) {
	if seed, err := os.ReadFile("../../cmd/dropmon/testdata/drops.data"); err == nil {
		f.Add(seed)
	}
	f.Add([]byte("PERFILE2"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "capture.data")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Open(path)
		if err != nil {
			return
		}
		defer c.Close()
		c.Format("skb", "kfree_skb")
		c.Walk(func(ev *Event) error {
			if ev.Marker != nil && len(ev.Marker.CPUs) != len(ev.Marker.Lost) {
				t.Fatalf("marker with %d CPUs and %d lost counts", len(ev.Marker.CPUs), len(ev.Marker.Lost))
			}
			return nil
		})
	})
}
