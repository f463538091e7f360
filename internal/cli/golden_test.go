package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// go test ./internal/cli -update rewrites the files under testdata/golden.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenInputs are representative recipients of the development scenario: held, warned,
// allowed and invalid ones, Unicode homoglyphs and their punycode, a display name.
var goldenInputs = []string{
	"alice@army.ml",             // hold: suffix typo of a protected domain
	"navy.ml",                   // hold
	"af.ml",                     // hold: short label
	"army.mil.ml",               // hold: appended suffix
	"xyzcorp.ml",                // warn: suffix typo of the protected namespace
	"armmy.mil",                 // warn: typo inside the protected namespace
	"j.smith@army.mil",          // allow: protected, exact
	"ARMY.MIL.",                 // allow: case and trailing dot
	"bank.ml",                   // allow: on the allow list
	"gmial.com",                 // hold: provider transposition
	"gm\u0430il.com",            // hold: Cyrillic a
	"xn--gmil-63d.com",          // hold: the same in punycode
	"c\u03bfntoso.com",          // hold: Greek omicron in the own domain
	"fabrikarn.com",             // hold: rn for m, known correspondent
	"usibm.com",                 // hold: dot dropped
	"partner.uk",                // hold: co.uk -> uk
	`"Bob Smith" <bob@navy.ml>`, // hold: display name and angle brackets
	"ymail.com",                 // allow: a real provider
	"m\u00fcnchen.de",           // allow: Unicode, unrelated
	"xn--mnchen-3ya.de",         // allow: the same in punycode
	"wikipedia.org",             // allow
	"army..mil",                 // invalid: empty label
	"alice@",                    // invalid: no domain
	"@@",                        // invalid: no domain (not "'@' in the local part")
}

// golden compares got with testdata/golden/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	g, w := lines(got), lines(string(want))
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s:%d:\n got: %s\nwant: %s", path, i+1, gl, wl)
		}
	}
	t.Errorf("%s differs (%d lines, want %d); if the change is intended, run go test ./internal/cli -update", path, len(g), len(w))
}

func goldenStdin() *strings.Reader {
	return strings.NewReader(strings.Join(goldenInputs, "\n") + "\n")
}

func TestGoldenText(t *testing.T) {
	res := run(t, goldenStdin(), checkArgs()...)
	if res.code != ExitFlagged || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want %d and nothing", res.code, res.stderr, ExitFlagged)
	}
	golden(t, "check.txt", res.stdout)

	// The same inputs as arguments give the same answers.
	args := run(t, nil, checkArgs(goldenInputs...)...)
	if args.code != res.code || args.stdout != res.stdout {
		t.Errorf("inputs as arguments: exit %d, output\n%s\nwant exit %d and the stdin output\n%s", args.code, args.stdout, res.code, res.stdout)
	}

	// Each line is INPUT  VERDICT  REASON, and agrees with the JSON answer.
	js := mustRecords(t, run(t, goldenStdin(), checkArgs("--json")...).stdout)
	got := lines(res.stdout)
	if len(got) != len(goldenInputs) || len(js) != len(goldenInputs) {
		t.Fatalf("%d text lines and %d JSON lines for %d inputs", len(got), len(js), len(goldenInputs))
	}
	for i, l := range got {
		want := js[i].Input + "  " + js[i].Verdict + "  " + js[i].Reason
		if l != want {
			t.Errorf("line %d = %q, want %q", i+1, l, want)
		}
	}
}

func TestGoldenJSON(t *testing.T) {
	res := run(t, goldenStdin(), checkArgs("--json")...)
	if res.code != ExitFlagged || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want %d and nothing", res.code, res.stderr, ExitFlagged)
	}
	golden(t, "check.json.txt", res.stdout)

	args := run(t, nil, checkArgs(append([]string{"--json"}, goldenInputs...)...)...)
	if args.code != res.code || args.stdout != res.stdout {
		t.Errorf("inputs as arguments: exit %d, output differs from the stdin output:\n%s", args.code, args.stdout)
	}

	rs := mustRecords(t, res.stdout)
	if len(rs) != len(goldenInputs) {
		t.Fatalf("%d answers for %d inputs", len(rs), len(goldenInputs))
	}
	byInput := map[string]record{}
	for i, r := range rs {
		if r.Input != goldenInputs[i] {
			t.Errorf("answer %d is for %q, want %q", i+1, r.Input, goldenInputs[i])
		}
		byInput[r.Input] = r
	}

	// The golden file could be rewritten with wrong answers; these do not depend on it.
	for _, c := range []struct {
		input, verdict, intended, technique, domain, display string
	}{
		{"alice@army.ml", "hold", "army.mil", "suffix-typo", "army.ml", "army.ml"},
		{"xyzcorp.ml", "warn", "xyzcorp.mil", "namespace-typo", "xyzcorp.ml", "xyzcorp.ml"},
		{"ARMY.MIL.", "allow", "", "", "army.mil", "army.mil"},
		{"bank.ml", "allow", "", "", "bank.ml", "bank.ml"},
		{"gm\u0430il.com", "hold", "gmail.com", "homoglyph", "xn--gmil-63d.com", "gm\u0430il.com"},
		{"xn--gmil-63d.com", "hold", "gmail.com", "homoglyph", "xn--gmil-63d.com", "gm\u0430il.com"},
		{"m\u00fcnchen.de", "allow", "", "", "xn--mnchen-3ya.de", "m\u00fcnchen.de"},
		{"xn--mnchen-3ya.de", "allow", "", "", "xn--mnchen-3ya.de", "m\u00fcnchen.de"},
		{`"Bob Smith" <bob@navy.ml>`, "hold", "navy.mil", "suffix-typo", "navy.ml", "navy.ml"},
		{"army..mil", "invalid", "", "", "", ""},
		{"alice@", "invalid", "", "", "", ""},
		{"@@", "invalid", "", "", "", ""},
	} {
		r := byInput[c.input]
		if r.Verdict != c.verdict || r.Domain != c.domain || r.Display != c.display {
			t.Errorf("%q: verdict %q, domain %q, display %q; want %q, %q, %q", c.input, r.Verdict, r.Domain, r.Display, c.verdict, c.domain, c.display)
		}
		if c.intended == "" {
			if len(r.Intended) != 0 || len(r.Technique) != 0 {
				t.Errorf("%q: intended %q, technique %q; want none", c.input, r.Intended, r.Technique)
			}
		} else if len(r.Intended) == 0 || r.Intended[0] != c.intended || !slices.Contains(r.Technique, c.technique) {
			t.Errorf("%q: intended %q, technique %q; want %s first and %s", c.input, r.Intended, r.Technique, c.intended, c.technique)
		}
	}
}

// The exit status of each input on its own, and of all of them, as a golden file.
func TestGoldenExitCodes(t *testing.T) {
	rs := mustRecords(t, run(t, nil, checkArgs(append([]string{"--json"}, goldenInputs...)...)...).stdout)
	var b strings.Builder
	allAllowed := true
	for i, in := range goldenInputs {
		res := run(t, nil, checkArgs(in)...)
		want := ExitOK
		if rs[i].Verdict != "allow" {
			want, allAllowed = ExitFlagged, false
		}
		if res.code != want {
			t.Errorf("check %q: exit %d, want %d (verdict %s)", in, res.code, want, rs[i].Verdict)
		}
		fmt.Fprintf(&b, "%d\t%s\t%s\n", res.code, rs[i].Verdict, in)
	}
	all := run(t, nil, checkArgs(goldenInputs...)...)
	fmt.Fprintf(&b, "%d\tall %d inputs\n", all.code, len(goldenInputs))
	if allAllowed || all.code != ExitFlagged {
		t.Errorf("all inputs: exit %d, want %d", all.code, ExitFlagged)
	}
	golden(t, "exit.txt", b.String())
}
