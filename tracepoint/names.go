package tracepoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// maxNameLen is NAME_MAX: every group and event is a directory in tracefs.
const maxNameLen = 255

// checkName validates a group ("group") or event ("event") name before it
// becomes part of a path under tracefs.
//
// The kernel's rule for dynamic events (is_good_name in kernel/trace/trace.h)
// is [A-Za-z_][A-Za-z0-9_]*, and is_good_system_name also allows '-' in
// groups. Static events are C identifiers, but their groups (TRACE_SYSTEM)
// may start with a digit ("9p"). We accept letters, digits, '_' and '-' in
// both, which keeps '/', '.' and therefore ".." out of paths.
func checkName(kind, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("invalid %s name: empty", kind)
	case len(s) > maxNameLen:
		return fmt.Errorf("invalid %s name %.20q...: longer than %d bytes", kind, s, maxNameLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isNameChar(c) {
			char := fmt.Sprintf("'\\x%02x'", c)
			if c < 0x80 {
				char = strconv.QuoteRune(rune(c))
			}
			return fmt.Errorf("invalid %s name %q: character %s not allowed "+
				"(use letters, digits, '_' and '-')", kind, s, char)
		}
	}
	return nil
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// notFound explains why tracefs has no events/<group>/<name>: the group or
// the event is unknown. It suggests close names and says how to list them.
func notFound(root, group, name string) error {
	events := filepath.Join(root, "events")
	if _, err := os.Stat(filepath.Join(events, group)); errors.Is(err, fs.ErrNotExist) {
		var hints []string
		for _, g := range suggest(group, listDirs(events)) {
			if _, err := os.Stat(filepath.Join(events, g, name)); err == nil {
				g += ":" + name
			}
			hints = append(hints, g)
		}
		return fmt.Errorf("%w: no group %s (%slist groups with `ls %s`)",
			ErrNotFound, group, didYouMean(hints), events)
	}
	var hints []string
	for _, n := range suggest(name, listDirs(filepath.Join(events, group))) {
		hints = append(hints, group+":"+n)
	}
	if len(hints) > 0 {
		return fmt.Errorf("%w (%s)", ErrNotFound, strings.TrimSuffix(didYouMean(hints), " "))
	}
	return fmt.Errorf("%w: no event %s in group %s (list them with `ls %s`)",
		ErrNotFound, name, group, filepath.Join(events, group))
}

// didYouMean formats suggestions as "did you mean a, b or c? ", or "".
func didYouMean(hints []string) string {
	switch len(hints) {
	case 0:
		return ""
	case 1:
		return "did you mean " + hints[0] + "? "
	}
	return "did you mean " + strings.Join(hints[:len(hints)-1], ", ") + " or " + hints[len(hints)-1] + "? "
}

// listDirs returns the names of the subdirectories of dir (tracefs groups
// and events are directories; "enable" and "filter" are files).
func listDirs(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// maxSuggestions bounds "did you mean" lists.
const maxSuggestions = 3

// suggest returns up to maxSuggestions names from have that are close to
// want: within an edit distance of a third of its length (at least 2), or
// one a prefix of the other ("kfree" and "kfree_skb"). Closest first.
func suggest(want string, have []string) []string {
	type scored struct {
		name string
		dist int
	}
	limit := max(2, len(want)/3)
	var found []scored
	for _, h := range have {
		if h == want {
			continue
		}
		d := editDistance(want, h)
		if d <= limit || isPrefix(want, h) {
			found = append(found, scored{h, d})
		}
	}
	slices.SortFunc(found, func(a, b scored) int {
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		return strings.Compare(a.name, b.name)
	})
	var names []string
	for i := 0; i < len(found) && i < maxSuggestions; i++ {
		names = append(names, found[i].name)
	}
	return names
}

// isPrefix reports whether the shorter of a and b, at least 3 bytes long,
// begins the other.
func isPrefix(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return len(a) >= 3 && strings.HasPrefix(b, a)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
