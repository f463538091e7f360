package relay

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
)

// HoldTimeout bounds one call of Holder.Hold.
const HoldTimeout = 30 * time.Second

// replyHoldFailed: the Holder could not store the message; the client keeps it.
var replyHoldFailed = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
	Message: "Temporary failure: the message cannot be held now, please try again later"}

// replyHeld is the answer to a message the Holder stored as id: what became of it and
// what comes next, for the sender and for whoever reads the client's log.
func replyHeld(id string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0},
		Message: "Ok, held as " + replyText(id, false) + ": delivered to no one until the recipients are confirmed or corrected;" +
			" a sender of this organisation gets a notice with a link to do that"}
}

// hold reads the whole message and hands it to the Holder behind this hop's trace
// header, exactly as forward would have sent it. It answers 250 only after the Holder
// stored it; the upstream transaction opened at MAIL and RCPT gets no DATA and is reset
// before the next MAIL. When the Holder answers held.ErrConfirmed, the message is
// forwarded as if allowed.
func (ss *session) hold(in *input, t *txn) (*smtp.SMTPError, Outcome) {
	if ss.up != nil {
		ss.up.dirty = true // MAIL and RCPT were sent: RSET before the next MAIL
	}
	if in.spooled != nil {
		return ss.holdSpooled(in, t)
	}
	limit := ss.srv.srv.MaxMessageBytes
	buf := ss.srv.Spool.New() // in memory up to the spool's threshold, then in a file
	defer buf.Close()
	sw := &sideWriter{w: buf}
	io.WriteString(sw, ss.traceHeaders(t, time.Now()))
	trace := buf.Len()
	if err := copyMessage(sw, io.LimitReader(in, limit+1)); err != nil {
		return ss.clientFailure(err), OutcomeHeld
	}
	if sw.err != nil {
		ss.srv.logger().Warn("relay: cannot spool a message to hold; answered 451", "id", t.id, "err", sw.err)
		return ss.drainThen(in, replySpoolFailed), OutcomeTempFail
	}
	if in.n > limit {
		// go-smtp counts the same bytes and fails first; this is a second fence.
		return ss.drainThen(in, smtp.ErrDataTooLarge), OutcomeHeld
	}
	ctx, cancel := context.WithTimeout(context.Background(), HoldTimeout)
	defer cancel()
	// The Holder needs the content in full: a spooled one is read back, a few at a time.
	raw, release, err := ss.srv.Spool.ReadBack(ctx, buf)
	if err != nil {
		ss.srv.logger().Warn("relay: cannot hold a message; answered 451", "id", t.id, "err", err)
		return replyHoldFailed, OutcomeTempFail
	}
	defer release()
	return ss.holdRaw(ctx, t, raw[:trace], raw[trace:])
}

// holdSpooled holds a message that is in the spool already (in.spooled: BDAT, or read by
// classify), without a second copy: the Holder gets this hop's trace and that content.
func (ss *session) holdSpooled(in *input, t *txn) (*smtp.SMTPError, Outcome) {
	in.n = in.spooled.Len()
	ctx, cancel := context.WithTimeout(context.Background(), HoldTimeout)
	defer cancel()
	content, release, err := ss.srv.Spool.ReadBack(ctx, in.spooled)
	if err != nil {
		ss.srv.logger().Warn("relay: cannot hold a message; answered 451", "id", t.id, "err", err)
		return replyHoldFailed, OutcomeTempFail
	}
	defer release()
	return ss.holdRaw(ctx, t, []byte(ss.traceHeaders(t, time.Now())), content)
}

// holdRaw hands the message (this hop's trace, then the content) to the Holder.
func (ss *session) holdRaw(ctx context.Context, t *txn, trace, content []byte) (*smtp.SMTPError, Outcome) {
	var ds []guard.Decision
	for _, r := range t.rcpts {
		if r.code/100 == 2 {
			ds = append(ds, r.d)
		}
	}
	sub := held.Submission{Adapter: "relay", Sender: t.from, AuthUser: ss.authUser, QueueID: t.id,
		Recipients: held.RecipientsFrom(ds), Trace: string(trace), Content: content,
		Categories: t.content, CategoriesSkipped: t.skipped}
	if ss.cc.addr.IsValid() {
		sub.ClientAddr = ss.cc.addr.String()
	}
	id, err := ss.srv.Holder.Hold(ctx, sub)
	switch {
	case err == nil:
		t.heldID = id
		return replyHeld(id), OutcomeHeld
	case errors.Is(err, held.ErrConfirmed):
		return ss.forwardRaw(append(trace[:len(trace):len(trace)], content...), t), OutcomeRelayed
	}
	ss.srv.logger().Warn("relay: cannot hold a message; answered 451", "id", t.id, "err", err)
	return replyHoldFailed, OutcomeTempFail
}

// forwardRaw sends a message read in full, trace header included, to the upstream on the
// transaction opened at MAIL and RCPT.
func (ss *session) forwardRaw(raw []byte, t *txn) *smtp.SMTPError {
	if ss.up == nil {
		return replyUpstreamDown
	}
	w, err := ss.up.c.Data()
	if err != nil {
		return ss.upstreamFailure(err)
	}
	if _, err := w.Write(raw); err != nil {
		ss.dropUpstream() // no final dot: the upstream discards what it got
		return upstreamError(err)
	}
	return ss.finishUpstream(w, t)
}
