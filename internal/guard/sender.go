package guard

import (
	"context"
	"fmt"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// SenderHistory is each sender's own history of mail that went out: the history store
// keeps it (history.Store.Sender), the daemon hands it to the guard.
type SenderHistory interface {
	// Familiar returns how many messages sender (an address in normalised form:
	// address.Address.String) sent to domain (normalised ASCII), and when the first and
	// the last went; count 0 when none did.
	Familiar(ctx context.Context, sender, domain string) (count int64, first, last time.Time, err error)
}

// SenderRule says when a sender's own history lets a flagged recipient pass: the sender
// wrote to this exact domain at least Min times, on at least two different days (UTC).
type SenderRule struct {
	History SenderHistory
	Min     int64 // 0 (or no History): the rule is off
	// Timeout bounds one question to History; DefaultSenderTimeout when 0.
	Timeout time.Duration
	// OnError, if set, is told when History could not answer; the engine's verdict stands.
	OnError func(sender, domain string, err error)
	// OnPass, if set, is told of every decision that History changed to Allow.
	OnPass func(Decision)
}

// DefaultSenderTimeout bounds a question to the sender's history: the mail path waits
// for it.
const DefaultSenderTimeout = 250 * time.Millisecond

// Familiarity is the sender's own history that let a flagged recipient pass.
type Familiarity struct {
	Sender      string // normalised
	Count       int64
	First, Last time.Time
	// Verdict and Reason are what the guard decided without the sender's history.
	Verdict Verdict
	Reason  string
}

// WithSenders returns a copy of g whose CheckFrom (and Inspect) asks r about the sender.
func (g *Guard) WithSenders(r SenderRule) *Guard {
	c := *g
	c.senders = nil
	if r.History != nil && r.Min > 0 {
		c.senders = &r
	}
	return &c
}

// CheckFrom decides about one recipient of mail from sender (MAIL FROM as given; "" or
// "<>" for the null sender). It is Check, except that a recipient flagged only as a
// lookalike of a known correspondent or of a mailbox provider is allowed when the
// sender's own history (WithSenders) shows the sender writes to this exact domain: "a
// sender who has written to fabrikam.co 40 times is not making a typo the 41st time".
// Never for a lookalike of a protected or own domain, a protected namespace, a blocked
// domain, a suffix that does not exist or a homoglyph (another script's letters).
//
// The history is asked only when Check flagged the recipient, within the rule's timeout.
// When it cannot answer, the verdict stays as Check gave it (and OnError is told): a
// store that went away never lets mail pass.
//
// With live evidence (WithLive), a flagged recipient's domain is looked up first, within
// the budget ctx carries (WithBudget). The sender's history never lets pass silently a
// lookalike that the evidence says is registered and accepts mail (squat saw it, or its
// mail host is a farm): it is warned about instead, the reason saying both; nor one that
// DNS says cannot receive mail (policy.undeliverable applies).
func (g *Guard) CheckFrom(ctx context.Context, sender, input string) Decision {
	d, allowed := g.check(input)
	g.strengthen(&d, allowed, g.lookup(ctx, d))
	r := g.senders
	if r == nil || !familiarMayPass(d) {
		return d
	}
	from, err := address.Parse(sender)
	if err != nil || from.IsDomain() {
		return d // the null sender, or no address: nobody's history
	}
	who, dom := from.String(), d.Address.Domain
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultSenderTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	n, first, last, err := r.History.Familiar(ctx, who, dom.ASCII)
	cancel()
	if err != nil {
		if r.OnError != nil {
			r.OnError(who, dom.ASCII, err)
		}
		return d
	}
	if n < r.Min || sameDay(first, last) {
		return d
	}
	d.Familiar = &Familiarity{Sender: who, Count: n, First: first, Last: last, Verdict: d.Verdict, Reason: d.Reason}
	d.Verdict = Allow
	d.Reason = fmt.Sprintf("You have written to %s %s times since %s.", dom.Display, count(n), first.UTC().Format("2 January 2006"))
	if ev := d.Evidence; ev != nil && ev.Kind == Registered {
		d.Verdict = Warn // a habit, but the domain is in someone's hands: never silently
		d.Reason += " " + receivesSentence(dom, ev)
	}
	if r.OnPass != nil {
		r.OnPass(d)
	}
	return d
}

// familiarMayPass reports whether a sender's history may let d pass: it is flagged, and
// only as a lookalike of known correspondents or providers.
func familiarMayPass(d Decision) bool {
	if d.Verdict == Allow || d.Verdict == Invalid || d.Blocked || len(d.Findings) == 0 {
		return false
	}
	if d.Evidence != nil && d.Evidence.Kind == Undeliverable {
		return false // the mail cannot go anywhere: the habit is out of date
	}
	for _, f := range d.Findings {
		if f.Class.Has(engine.Own) || f.Class.Has(engine.Protect) {
			return false
		}
		if f.Situation != engine.SituationKnown && f.Situation != engine.SituationProvider {
			return false
		}
		if f.Technique == engine.Homoglyph {
			return false // a disguise is never a habit: gmаil.com stays flagged
		}
	}
	return true
}

func sameDay(a, b time.Time) bool {
	ya, ma, da := a.UTC().Date()
	yb, mb, db := b.UTC().Date()
	return ya == yb && ma == mb && da == db
}
