package flowdissect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cSource is the C build of the dissector, from this package's directory.
var cSource = filepath.Join("..", "..", "scripts", "flowdissect-c", "flowdissect.c")

// buildC compiles scripts/flowdissect-c with gcc -O2, skipping the test
// without gcc (failing it under CI=true, where gcc is installed).
func buildC(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("gcc is missing (CI=true): %v", err)
		}
		t.Skipf("skipping: no gcc to build %s: %v", cSource, err)
	}
	bin := filepath.Join(t.TempDir(), "flowdissect-c")
	out, err := exec.Command(gcc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", bin, cSource).CombinedOutput()
	if err != nil {
		t.Fatalf("gcc %s: %v\n%s", cSource, err, out)
	}
	return bin
}

// TestCEqualsNative dissects the corpus and some distinct frames with the C
// build and with Dissect: same verdicts, same 56 bytes.
func TestCEqualsNative(t *testing.T) {
	bin := buildC(t)
	packets := Corpus()
	for i, f := range Distinct(2000) {
		packets = append(packets, Packet{Name: fmt.Sprintf("distinct/%d", i), Want: OK, Frame: f})
	}
	var in bytes.Buffer
	for _, p := range packets {
		in.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(p.Frame))))
		in.Write(p.Frame)
	}
	file := filepath.Join(t.TempDir(), "frames")
	if err := os.WriteFile(file, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "keys", file).Output()
	if err != nil {
		t.Fatalf("%s keys: %v", bin, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for _, p := range packets {
		if !sc.Scan() {
			t.Fatalf("%s: no output from C", p.Name)
		}
		if got, want := sc.Text(), cLine(p.Frame); got != want {
			t.Errorf("%s:\nC  %s\nGo %s", p.Name, got, want)
		}
	}
	if sc.Scan() {
		t.Errorf("C printed more lines than frames: %q", sc.Text())
	}
}

// cLine is Dissect's result as flowdissect-c's keys mode prints it.
func cLine(frame []byte) string {
	var k Keys
	v, err := Dissect(frame, &k)
	if err != nil {
		return "short"
	}
	var b [KeysSize]byte
	k.Encode(&b)
	return fmt.Sprintf("%d %s", v, hex.EncodeToString(b[:]))
}
