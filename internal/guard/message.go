package guard

import (
	"context"
	"strings"
	"sync/atomic"
)

// Envelope is one message as an adapter sees it: the adapters turn their protocol into an
// Envelope, ask Inspect, and turn the MessageDecision back into their protocol.
type Envelope struct {
	Adapter    string   // "policy", "milter", "relay", "http", "cli"
	Sender     string   // MAIL FROM, as given ("" for the null sender)
	AuthUser   string   // the SASL user, when authenticated
	ClientAddr string   // the client's IP address, when known
	QueueID    string   // the MTA's queue id, when known
	Recipients []string // RCPT TO, as given
}

// MessageDecision is the decision for a whole message: one Decision per recipient, and
// the most severe verdict, which the message takes.
type MessageDecision struct {
	Verdict    Verdict
	Monitor    bool
	Recipients []Decision
	// Content are the categories the message carries (content.Result.Names), set by
	// WithContent; ContentSkipped says the content was over the limits and not checked.
	Content        []string
	ContentSkipped bool
}

// Inspect decides about every recipient of env, from env.Sender (CheckFrom), with one
// DNS budget for the whole message.
func (g *Guard) Inspect(env Envelope) MessageDecision {
	ds := make([]Decision, 0, len(env.Recipients))
	ctx := WithBudget(context.Background(), NewBudget())
	for _, r := range env.Recipients {
		ds = append(ds, g.CheckFrom(ctx, env.Sender, r))
	}
	return Combine(ds)
}

// Combine is the decision for a message whose recipients were already decided one by one
// (a door that checked them at RCPT need not check them again at the end): the most
// severe verdict, in monitor mode only if every decision was (a reload may have switched
// it in between).
func Combine(ds []Decision) MessageDecision {
	md := MessageDecision{Monitor: len(ds) > 0, Recipients: ds}
	for _, d := range ds {
		md.Verdict = max(md.Verdict, d.Verdict)
		md.Monitor = md.Monitor && d.Monitor
	}
	return md
}

// Enforced is the message verdict that the mail path applies: Allow in monitor mode,
// except for invalid recipients, which no mail path can deliver.
func (md MessageDecision) Enforced() Verdict {
	if md.Monitor && md.Verdict != Invalid {
		return Allow
	}
	return md.Verdict
}

// NotAllowed returns the recipients whose decision is not Allow (warned ones too), whose
// reasons the message's Reason gives. Whether a recipient is "flagged", the reason a message
// is held, is verdict.Verdict.Stops.
func (md MessageDecision) NotAllowed() []Decision {
	var out []Decision
	for _, d := range md.Recipients {
		if d.Verdict != Allow {
			out = append(out, d)
		}
	}
	return out
}

// Reason is one text for the whole message: the reasons of its flagged recipients.
func (md MessageDecision) Reason() string {
	var parts []string
	for _, d := range md.NotAllowed() {
		parts = append(parts, d.Input+": "+d.Reason)
	}
	return strings.Join(parts, " ")
}

// Reply is an SMTP reply: code, enhanced status code (RFC 3463) and text.
type Reply struct {
	Code     int
	Enhanced string
	Text     string
}

// ReplyFor is the SMTP reply that refuses mail with verdict v, with the reason for the
// sender. Allow and Warn are not refused and get the zero Reply.
func ReplyFor(v Verdict, reason string) Reply {
	switch v {
	case Reject:
		return Reply{550, "5.7.1", reason}
	case Hold:
		return Reply{550, "5.7.1", reason + " Please check the recipients and send again."}
	case Invalid:
		return Reply{553, "5.1.3", reason}
	}
	return Reply{}
}

// TempFail is the reply when rcptguard cannot decide: the sender's MTA keeps the mail.
var TempFail = Reply{451, "4.3.0", "rcptguard cannot check this message now; please try again later"}

// Current holds the guard in use and swaps it atomically, so a reload never disturbs a
// check in progress. The zero value holds none.
type Current struct{ p atomic.Pointer[Guard] }

// Load returns the guard in use, or nil.
func (c *Current) Load() *Guard { return c.p.Load() }

// Store makes g the guard in use.
func (c *Current) Store(g *Guard) { c.p.Store(g) }
