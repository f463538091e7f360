package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// readmeExample is one "$ command" of README.md with the output shown under it.
type readmeExample struct {
	line int
	cmd  string
	want []string
}

// readmeExamples finds the indented "$ rcptguard ..." and "$ go run ./cmd/rcptguard ..."
// lines of a Markdown text and the indented lines that follow each, up to a blank line or
// the next "$".
func readmeExamples(md string) []readmeExample {
	var out []readmeExample
	var cur *readmeExample
	for i, l := range strings.Split(md, "\n") {
		text, indented := strings.CutPrefix(l, "    ")
		switch {
		case indented && strings.HasPrefix(text, "$ "):
			out = append(out, readmeExample{line: i + 1, cmd: strings.TrimPrefix(text, "$ ")})
			cur = &out[len(out)-1]
		case cur != nil && indented && strings.TrimSpace(text) != "":
			cur.want = append(cur.want, text)
		default:
			cur = nil
		}
	}
	return out
}

// splitCommand splits a shell command line of the README into the CLI's arguments and
// an optional "| head -N": words separated by spaces, single quotes kept together.
func splitCommand(t *testing.T, cmd string) (args []string, head int) {
	t.Helper()
	head = -1
	if c, h, ok := strings.Cut(cmd, " | head -"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(h))
		if err != nil {
			t.Fatalf("%q: cannot read the head count", cmd)
		}
		cmd, head = c, n
	}
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range cmd {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				args = append(args, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("%q: unterminated quote", cmd)
	}
	if inWord {
		args = append(args, word.String())
	}
	switch {
	case len(args) > 3 && args[0] == "go" && args[1] == "run" && args[2] == "./cmd/rcptguard":
		args = args[3:]
	case len(args) > 1 && args[0] == "rcptguard":
		args = args[1:]
	default:
		t.Fatalf("%q is no rcptguard command", cmd)
	}
	return args, head
}

// TestReadmeExamples runs every "$ rcptguard ..." example of README.md, the quick start
// included, through the CLI and compares its standard output with what the README shows.
func TestReadmeExamples(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	exs := readmeExamples(string(md))
	quick := 0
	for _, ex := range exs {
		if strings.HasPrefix(ex.cmd, "go run ./cmd/rcptguard check") {
			quick++
		}
	}
	if len(exs) < 4 || quick < 2 {
		t.Fatalf("README.md has %d examples, %d of them in the quick start; want at least 4 and 2", len(exs), quick)
	}
	for _, ex := range exs {
		args, head := splitCommand(t, ex.cmd)
		res := run(t, nil, args...)
		got := lines(res.stdout)
		if head >= 0 && len(got) > head {
			got = got[:head]
		}
		if strings.Join(got, "\n") != strings.Join(ex.want, "\n") {
			t.Errorf("README.md:%d: $ %s\n got:\n%s\nwant:\n%s", ex.line, ex.cmd, strings.Join(got, "\n"), strings.Join(ex.want, "\n"))
		}
		if res.code == ExitUsage {
			t.Errorf("README.md:%d: $ %s: exit %d, %s", ex.line, ex.cmd, res.code, res.stderr)
		}
	}
}

func TestReadmeExamplesParse(t *testing.T) {
	md := "text\n\n    $ rcptguard check a.com\n    a.com  allow  x\n\n    plain block\n    $ go run ./cmd/rcptguard permute 'b c' | head -2\n    one\n    two\nafter\n"
	exs := readmeExamples(md)
	if len(exs) != 2 || exs[0].line != 3 || strings.Join(exs[0].want, "|") != "a.com  allow  x" ||
		strings.Join(exs[1].want, "|") != "one|two" {
		t.Fatalf("examples = %+v", exs)
	}
	args, head := splitCommand(t, exs[1].cmd)
	if strings.Join(args, "|") != "permute|b c" || head != 2 {
		t.Errorf("split %q = %q, head %d", exs[1].cmd, args, head)
	}
}
