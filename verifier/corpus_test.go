package verifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/program"
)

// corpusEntry is one program of ../shared/verifier-corpus/manifest.json.
type corpusEntry struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Category   string `json:"category"`
	ProgType   string `json:"prog_type"`
	Privileged bool   `json:"privileged"`
	Expected   string `json:"expected"`
	Path       string `json:"path"`
	File       string `json:"file"`
	Section    string `json:"section"`
	Program    string `json:"program"`
}

func loadCorpus(t testing.TB) (string, []corpusEntry) {
	dir := testutil.SharedDir(t, "verifier-corpus")
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Cases []corpusEntry `json:"cases"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return dir, m.Cases
}

// loadCorpusProgram loads an entry with the program package's loaders.
func loadCorpusProgram(dir string, c corpusEntry) (*program.Program, error) {
	if c.Kind == "json" {
		data, err := os.ReadFile(filepath.Join(dir, c.Path))
		if err != nil {
			return nil, err
		}
		p, _, err := program.FromJSON(data)
		return p, err
	}
	p, err := program.FromELF(filepath.Join(dir, c.File), c.Section, c.Program)
	if err != nil {
		return nil, err
	}
	typ, err := program.ParseType(c.ProgType)
	if err != nil {
		return nil, err
	}
	p.Type = typ
	return p, nil
}

// TestCorpus verifies every program of the shared corpus and requires the
// kernel's verdict for each, reporting the score per category.
func TestCorpus(t *testing.T) {
	dir, cases := loadCorpus(t)
	type score struct{ pass, fail int }
	scores := map[string]*score{}
	for _, c := range cases {
		s := scores[c.Category]
		if s == nil {
			s = &score{}
			scores[c.Category] = s
		}
		p, err := loadCorpusProgram(dir, c)
		if err != nil {
			t.Errorf("%s: load: %v", c.ID, err)
			s.fail++
			continue
		}
		v, err := Verify(p, &Options{Unprivileged: !c.Privileged})
		var verr *Error
		if errors.As(err, &verr) && verr.Internal {
			t.Errorf("%s: internal error: %+v", c.ID, err)
		}
		got := "accept"
		if err != nil {
			got = "reject"
		}
		if got != c.Expected {
			s.fail++
			t.Errorf("%s (%s): got %s, want %s: %v", c.ID, c.ProgType, got, c.Expected, err)
			continue
		}
		s.pass++
		if testing.Verbose() {
			detail := fmt.Sprint(err)
			if v != nil {
				detail = fmt.Sprintf("processed %d, stack %v", v.Processed(), v.StackDepth())
			}
			t.Logf("%s: %s (%s)", c.ID, got, detail)
		}
	}
	var names []string
	total := 0
	for n := range scores {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("%-20s %3d passed, %3d failed", n, scores[n].pass, scores[n].fail)
		total += scores[n].pass
	}
	t.Logf("corpus: %d of %d", total, len(cases))
}
