package guard

import "github.com/rcptguard/rcptguard/internal/address"

// WithTrusted returns a copy of g whose allowed decisions for the domains in trusted
// (ASCII, lower case) say that the organisation's administrators trusted them. It changes
// no verdict: a trusted domain must be in the engine's allow inputs to be allowed; this
// only says why, apart from the allow list of the configuration.
func (g *Guard) WithTrusted(trusted []string) *Guard {
	c := *g
	c.trusted = make(map[string]bool, len(trusted))
	for _, d := range trusted {
		c.trusted[d] = true
	}
	return &c
}

// Trusted reports whether the administrators trusted domain (ASCII) organisation-wide.
func (g *Guard) Trusted(domain string) bool { return g.trusted[domain] }

// allowReason is the reason of an allowed decision for dom.
func (g *Guard) allowReason(dom address.Domain) string {
	if g.trusted[dom.ASCII] {
		return dom.Display + " was trusted by your organisation's administrators."
	}
	return dom.Display + " is on the allow list."
}
