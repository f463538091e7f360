package relay

import (
	"context"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// classify reads the whole message into the spool, classifies it with s.Content and
// applies the content rules to the accepted recipients' decisions (guard.WithContent):
// a recipient they hold makes the message held, one they reject makes it refused. It
// returns the message to read on from the start, and release, which lets the spooled
// copy go. A message that cannot be read is the reply to give; one that cannot be
// stored is a temporary failure.
func (ss *session) classify(in *input, t *txn) (*input, func(), *smtp.SMTPError) {
	buf, release := in.spooled, func() {}
	if buf == nil {
		buf = ss.srv.Spool.New()
		release = func() { buf.Close() }
		sw := &sideWriter{w: buf}
		if err := copyMessage(sw, in); err != nil {
			return nil, release, ss.clientFailure(err)
		}
		if sw.err != nil {
			ss.srv.logger().Warn("relay: cannot spool a message to classify; answered 451", "id", t.id, "err", sw.err)
			return nil, release, replySpoolFailed
		}
	}
	rd, err := buf.Reader()
	if err != nil {
		return nil, release, replySpoolFailed
	}
	r := ss.srv.Content.Classify(context.Background(), rd)
	rd, err = buf.Reader()
	if err != nil {
		return nil, release, replySpoolFailed
	}
	read := ss.newInput(rd, nil)
	read.n = 0
	read.spooled = buf
	g := ss.srv.Guard.Load()
	if g == nil {
		return read, release, nil
	}
	var accepted []*rcptRecord
	var ds []guard.Decision
	for _, rc := range t.rcpts {
		if rc.code/100 == 2 {
			accepted = append(accepted, rc)
			ds = append(ds, rc.d)
		}
	}
	md := g.WithContent(guard.Combine(ds), r, ss.srv.ContentRules)
	t.content, t.skipped = md.Content, md.ContentSkipped
	for i, rc := range accepted {
		rc.d = md.Recipients[i]
		switch rc.d.Enforced() {
		case guard.Hold:
			t.held = true
		case guard.Reject:
			t.rejected = true
		}
	}
	return read, release, nil
}

// refuseRejected refuses a message whose content rules reject a recipient: it never
// reaches the upstream.
func (ss *session) refuseRejected(t *txn) *smtp.SMTPError {
	if ss.up != nil {
		ss.up.dirty = true // MAIL and RCPT were sent: RSET before the next MAIL
	}
	var lines []string
	for _, r := range t.rcpts {
		if r.code/100 == 2 && r.d.Enforced() == guard.Reject {
			lines = append(lines, "<"+r.d.Input+">: "+replyText(r.d.Reason, t.utf8))
		}
	}
	return smtpReply(guard.ReplyFor(guard.Reject, strings.Join(lines, "\n")))
}

// accepted are the decisions of the recipients accepted at RCPT.
func (t *txn) accepted() []guard.Decision {
	var ds []guard.Decision
	for _, rc := range t.rcpts {
		if rc.code/100 == 2 {
			ds = append(ds, rc.d)
		}
	}
	return ds
}
