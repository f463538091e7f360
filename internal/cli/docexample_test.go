package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// docExample is the indented block after the marker line
// "<!-- NAME-example: internal/cli/NAME_doc_test.go -->" in docs/DOC, without its indent.
func docExample(t *testing.T, doc, name string) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", doc))
	if err != nil {
		t.Fatal(err)
	}
	mark := "<!-- " + name + "-example: internal/cli/" + name + "_doc_test.go -->\n\n"
	_, after, ok := strings.Cut(string(text), mark)
	if !ok {
		t.Fatalf("docs/%s has no %q", doc, mark)
	}
	var block []string
	for _, l := range strings.Split(after, "\n") {
		line, indented := strings.CutPrefix(l, "    ")
		if !indented && l != "" {
			break
		}
		block = append(block, line)
	}
	return strings.TrimRight(strings.Join(block, "\n"), "\n")
}
