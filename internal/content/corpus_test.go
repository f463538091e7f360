package content

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func classifyFile(t testing.TB, c *Classifier, path string) Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return c.Classify(context.Background(), f)
}

// TestBusinessCorpusPrecision holds the classifier to ordinary business mail:
// at least 99% of it must trigger no category.
func TestBusinessCorpusPrecision(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/corpus/business/*.eml")
	if len(files) < 60 {
		t.Fatalf("business corpus has %d messages, want at least 60", len(files))
	}
	clean := 0
	for _, f := range files {
		r := classifyFile(t, c, f)
		if r.Skipped {
			t.Errorf("%s skipped: %+v", f, r.NotRead)
		}
		if len(r.Findings) == 0 {
			clean++
			continue
		}
		t.Logf("%s triggered %v %+v", filepath.Base(f), r.Names(), r.Findings)
	}
	rate := float64(clean) / float64(len(files))
	t.Logf("business corpus: %d of %d messages trigger nothing (%.1f%%)", clean, len(files), 100*rate)
	if rate < 0.99 {
		t.Errorf("precision %.1f%% is below 99%%", 100*rate)
	}
}

// TestPositiveCorpus: each file named <category>-*.eml triggers its category.
func TestPositiveCorpus(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/corpus/positive/*.eml")
	seen := map[Category]bool{}
	for _, f := range files {
		base := filepath.Base(f)
		want := Category(base[:strings.IndexByte(base, '-')])
		seen[want] = true
		r := classifyFile(t, c, f)
		if !r.Has(want) {
			t.Errorf("%s: want %s, got %v (not read %+v)", base, want, r.Names(), r.NotRead)
		}
	}
	for _, cat := range []Category{Credentials, Personal, Medical, Markings, Travel, Bulk} {
		if !seen[cat] {
			t.Errorf("no positive example for %s", cat)
		}
	}
}
