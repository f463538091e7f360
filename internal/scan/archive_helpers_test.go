package scan

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// collector keeps what a reader gives, as lines a test compares whole.
type collector struct {
	recs  []string
	probs []string
}

func (c *collector) emit(r Record) { c.recs = append(c.recs, recLine(r)) }
func (c *collector) skip(p Problem) {
	c.probs = append(c.probs, fmt.Sprintf("%s:%d %s", relName(p.Source), p.Line, p.Text))
}

// relName shortens a testdata path to what follows "testdata/".
func relName(s string) string {
	if i := strings.Index(s, "testdata"+string(filepath.Separator)); i >= 0 {
		return s[i+len("testdata/"):]
	}
	return s
}

// recLine is a Record as one line: "source:line sender -> recipient msg time outcome".
func recLine(r Record) string {
	t := "-"
	if !r.Time.IsZero() {
		t = r.Time.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s:%d %s -> %s msg=%s t=%s %s", relName(r.Source), r.Line, r.Sender, r.Recipient, r.Message, t, r.Outcome)
}

// checkRecords fails the test unless got and want are the same lines in the same order.
func checkRecords(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n got:\n  %s\n want:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// checkProblems fails the test unless each problem begins with "source:line " and holds
// the text of its want, in order.
func checkProblems(t *testing.T, got []string, want [][2]string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i][0]+" ") && strings.Contains(got[i], want[i][1])
	}
	if !ok {
		t.Errorf("problems:\n got:\n  %s\n want:\n  %q", strings.Join(got, "\n  "), want)
	}
}
