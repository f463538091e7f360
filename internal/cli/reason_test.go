package cli

import (
	"regexp"
	"strings"
	"testing"
)

// appendedDetail matches the appended-suffix explanation: `"X" is Y with "Z" added`.
var appendedDetail = regexp.MustCompile(`"([^"]*)" is (\S+) with "([^"]*)" added`)

// An appended-suffix reason quotes the part of the recipient that has the suffix added
// ("army.mil.ml" or "mil.ml"), not the protected name itself.
func TestReasonAppendedSuffixQuotesRecipient(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args  []string
		input string
	}{
		{[]string{"--protect", "army.mil"}, "army.mil.ml"},
		{[]string{"--protect", "army.mil,.mil"}, "alice@army.mil.ml"},
		{[]string{"--protect", ".mil"}, "navy.mil.ml"},
		{nil, "gmail.com.co"}, // a provider
		{[]string{"--protect", "contoso.com"}, "contoso.com.evil"},
	} {
		args := append(append([]string{"check", "--json"}, c.args...), c.input)
		res := run(t, nil, args...)
		rs := mustRecords(t, res.stdout)
		if len(rs) != 1 || rs[0].Verdict == "allow" || rs[0].Verdict == "invalid" {
			t.Errorf("%q: %d answers %+v; want one flagged", args, len(rs), rs)
			continue
		}
		r := rs[0]
		if len(r.Technique) == 0 || r.Technique[0] != "appended-suffix" {
			continue // explained otherwise
		}
		m := appendedDetail.FindStringSubmatch(r.Reason)
		if m == nil {
			t.Errorf("%q: reason %q has no appended-suffix explanation", args, r.Reason)
			continue
		}
		quoted, intended, added := m[1], m[2], m[3]
		if !strings.HasSuffix(quoted, "."+added) || !strings.HasSuffix(r.Domain, quoted) || quoted == intended {
			t.Errorf("%q: reason %q: %q is not a part of %s that ends with the added %q", args, r.Reason, quoted, r.Domain, added)
		}
	}
}
