package milter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
)

// Adapter is the name the adapter gives itself in held messages (held.Submission).
const Adapter = "milter"

// collect reports whether msg's content is to be kept: for s.Content (every message
// whose content could matter, guard.ContentRules.Matter), or
// for s.Holder when the message's enforced verdict is Hold. It decides once, at the
// message's first header, body or end of message event, when every recipient is known.
func (msg *message) collect(s *Server) bool {
	if !msg.decided {
		msg.decided = true
		if s.Content != nil && s.ContentRules.Matter(msg.g, msg.decisions) ||
			s.Holder != nil && guard.Combine(msg.decisions).Enforced() == guard.Hold {
			msg.content = newContent(s.spool(), s.maxMessageBytes())
		}
	}
	return msg.content != nil
}

// BodyChunk keeps the chunk when the message is to be held. Otherwise, or once the
// message is too large to hold, it asks the MTA to skip the rest of the body, when the
// MTA can.
func (c *session) BodyChunk(chunk []byte, _ gomilter.Modifier) (_ *gomilter.Response, err error) {
	defer c.closeOnPanic(&err)
	msg := c.msg
	if msg != nil && msg.collect(c.s) && !msg.content.over {
		msg.content.body(chunk)
		if !msg.content.over {
			return gomilter.RespContinue, nil
		}
	}
	if c.proto&gomilter.OptSkip != 0 {
		return gomilter.RespSkip, nil
	}
	return gomilter.RespContinue, nil
}

// hold hands msg to the server's Holder at end of message and returns the answer to the
// MTA: discard once the quarantine has it, a temporary error when it could not take it.
// kept is false when the Holder answered held.ErrConfirmed: the message is then to
// be delivered as allowed.
//
// The MTA shows a milter no Received field of its own, so the held copy gets one in its
// place (mta is the MTA's name, macro j): released mail keeps the trace of where it came
// from.
func (c *session) hold(ev *Event, msg *message, md guard.MessageDecision, mta string, start time.Time) (resp *gomilter.Response, kept bool) {
	if !msg.collect(c.s) {
		return c.tempFail(*ev, errors.New("hold: no content collected"), start), true
	}
	buf, err := msg.content.stored()
	if err != nil {
		return c.tempFail(*ev, fmt.Errorf("hold: %w", err), start), true
	}
	ctx, cancel := context.WithTimeout(context.Background(), orDefault(c.s.HoldTimeout, DefaultHoldTimeout))
	defer cancel()
	// The Holder needs the content in full: a spooled one is read back, a few at a time.
	content, release, err := c.s.spool().ReadBack(ctx, buf)
	if err != nil {
		return c.tempFail(*ev, fmt.Errorf("hold: %w", err), start), true
	}
	defer release()
	id, err := c.s.Holder.Hold(ctx, held.Submission{
		Adapter: Adapter, Sender: msg.sender, AuthUser: msg.authUser, ClientAddr: c.clientAddr,
		QueueID: ev.QueueID, Recipients: held.RecipientsFrom(md.Recipients),
		Trace: c.received(mta, ev.QueueID, msg.nonSMTP, time.Now()), Content: content,
		Subject: msg.content.subjectText(), Categories: md.Content, CategoriesSkipped: md.ContentSkipped,
	})
	switch {
	case errors.Is(err, held.ErrConfirmed):
		return nil, false
	case err != nil:
		return c.tempFail(*ev, fmt.Errorf("hold: %w", err), start), true
	}
	ev.Action, ev.HeldID, ev.Duration = ActionHold, id, time.Since(start)
	c.s.record(*ev)
	return gomilter.RespDiscard, true
}

// received is the trace field for a held message (RFC 5321 section 4.4), folded, with
// CRLF line ends. Names and addresses come from the MTA; anything but printable ASCII
// without parentheses or brackets is left out.
func (c *session) received(mta, queueID string, nonSMTP bool, now time.Time) string {
	var b strings.Builder
	b.WriteString("Received:")
	with := "local"
	if !nonSMTP {
		with = "ESMTP"
		b.WriteString(" from " + orUnknown(traceToken(c.clientName)))
		if a := traceToken(c.clientAddr); a != "" {
			b.WriteString(" ([" + a + "])")
		}
		b.WriteString("\r\n\t")
	} else {
		b.WriteString(" ")
	}
	b.WriteString("by " + orUnknown(traceToken(mta)) + " (held by rcptguard) with " + with)
	if id := traceToken(queueID); id != "" {
		b.WriteString(" id " + id)
	}
	b.WriteString(";\r\n\t" + now.UTC().Format(time.RFC1123Z) + "\r\n")
	return b.String()
}

// traceToken is s when it is one token of printable ASCII fit for a trace field, else "".
func traceToken(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("()[];\\\"", c) >= 0 {
			return ""
		}
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
