package config

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// Every ```yaml block in README.md and docs/*.md is a config that parses, unless an HTML
// comment <!-- not-config --> comes just before it. The docs cannot rot, and the test
// cannot pass by finding nothing.
func TestDocsConfigExamples(t *testing.T) {
	files, total, problems := checkDocs(t, testenv.RepoRoot(t))
	for _, p := range problems {
		t.Error(p)
	}
	if total == 0 {
		t.Fatalf("found no ```yaml config blocks in README.md or docs/*.md (%d files): the docs show no tested config example", files)
	}
	t.Logf("%d config blocks in %d files parse", total, files)
}

// checkDocs checks README.md and docs/*.md under root.
func checkDocs(t *testing.T, root string) (files, blocks int, problems []string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "README.md")); err == nil {
		paths = append([]string{filepath.Join(root, "README.md")}, paths...)
	}
	for _, f := range paths {
		md, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		n, ps := checkMarkdown(rel, md)
		blocks += n
		problems = append(problems, ps...)
	}
	return len(paths), blocks, problems
}

func TestCheckDocsReadsReadmeAndDocs(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if files, n, _ := checkDocs(t, root); files != 0 || n != 0 {
		t.Errorf("empty tree: %d files, %d blocks", files, n)
	}
	write("README.md", "# R\n\n```yaml\nprotect: [army.mil]\n```\n")
	write("docs/guide.md", "text\n\n```yaml\npolicy:\n  monitor: maybe\n```\n")
	write("docs/sub/ignored.md", "```yaml\npolcy: {}\n```\n")
	write("notes.md", "```yaml\npolcy: {}\n```\n")
	files, n, problems := checkDocs(t, root)
	want := filepath.Join("docs", "guide.md") + ":5: policy.monitor: want true or false"
	if files != 2 || n != 2 || len(problems) != 1 || !strings.HasPrefix(problems[0], want) {
		t.Errorf("checkDocs = %d files, %d blocks, %q; want 2, 2, [%s...]", files, n, problems, want)
	}
}

// The check itself fails on a bad block (and reports the Markdown line), skips marked
// blocks, and reads fences as CommonMark does.
func TestCheckMarkdownFindsBadBlocks(t *testing.T) {
	md := strings.Join([]string{
		"# Title", // 1
		"```yaml", // 2
		"protect: [army.mil]",
		"```",
		"<!-- not-config -->", // 5
		"",
		"```yaml",
		"listen: 127.0.0.1:25", // 8: skipped, not a config
		"```",
		"~~~ yml title=\"rcptguard.yaml\"", // 10
		"block: [ml]",
		"polcy: {}", // 12: bad
		"~~~",
		"- In a list:", // 14
		"",
		"  ```yaml",
		"  policy:",
		"    known: often", // 18: bad
		"  ```",
		"````markdown", // 20
		"```yaml",
		"not: [checked]",
		"```",
		"````",
		"```YAML", // 25
		"allow: [bank.ml]",
		"```",
		"```go", // 28
		"x := 1",
		"```",
		"```yaml", // 31: unclosed, runs to the end
		"providers: false",
	}, "\n")
	blocks := yamlBlocks([]byte(md))
	var lines []int
	var skipped []bool
	for _, b := range blocks {
		lines = append(lines, b.line)
		skipped = append(skipped, b.skip)
	}
	if want := []int{3, 8, 11, 17, 26, 32}; !reflect.DeepEqual(lines, want) {
		t.Errorf("block lines = %v, want %v", lines, want)
	}
	if want := []bool{false, true, false, false, false, false}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped = %v, want %v", skipped, want)
	}
	if got, want := blocks[3].text, "policy:\n  known: often\n"; got != want {
		t.Errorf("indented block = %q, want %q", got, want)
	}
	n, problems := checkMarkdown("doc.md", []byte(md))
	sort.Strings(problems)
	if n != 5 || len(problems) != 2 ||
		!strings.HasPrefix(problems[0], `doc.md:12: unknown key "polcy"`) ||
		!strings.HasPrefix(problems[1], `doc.md:18: policy.known: unknown verdict "often"`) {
		t.Errorf("checkMarkdown = %d, %q", n, problems)
	}
}

type mdBlock struct {
	line int    // the Markdown line of the block's first content line
	text string // the content, without the fences' indentation
	skip bool   // marked <!-- not-config -->
}

// yamlBlocks finds the fenced code blocks whose info string starts with yaml or yml.
func yamlBlocks(md []byte) []mdBlock {
	lines := strings.Split(strings.ReplaceAll(string(md), "\r\n", "\n"), "\n")
	var blocks []mdBlock
	prev := "" // the last non-blank line before the current one
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		indent, fence, info, ok := openFence(line)
		if !ok {
			if strings.TrimSpace(line) != "" {
				prev = strings.TrimSpace(line)
			}
			continue
		}
		var body strings.Builder
		start := i + 1
		for i++; i < len(lines) && !closesFence(lines[i], fence); i++ {
			l := lines[i]
			for k := 0; k < indent && strings.HasPrefix(l, " "); k++ {
				l = l[1:]
			}
			body.WriteString(l + "\n")
		}
		lang, _, _ := strings.Cut(info, " ")
		if lang = strings.ToLower(lang); lang == "yaml" || lang == "yml" {
			skip := strings.HasPrefix(prev, "<!--") && strings.Contains(prev, "not-config")
			blocks = append(blocks, mdBlock{line: start + 1, text: body.String(), skip: skip})
		}
		prev = ""
	}
	return blocks
}

// openFence recognises a CommonMark fence opening: up to 3 spaces (more inside list
// items, which we accept too), then 3 or more backticks or tildes, then an info string.
func openFence(line string) (indent int, fence, info string, ok bool) {
	trimmed := strings.TrimLeft(line, " ")
	indent = len(line) - len(trimmed)
	if len(trimmed) < 3 || (trimmed[0] != '`' && trimmed[0] != '~') {
		return 0, "", "", false
	}
	n := len(trimmed) - len(strings.TrimLeft(trimmed, trimmed[:1]))
	if n < 3 {
		return 0, "", "", false
	}
	info = strings.TrimSpace(trimmed[n:])
	if trimmed[0] == '`' && strings.Contains(info, "`") {
		return 0, "", "", false
	}
	return indent, trimmed[:n], info, true
}

func closesFence(line, fence string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == ""
}

// checkMarkdown parses every unmarked yaml block of one Markdown file and returns how many
// it checked and what failed, with errors numbered by Markdown line.
func checkMarkdown(name string, md []byte) (checked int, problems []string) {
	for _, b := range yamlBlocks(md) {
		if b.skip {
			continue
		}
		checked++
		// Padding with empty lines makes Parse number its errors by Markdown line.
		if _, err := Parse([]byte(strings.Repeat("\n", b.line-1)+b.text), name); err != nil {
			problems = append(problems, err.Error())
		}
	}
	return checked, problems
}
