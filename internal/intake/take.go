package intake

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/relay"
)

// replyHeld is the answer to a message held as id (Postfix logs it with status=sent).
func replyHeld(id string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0},
		Message: "Ok, held as " + id + ": delivered to no one until the recipients are confirmed or corrected"}
}

// plan is what the intake knows of a message before it holds or hands it back.
type plan struct {
	queueID  string
	handover *quarantine.Handover // nil: none found (fallback)
	fallback string               // why there is none
	rcpts    []quarantine.Recipient
	checked  []guard.Decision // asked of the guard here
	// decisions are the recipients' decisions, rcpts' order: the hand-over's as the guard
	// gives them, or the ones asked here (for the content rules).
	decisions []guard.Decision
	hold      bool // a recipient stops the mail
	// content and contentSkipped are what the content rules read (content.go).
	content        []string
	contentSkipped bool
}

// take decides about the message content and holds it or hands it back; it answers 250
// only once the quarantine or the re-injection service has it.
func (ss *session) take(ctx context.Context, content []byte) *smtp.SMTPError {
	s := ss.srv
	p, reply := ss.plan(ctx, content)
	if reply != nil {
		return reply
	}
	ss.applyContent(ctx, &p, content)
	id := p.queueID
	if id == "" {
		id = localID()
	}
	tr := relay.Trace{Helo: ss.helo, Client: ss.client, By: s.Hostname, Proto: "ESMTP", ID: id}
	if len(ss.rcpts) == 1 {
		tr.For = ss.rcpts[0]
	}
	trace := tr.Received(time.Now())
	ev := Event{QueueID: p.queueID, Sender: ss.from, Handover: p.handover != nil, Fallback: p.fallback, Checked: p.checked,
		Content: p.content, ContentSkipped: p.contentSkipped}
	var outcome guard.Outcome
	var heldID string
	switch {
	case p.hold:
		sub := held.Submission{Adapter: "intake", Sender: ss.from, QueueID: id, Recipients: p.rcpts, Trace: trace, Content: content,
			Categories: p.content, CategoriesSkipped: p.contentSkipped}
		sub.ClientAddr = addrString(ss.client) // Postfix's, unless the hand-over knows the submitter's
		if h := p.handover; h != nil {
			sub.AuthUser, sub.ClientAddr = h.AuthUser, h.ClientAddr
		}
		var err error
		heldID, err = s.Holder.Hold(ctx, sub)
		switch {
		case err == nil:
			reply, outcome = replyHeld(heldID), guard.Held
		case errors.Is(err, held.ErrConfirmed):
			reply, outcome = ss.handBack(ctx, id, trace, content)
		default:
			s.log.Warn("intake: the message cannot be held; answered 451", "queue_id", id, "err", err)
			reply, outcome = replyTryLate, guard.TempFailed
		}
	default:
		reply, outcome = ss.handBack(ctx, id, trace, content)
	}
	if p.handover != nil && (outcome == guard.Held || outcome == guard.Delivered) {
		ss.consume(p.queueID)
	}
	ev.Outcome, ev.HeldID = outcome, heldID
	ss.report(ev, p)
	return reply
}

// handBack sends the message to the re-injection service and answers with its reply.
func (ss *session) handBack(ctx context.Context, id, trace string, content []byte) (*smtp.SMTPError, guard.Outcome) {
	// Its own time (DefaultReinjectTimeout), not what is left of the hold's.
	reply, err := ss.srv.reinject(context.WithoutCancel(ctx), ss.from, ss.opts, ss.rcpts, trace, content)
	if err != nil {
		ss.srv.log.Warn("intake: the re-injection service did not take the message", "queue_id", id, "code", err.Code, "err", err.Message)
		if err.Code/100 == 5 {
			return err, guard.Refused
		}
		return err, guard.TempFailed
	}
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok, handed back: " + reply}, guard.Delivered
}

// plan finds the hand-over of the message and the decision for each envelope recipient:
// the hand-over's, else the guard's. A reply is a temporary failure.
func (ss *session) plan(ctx context.Context, content []byte) (plan, *smtp.SMTPError) {
	s := ss.srv
	p := plan{queueID: PostfixQueueID(content)}
	ctx = guard.WithBudget(ctx, guard.NewBudget()) // one DNS budget (live evidence) for the message
	switch {
	case p.queueID == "":
		p.fallback = "no queue ID in a Received field of Postfix's smtpd on top of the message"
	default:
		h, err := s.Handovers.GetHandover(ctx, p.queueID)
		switch {
		case errors.Is(err, quarantine.ErrNotFound):
			p.fallback = "no hand-over recorded for the queue ID (purged, or FILTER without the policy service)"
		case err != nil:
			s.log.Warn("intake: the hand-over cannot be read; answered 451", "queue_id", p.queueID, "err", err)
			return p, replyTryLate
		case s.now().Sub(h.At) > quarantine.HandoverKeep:
			p.fallback = "the hand-over for the queue ID is older than Postfix keeps a message (another message's)"
		default:
			p.handover = &h
		}
	}
	for _, r := range ss.rcpts {
		if p.handover != nil {
			if hr, ok := find(p.handover.Recipients, r); ok {
				hr.Address = r
				p.rcpts = append(p.rcpts, hr)
				p.decisions = append(p.decisions, handedOver(hr))
				p.hold = p.hold || hr.Verdict.Stops()
				continue
			}
		}
		g := (*guard.Guard)(nil)
		if s.Guard != nil {
			g = s.Guard.Load()
		}
		if g == nil {
			s.log.Error("intake: no guard loaded to check a recipient; answered 451", "queue_id", p.queueID)
			return p, replyTryLate
		}
		d := g.CheckFrom(ctx, ss.from, r)
		p.checked = append(p.checked, d)
		p.decisions = append(p.decisions, d)
		p.rcpts = append(p.rcpts, held.RecipientsFrom([]guard.Decision{d})...)
		p.hold = p.hold || d.Enforced().Stops()
	}
	if p.handover == nil {
		s.log.Warn("intake: checked the recipients again with the guard in use: "+p.fallback,
			"queue_id", p.queueID, "sender", ss.from, "recipients", len(ss.rcpts))
	} else if len(p.checked) > 0 {
		s.log.Info("intake: recipients the hand-over does not name (rewritten by Postfix?) were checked with the guard in use",
			"queue_id", p.queueID, "checked", len(p.checked))
	}
	return p, nil
}

// find returns the hand-over's recipient for the envelope address r (ignoring case).
func find(rs []quarantine.Recipient, r string) (quarantine.Recipient, bool) {
	for _, x := range rs {
		if strings.EqualFold(x.Address, r) {
			return x, true
		}
	}
	return quarantine.Recipient{}, false
}

// consume deletes a hand-over whose message is held or handed back. If it fails (or the
// process dies first), Postfix's retry finds it again and the quarantine's dedupe key
// makes the second hold return the first's ID; the purge removes it in the end.
func (ss *session) consume(queueID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ss.srv.Handovers.DeleteHandover(ctx, queueID); err != nil {
		ss.srv.log.Warn("intake: the hand-over of a held message cannot be deleted (the purge will)", "queue_id", queueID, "err", err)
	}
}

// report logs ev and hands it (and the check state) to the observers.
func (ss *session) report(ev Event, p plan) {
	s := ss.srv
	rcpts := make([]string, len(p.rcpts))
	for i, r := range p.rcpts {
		rcpts[i] = r.Address + "=" + r.Verdict.String()
	}
	attrs := []slog.Attr{slog.String("queue_id", ev.QueueID),
		slog.String("sender", ev.Sender), slog.Any("recipients", rcpts), slog.Bool("handover", ev.Handover),
		slog.String("outcome", ev.Outcome.String()), slog.String("held_id", ev.HeldID)}
	if len(ev.Content) > 0 || ev.ContentSkipped {
		attrs = append(attrs, slog.Any("content", ev.Content), slog.Bool("content_skipped", ev.ContentSkipped))
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "intake decision", attrs...)
	if s.Observe != nil {
		s.Observe(ev)
	}
	if s.Finished != nil {
		tx := guard.Transaction{Adapter: "intake", QueueID: ev.QueueID, Sender: ev.Sender, Outcome: ev.Outcome, HeldID: ev.HeldID}
		if h := p.handover; h != nil {
			tx.AuthUser, tx.ClientAddr = h.AuthUser, h.ClientAddr
		}
		for _, r := range p.rcpts {
			tx.Recipients = append(tx.Recipients, guard.Decision{Input: r.Address, Verdict: r.Verdict, Reason: r.Reason})
		}
		s.Finished(tx)
	}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
