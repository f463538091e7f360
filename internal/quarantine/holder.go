package quarantine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// Holder is what a mail-path adapter holds a message with. The daemon's Holder stores the
// message (Store.Hold) and then has the sender notified; an adapter acknowledges the
// message to the MTA or client only after Hold returned a nil error, and answers with a
// temporary failure for any other error except ErrConfirmed.
//
// The adapter fills Adapter, Sender, AuthUser, ClientAddr, QueueID, Recipients (every
// envelope recipient, with its decision: RecipientsFrom) and Subject; the Holder sets
// ExpiresAt.
type Holder interface {
	Hold(ctx context.Context, m Message, raw io.Reader) (id string, err error)
}

// ErrConfirmed is returned by a Holder that did not hold the message because the sender
// has already confirmed every flagged recipient's domain: the adapter delivers the
// message as if it had been allowed.
var ErrConfirmed = errors.New("quarantine: the sender already confirmed these recipients")

// RecipientsFrom turns the guard's decisions about a message's recipients into the
// quarantine's recipients, in the same order.
func RecipientsFrom(ds []guard.Decision) []Recipient {
	out := make([]Recipient, 0, len(ds))
	for _, d := range ds {
		r := Recipient{Address: d.Input, Verdict: d.Verdict.String(), Reason: d.Reason}
		r.Intended = d.Intended()
		for _, t := range d.Techniques() {
			r.Techniques = append(r.Techniques, t.String())
		}
		if len(d.Findings) > 0 {
			r.Situation = d.Findings[0].Situation.String()
		}
		out = append(out, r)
	}
	return out
}

// DedupeKeyOf is the Message.DedupeKey of a submission: a hash of the adapter, the
// envelope and content. An adapter that adds something of its own to the content (a
// trace header with the time) passes the content as the client sent it, so that a
// client's retry of the same message has the same key.
func DedupeKeyOf(m Message, content []byte) string {
	h := sha256.New()
	io.WriteString(h, m.Adapter+"\x00"+m.Sender+"\x00")
	for _, r := range m.Recipients {
		io.WriteString(h, r.Address+"\x00")
	}
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}
