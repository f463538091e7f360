package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// The example report of docs/scan.md is what the command prints for
// testdata/scan-sample.maillog (a Postfix log in the maillog_file form) today.
func TestScanDocExample(t *testing.T) {
	r := run(t, nil, "scan", "--config", filepath.Join("testdata", "scan-sample.yaml"), filepath.Join("testdata", "scan-sample.maillog"))
	if r.code != ExitFlagged || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if os.Getenv("SCAN_DOC_PRINT") != "" {
		t.Logf("\n%s", r.stdout)
	}
	if got := strings.TrimRight(r.stdout, "\n"); got != docExample(t, "scan.md", "scan") {
		t.Errorf("docs/scan.md's example differs from the command's output:\n%s", r.stdout)
	}
}

// TestScanDocScreenshot renders the HTML report of the same sample in a real headless
// Chromium with JavaScript off; its screenshot (scan-doc-report.png in the screenshots
// folder) is the picture docs/scan.md shows, copied to docs/scan-report.png.
func TestScanDocScreenshot(t *testing.T) {
	page := filepath.Join(t.TempDir(), "report.html")
	r := run(t, nil, "scan", "--format", "html", "-o", page, "--config", filepath.Join("testdata", "scan-sample.yaml"), filepath.Join("testdata", "scan-sample.maillog"))
	if r.code != ExitFlagged || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	bctx := testenv.Browser(t)
	text := testenv.OpenWithoutJavaScript(t, bctx, page, 1100, 900, "main")
	for _, want := range []string{"partners-example.com", "contoso.co", "outlok.com", "If enforcement were on"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	testenv.SaveScreenshot(t, testenv.ScreenshotDir(t), "scan-doc-report.png", png)
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "scan.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "](scan-report.png)") {
		t.Errorf("docs/scan.md does not show scan-report.png")
	}
	if _, err := os.Stat(filepath.Join(testenv.RepoRoot(t), "docs", "scan-report.png")); err != nil {
		t.Errorf("docs/scan.md shows a picture that is not there: %v", err)
	}
}
