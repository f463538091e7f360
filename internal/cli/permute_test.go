package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/engine"
)

// permuted is one line of `permute` text output: DISPLAY  TECHNIQUE [ASCII].
type permuted struct {
	display, technique, ascii string
}

func parsePermute(t *testing.T, out string) []permuted {
	t.Helper()
	var ps []permuted
	for i, l := range lines(out) {
		f := strings.Split(l, "  ")
		if len(f) < 2 || len(f) > 3 || f[0] == "" || f[1] == "" {
			t.Fatalf("line %d: %q is not DOMAIN  TECHNIQUE [ASCII]", i+1, l)
		}
		p := permuted{display: f[0], technique: f[1], ascii: f[0]}
		if len(f) == 3 {
			p.ascii = f[2]
			if p.ascii == p.display || !isASCII(p.ascii) {
				t.Errorf("line %d: %q: the third field is for the ASCII form of a Unicode name", i+1, l)
			}
		}
		ps = append(ps, p)
	}
	return ps
}

func techniqueNames() map[string]bool {
	names := map[string]bool{}
	for _, tech := range engine.Techniques() {
		names[tech.String()] = true
	}
	return names
}

func TestPermuteArmyMil(t *testing.T) {
	t.Parallel()
	res := run(t, nil, "permute", "army.mil")
	if res.code != ExitOK || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "\narmy.ml  suffix-typo\n") {
		t.Errorf("output does not list army.ml  suffix-typo:\n%s", res.stdout)
	}
	ps := parsePermute(t, res.stdout)
	if len(ps) < 20 {
		t.Fatalf("only %d lookalikes of army.mil", len(ps))
	}
	names := techniqueNames()
	seen := map[string]bool{}
	for _, p := range ps {
		if !names[p.technique] {
			t.Errorf("%s: unknown technique %q", p.display, p.technique)
		}
		if seen[p.ascii] {
			t.Errorf("%s is listed twice", p.ascii)
		}
		seen[p.ascii] = true
		if p.ascii == "army.mil" {
			t.Errorf("army.mil is listed as its own lookalike")
		}
	}

	// Every lookalike is flagged by check with army.mil protected, and army.mil is named
	// first as the domain meant. The names go through standard input, in both forms.
	var in strings.Builder
	for _, p := range ps {
		in.WriteString(p.ascii + "\n")
		if p.display != p.ascii {
			in.WriteString(p.display + "\n")
		}
	}
	chk := run(t, strings.NewReader(in.String()), "check", "--protect", "army.mil", "--json")
	if chk.code != ExitFlagged || chk.stderr != "" {
		t.Errorf("check: exit %d, stderr %q; want %d", chk.code, chk.stderr, ExitFlagged)
	}
	rs := mustRecords(t, chk.stdout)
	if want := len(lines(in.String())); len(rs) != want {
		t.Fatalf("check gave %d answers for %d lookalikes", len(rs), want)
	}
	for _, r := range rs {
		if r.Verdict == "allow" || r.Verdict == "invalid" || len(r.Intended) == 0 || r.Intended[0] != "army.mil" {
			t.Errorf("check --protect army.mil %s: verdict %s, intended %q; want flagged as army.mil", r.Input, r.Verdict, r.Intended)
		}
	}
}

func TestPermuteTechniques(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		list string
		want []string
	}{
		{"omission", []string{"omission"}},
		{"omission,transposition", []string{"omission", "transposition"}},
		{" suffix-typo , homoglyph ", []string{"suffix-typo", "homoglyph"}},
	} {
		res := run(t, nil, "permute", "--techniques", c.list, "army.mil")
		if res.code != ExitOK {
			t.Errorf("--techniques %q: exit %d, stderr %q", c.list, res.code, res.stderr)
			continue
		}
		ps := parsePermute(t, res.stdout)
		got := map[string]bool{}
		for _, p := range ps {
			got[p.technique] = true
			if !slices.Contains(c.want, p.technique) {
				t.Errorf("--techniques %q: %s by %s", c.list, p.display, p.technique)
			}
		}
		for _, w := range c.want {
			if !got[w] {
				t.Errorf("--techniques %q: nothing by %s", c.list, w)
			}
		}
	}

	// omission alone: exactly the names with one letter of army.mil left out.
	ps := parsePermute(t, run(t, nil, "permute", "--techniques", "omission", "army.mil").stdout)
	var got []string
	for _, p := range ps {
		got = append(got, p.ascii)
		if len(p.ascii) != len("army.mil")-1 {
			t.Errorf("omission %q is not one letter shorter than army.mil", p.ascii)
		}
	}
	all := parsePermute(t, run(t, nil, "permute", "army.mil").stdout)
	var omissions []string
	for _, p := range all {
		if p.technique == "omission" {
			omissions = append(omissions, p.ascii)
		}
	}
	if !slices.Equal(got, omissions) {
		t.Errorf("--techniques omission lists %q; the full output's omissions are %q", got, omissions)
	}
}

type permuteRecord struct {
	Of        *string `json:"of"`
	Domain    *string `json:"domain"`
	Display   *string `json:"display"`
	Technique *string `json:"technique"`
}

func TestPermuteJSON(t *testing.T) {
	t.Parallel()
	doms := []string{"army.mil", "gm\u0430il.com", "XN--MNCHEN-3YA.DE"}
	res := run(t, nil, append([]string{"permute", "--json"}, doms...)...)
	if res.code != ExitOK || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	text := parsePermute(t, run(t, nil, append([]string{"permute"}, doms...)...).stdout)
	js := lines(res.stdout)
	if len(js) != len(text) {
		t.Fatalf("%d JSON lines, %d text lines", len(js), len(text))
	}
	names := techniqueNames()
	ofs := map[string]bool{}
	for i, l := range js {
		var r permuteRecord
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d: %v: %q", i+1, err, l)
		}
		if r.Of == nil || r.Domain == nil || r.Display == nil || r.Technique == nil {
			t.Fatalf("line %d: a field is missing: %q", i+1, l)
		}
		ofs[*r.Of] = true
		if *r.Domain != strings.ToLower(*r.Domain) || !isASCII(*r.Domain) || *r.Display == "" {
			t.Errorf("line %d: domain %q is not lowercase ASCII, or no display: %q", i+1, *r.Domain, l)
		}
		if !names[*r.Technique] {
			t.Errorf("line %d: unknown technique %q", i+1, *r.Technique)
		}
		if p := text[i]; p.ascii != *r.Domain || p.display != *r.Display || p.technique != *r.Technique {
			t.Errorf("line %d: JSON %q disagrees with text %+v", i+1, l, p)
		}
	}
	for _, of := range []string{"army.mil", "xn--gmil-63d.com", "xn--mnchen-3ya.de"} {
		if !ofs[of] {
			t.Errorf("no lookalike of %s (the ASCII form of an argument)", of)
		}
	}
}

// What permute lists for a domain, check flags when that domain is protected, naming it.
func TestPermuteLookalikesAreFlagged(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"contoso.com", "m\u00fcnchen.de", "us.ibm.com", "gmail.com", "af.mil", "partner.co.uk"} {
		ps := parsePermute(t, run(t, nil, "permute", d).stdout)
		if len(ps) == 0 {
			t.Errorf("permute %s: nothing", d)
			continue
		}
		var in strings.Builder
		for _, p := range ps {
			in.WriteString(p.display + "\n")
		}
		res := run(t, strings.NewReader(in.String()), "check", "--no-providers", "--protect", d, "--json")
		rs := mustRecords(t, res.stdout)
		if res.code != ExitFlagged || len(rs) != len(ps) {
			t.Errorf("check --protect %s: exit %d, %d answers for %d lookalikes", d, res.code, len(rs), len(ps))
			continue
		}
		for i, r := range rs {
			if r.Verdict == "allow" || r.Verdict == "invalid" || len(r.Intended) == 0 || r.Intended[0] != d {
				t.Errorf("check --protect %s %s (%s): verdict %s, intended %q", d, r.Input, ps[i].technique, r.Verdict, r.Intended)
			}
		}
	}
}
