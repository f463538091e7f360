package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestPermuteWide: --wide lists more than the plain command, everything the plain command
// lists, and every name of dnstwist's own output for gmail.com (the engine's fixture)
// except gmail.com itself; --techniques filters it; --json has the same names.
func TestPermuteWide(t *testing.T) {
	t.Parallel()
	res := run(t, nil, "permute", "--wide", "gmail.com")
	if res.code != ExitOK || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	wide := map[string]string{}
	names := techniqueNames()
	for _, p := range parsePermute(t, res.stdout) {
		if _, dup := wide[p.ascii]; dup {
			t.Errorf("%s is listed twice", p.ascii)
		}
		if !names[p.technique] {
			t.Errorf("%s: unknown technique %q", p.display, p.technique)
		}
		wide[p.ascii] = p.technique
	}
	plain := parsePermute(t, run(t, nil, "permute", "gmail.com").stdout)
	if len(wide) <= len(plain) {
		t.Errorf("--wide lists %d names, the plain command %d", len(wide), len(plain))
	}
	for _, p := range plain {
		if wide[p.ascii] != p.technique {
			t.Errorf("plain %s (%s): --wide has %q", p.ascii, p.technique, wide[p.ascii])
		}
	}
	fixture, err := os.ReadFile("../engine/testdata/dnstwist/gmail.com.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range strings.Fields(string(fixture)) {
		if name == "gmail.com" {
			continue
		}
		n++
		if _, ok := wide[name]; !ok {
			t.Errorf("dnstwist's %s is not in permute --wide", name)
		}
	}
	t.Logf("permute --wide gmail.com: %d names, dnstwist's %d all among them; plain permute %d", len(wide), n, len(plain))

	// --techniques with --wide.
	hs := parsePermute(t, run(t, nil, "permute", "--wide", "--techniques", "homoglyph", "gmail.com").stdout)
	if len(hs) < 1000 {
		t.Errorf("--wide --techniques homoglyph: only %d names", len(hs))
	}
	for _, p := range hs {
		if p.technique != "homoglyph" || wide[p.ascii] != "homoglyph" {
			t.Errorf("--wide --techniques homoglyph: %s by %s", p.ascii, p.technique)
		}
	}

	// --json with --wide: the same names.
	js := run(t, nil, "permute", "--wide", "--json", "gmail.com")
	got := 0
	for _, l := range lines(js.stdout) {
		var r struct{ Of, Domain, Display, Technique string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if r.Of != "gmail.com" || wide[r.Domain] != r.Technique {
			t.Errorf("JSON %q does not match the text output", l)
		}
		got++
	}
	if got != len(wide) {
		t.Errorf("--json --wide: %d lines, text %d", got, len(wide))
	}
}
