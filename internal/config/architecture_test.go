package config

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestArchitecturePageMatchesTheTree: docs/architecture.md names every package under
// internal/ (as `name`), and every file it names (`pkg/file.go`) exists.
func TestArchitecturePageMatchesTheTree(t *testing.T) {
	root := testenv.RepoRoot(t)
	page, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z]+)`").FindAllStringSubmatch(string(page), -1) {
		named[m[1]] = true
	}
	dirs, err := os.ReadDir(filepath.Join(root, "internal"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d.IsDir() && !named[d.Name()] {
			t.Errorf("package internal/%s is not on docs/architecture.md", d.Name())
		}
	}
	for _, m := range regexp.MustCompile("`([a-z]+/[a-z_]+\\.go)`").FindAllStringSubmatch(string(page), -1) {
		if _, err := os.Stat(filepath.Join(root, "internal", m[1])); err != nil {
			t.Errorf("docs/architecture.md names %s, which is not there", m[1])
		}
	}
}
