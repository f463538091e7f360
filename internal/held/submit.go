package held

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/smtptext"
)

// Submission is a message a door of the mail path hands to the quarantine: its envelope,
// every envelope recipient with its decision, and its content.
type Submission struct {
	Adapter    string // "milter", "relay", "intake"
	Sender     string
	AuthUser   string
	ClientAddr string
	QueueID    string
	// Recipients are every envelope recipient with the guard's decision, in order
	// (RecipientsFrom).
	Recipients []quarantine.Recipient
	// Trace is what this hop adds in front of the content (a Received field, CRLF line
	// ends): it is stored with the message but left out of the dedupe key, since its time
	// changes on every try.
	Trace string
	// Content is the message as the client sent it.
	Content []byte
	// Subject is the decoded subject; read from Content when empty.
	Subject string
	// Categories are the content categories the message carries (content rules; names
	// only), CategoriesSkipped that its content was over the limits.
	Categories        []string
	CategoriesSkipped bool
}

// Holder is what a door holds a message with (the Service is the one Holder). A door
// acknowledges the message to the MTA or client only after Hold returned a nil error, and
// answers with a temporary failure for any other error except ErrConfirmed.
type Holder interface {
	Hold(ctx context.Context, sub Submission) (id string, err error)
}

// ErrConfirmed is returned by Hold when it did not hold the message because the sender
// has already confirmed every flagged recipient's domain: the door delivers the message
// as if it had been allowed.
var ErrConfirmed = errors.New("held: the sender already confirmed these recipients")

// RecipientsFrom turns the guard's decisions about a message's recipients into the
// quarantine's recipients, in the same order.
func RecipientsFrom(ds []guard.Decision) []quarantine.Recipient {
	out := make([]quarantine.Recipient, 0, len(ds))
	for _, d := range ds {
		r := quarantine.Recipient{Address: d.Input, Verdict: d.Verdict, Reason: d.Reason}
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

// message is the quarantine's message for sub, with its dedupe key: a hash of the door,
// the envelope and the content without the trace, so that a client's retry of the same
// message after a lost reply finds the message held the first time.
func (sub Submission) message() quarantine.Message {
	m := quarantine.Message{
		Adapter: sub.Adapter, Sender: sub.Sender, AuthUser: sub.AuthUser, ClientAddr: sub.ClientAddr,
		QueueID: sub.QueueID, Recipients: sub.Recipients, Subject: sub.Subject,
		Content: sub.Categories, ContentSkipped: sub.CategoriesSkipped,
	}
	if m.Subject == "" {
		m.Subject = subjectOf(sub.Content)
	}
	h := sha256.New()
	io.WriteString(h, m.Adapter+"\x00"+m.Sender+"\x00")
	for _, r := range m.Recipients {
		io.WriteString(h, r.Address+"\x00")
	}
	h.Write(sub.Content)
	m.DedupeKey = hex.EncodeToString(h.Sum(nil))
	return m
}

// Bounds of what is read for the subject.
const (
	maxHeaderScan = 256 << 10
	maxSubject    = 1000
)

// subjectOf returns the message's first Subject field, unfolded and with its RFC 2047
// encoded words decoded, as one line of printable text; "" when there is none.
func subjectOf(msg []byte) string {
	br := bufio.NewReader(io.LimitReader(bytes.NewReader(msg), maxHeaderScan))
	var subject []string
	in := false
	for {
		line, err := br.ReadString('\n')
		trimmed := strings.TrimRight(line, "\r\n")
		if trimmed == "" {
			break // end of header, or of the message
		}
		switch {
		case trimmed[0] == ' ' || trimmed[0] == '\t':
			if in {
				subject = append(subject, trimmed)
			}
		case subject == nil && len(trimmed) >= 8 && strings.EqualFold(trimmed[:8], "subject:"):
			in = true
			subject = append(subject, trimmed[len("subject:"):])
		default:
			in = false
		}
		if err != nil {
			break
		}
	}
	if subject == nil {
		return ""
	}
	return smtptext.HeaderText(strings.Join(subject, ""), maxSubject)
}
