package config

import (
	"errors"
	"fmt"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// Validate checks a Config however it was made (Parse calls it; code that changes a parsed
// Config, for example with lists from flags, should call it again): every entry is in
// normal form, own_domains holds no namespace, every verdict is allow, warn, hold or reject,
// and blocked is not allow. Errors name the file and line for an entry that came from the
// file (Line > 0).
// Duplicates and a name both in allow and block are not errors (allow wins).
func (c *Config) Validate() error {
	var errs []error
	add := func(line int, msg string, cause error) {
		e := &Error{Line: line, Msg: msg, Err: cause}
		if line > 0 {
			e.Path = c.Path // an entry from the file; one from a flag or from code has no line
		}
		errs = append(errs, e)
	}
	bad := func(line int, format string, args ...any) { add(line, fmt.Sprintf(format, args...), nil) }
	lists := []struct {
		key     string
		entries []Entry
	}{{"own_domains", c.OwnDomains}, {"protect", c.Protect}, {"allow", c.Allow}, {"block", c.Block}}
	for _, l := range lists {
		for _, e := range l.entries {
			n, err := parseEntry(e.String())
			switch {
			case e.Name == "":
				bad(e.Line, "%s: empty entry", l.key)
			case err != nil:
				add(e.Line, l.key+": "+err.Msg, err.Err)
			case n.Name != e.Name || n.Namespace != e.Namespace:
				bad(e.Line, "%s: entry %q is not in normal form (want %q)", l.key, e.String(), n.String())
			case l.key == "own_domains" && e.Namespace:
				bad(e.Line, "own_domains: %q is a namespace; list the organisation's mail domains (contoso.com), and namespaces under protect", e.String())
			}
		}
	}
	p := c.Policy
	verdicts := []struct {
		key string
		v   guard.Verdict
	}{{"protected", p.Protected}, {"provider", p.Provider}, {"known", p.Known}, {"namespace", p.Namespace}, {"blocked", p.Blocked},
		{"nonexistent", p.Nonexistent}, {"mixed_script", p.MixedScript},
		{"registered_lookalike", p.RegisteredLookalike}, {"changed_owner", p.ChangedOwner}, {"undeliverable", p.Undeliverable}}
	for _, v := range verdicts {
		if v.v > guard.Reject {
			bad(0, "policy.%s: %v is not a verdict a policy may assign (want allow, warn, hold or reject)", v.key, v.v)
		}
	}
	if p.Blocked == guard.Allow {
		bad(0, "policy.blocked may not be allow; to let blocked mail pass, remove it from block or add it to allow")
	}
	for _, msg := range c.DNS.validate() {
		bad(0, "%s", msg)
	}
	for _, msg := range c.Learning.validate() {
		bad(0, "%s", msg)
	}
	return errors.Join(errs...)
}
