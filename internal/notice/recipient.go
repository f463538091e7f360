// Package notice composes and sends the sender's notices: the email that tells the
// sender of a held message which recipients were held, why, which domain was likely
// intended, the evidence, when the message expires, and where to decide.
//
// It decides nothing about mail (the guard and the quarantine do) and never includes
// the held message's body or attachments: a notice carries only the envelope summary
// (subject, recipients, reasons) the sender already knows.
//
// A notice holds exactly ONE link, to the validation page; the choices (release as
// addressed, release corrected, discard) are made on that page by a POST with a CSRF
// token. The email never contains links that change anything, because link scanners
// (Safe Links and the like) open every link in an email.
//
// Notices go only to the authenticated user or to an envelope sender in the
// organisation's own domains ([Recipient]): a forged outside sender must not receive a
// copy of what was held.
//
// It also composes the report of `rcptguard squat --watch --notify ADDR` (WatchReport):
// what changed about the watched lookalikes and known correspondents, one line per change.
package notice

import (
	"strings"

	"github.com/rcptguard/rcptguard/internal/address"
)

// Recipient decides whom to notify about a held message, and whether anyone at all.
//
//   - The authenticated user, when it is a complete address (local@domain): it proved
//     who it is, so its domain need not be one of ownDomains. A bare user name ("alice")
//     is not turned into alice@<own domain>: user names need not be mailboxes, and a
//     guessed address could belong to someone else. It falls through to the next rule.
//   - Otherwise the envelope sender, only when its domain is one of ownDomains or a
//     subdomain of one (the sender of unauthenticated mail can be forged; an outside
//     address must never receive a copy).
//   - Never the null sender ("" or "<>"), never an address with control characters,
//     never an address that does not parse.
//
// to is the address in ASCII form (IDN domains as A-labels).
func Recipient(sender, authUser string, ownDomains []string) (to string, ok bool) {
	if a, ok := mailbox(authUser); ok {
		return a.String(), true
	}
	a, ok := mailbox(sender)
	if !ok {
		return "", false
	}
	for _, od := range ownDomains {
		d, err := address.ParseDomain(strings.TrimSpace(od))
		if err != nil {
			continue
		}
		if a.Domain.Under(d.ASCII) {
			return a.String(), true
		}
	}
	return "", false
}

// mailbox parses s as a complete mailbox (not a bare domain), refusing control
// characters and the null sender.
func mailbox(s string) (address.Address, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "<>" || strings.ContainsFunc(s, isControl) {
		return address.Address{}, false
	}
	a, err := address.Parse(s)
	if err != nil || a.IsDomain() || a.Local == "" {
		return address.Address{}, false
	}
	return a, true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
