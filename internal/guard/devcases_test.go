package guard

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/providers"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// devScenario builds the guard of the development cases' scenario (the header of
// testdata/dev-cases.tsv): own contoso.com; protected army.mil, navy.mil, af.mil, contoso.com
// and the namespace mil; known from testdata/known.txt; allow bank.ml; providers on.
func devScenario(t testing.TB) *Guard {
	t.Helper()
	in := engine.Inputs{
		Own:                 testenv.Domains(t, "contoso.com"),
		Protected:           testenv.Domains(t, "army.mil", "navy.mil", "af.mil", "contoso.com"),
		ProtectedNamespaces: []string{"mil"},
		Providers:           providers.Domains(),
		Allow:               testenv.Domains(t, "bank.ml"),
	}
	f, err := os.Open("testdata/known.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		n, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		in.Known = append(in.Known, engine.KnownDomain{Domain: testenv.Domains(t, fields[0])[0], Count: n})
	}
	eng, err := engine.New(in)
	if err != nil {
		t.Fatal(err)
	}
	return New(eng, DefaultPolicy())
}

// TestDevCases runs every development case of ../shared/eval (copied to testdata) and
// checks its expectation and its intended domain.
func TestDevCases(t *testing.T) {
	g := devScenario(t)
	f, err := os.Open("testdata/dev-cases.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	cases := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.HasPrefix(line, "input\t") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 4 {
			t.Fatalf("bad line %q", line)
		}
		in, expect, intended, why := cols[0], cols[1], cols[2], cols[3]
		cases++
		d := g.Check(in)
		ok := false
		switch expect {
		case "hold":
			ok = d.Verdict == Hold || d.Verdict == Reject
		case "flag":
			ok = d.Verdict == Warn || d.Verdict == Hold || d.Verdict == Reject
		case "pass":
			ok = d.Verdict == Allow
		case "nothold":
			ok = d.Verdict == Allow || d.Verdict == Warn
		case "invalid":
			ok = d.Verdict == Invalid && d.Err != nil
		default:
			t.Fatalf("unknown expectation %q", expect)
		}
		if !ok {
			t.Errorf("%s (%s): verdict %s, want %s; reason: %s", in, why, d.Verdict, expect, d.Reason)
			continue
		}
		if intended != "-" && (expect == "hold" || expect == "flag") {
			if got := d.Intended(); len(got) == 0 || got[0] != intended {
				t.Errorf("%s (%s): intended %v, want %s first", in, why, got, intended)
			}
		}
		t.Logf("%-22s %-7s %s", in, d.Verdict, d.Reason)
	}
	if cases < 60 {
		t.Fatalf("only %d cases read", cases)
	}
}
