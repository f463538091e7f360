package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// The example report of docs/scan.md is what the command prints for
// testdata/scan-sample (in the test-only clilog format) today.
func TestScanDocExample(t *testing.T) {
	r := run(t, nil, "scan", "--config", filepath.Join("testdata", "scan-sample.yaml"), filepath.Join("testdata", "scan-sample"))
	if r.code != ExitFlagged || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if os.Getenv("SCAN_DOC_PRINT") != "" {
		t.Logf("\n%s", r.stdout)
	}
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "scan.md"))
	if err != nil {
		t.Fatal(err)
	}
	const mark = "<!-- scan-example: internal/cli/scan_doc_test.go -->\n\n"
	_, after, ok := strings.Cut(string(doc), mark)
	if !ok {
		t.Fatalf("docs/scan.md has no %q", mark)
	}
	var block []string
	for _, l := range strings.Split(after, "\n") {
		text, indented := strings.CutPrefix(l, "    ")
		if !indented && l != "" {
			break
		}
		block = append(block, text)
	}
	want := strings.TrimRight(strings.Join(block, "\n"), "\n")
	if got := strings.TrimRight(r.stdout, "\n"); got != want {
		t.Errorf("docs/scan.md's example differs from the command's output:\n%s", r.stdout)
	}
}
