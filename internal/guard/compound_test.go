package guard

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestCompoundSlipsAreNamedInTheReasonAndTheJSON: gnail.con mistypes the label and the
// suffix at once; both slips are evidence toward gmail.com (held, not weaker than one),
// the reason names both, and the JSON lists both techniques.
func TestCompoundSlipsAreNamedInTheReasonAndTheJSON(t *testing.T) {
	eng, err := engine.New(engine.Inputs{Providers: testenv.Domains(t, "gmail.com", "hotmail.com"), MajorProviders: testenv.Domains(t, "gmail.com", "hotmail.com")})
	if err != nil {
		t.Fatal(err)
	}
	g := New(eng, DefaultPolicy())
	for _, c := range []struct {
		in, clause string
		verdict    Verdict
		slips      []string
	}{
		{"bob@gnail.con", `there is no top-level domain ".con"`, Hold, []string{"replacement", "nonexistent-suffix"}},
		{"bob@hotmial.cm", `".cm" is not ".com"`, Warn, []string{"transposition", "suffix-typo"}},
		{"bob@gmial.com", "", Hold, []string{"transposition"}},
	} {
		d := g.Check(c.in)
		if d.Verdict != c.verdict || !strings.Contains(d.Reason, c.clause) {
			t.Errorf("%s: %s %q", c.in, d.Verdict, d.Reason)
		}
		var out struct {
			Technique []string
			Findings  []struct{ Slips []string }
		}
		if err := json.Unmarshal(d.AppendJSON(nil), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Findings) == 0 || !slices.Equal(out.Findings[0].Slips, c.slips) || !slices.Equal(out.Technique, c.slips) {
			t.Errorf("%s: JSON techniques %v, slips %+v, want %v", c.in, out.Technique, out.Findings, c.slips)
		}
	}
}
