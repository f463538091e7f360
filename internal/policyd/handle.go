package policyd

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// handle answers one request with an action, or returns "" when the connection must be
// closed without an answer (no guard, a request Postfix would never send): the protocol's
// way to report trouble, after which Postfix fails closed.
func (s *Server) handle(c *conn, req Request) string {
	if t := req.Type(); t != RequestType {
		c.log.Warn("not a policy request; closing the connection", "request", t)
		return ""
	}
	switch req.ProtocolState() {
	case StateRcpt:
		return s.rcpt(c, req)
	case StateEOM:
		return s.eom(c, req)
	}
	return "DUNNO"
}

// loadGuard returns the guard in use, or nil after logging that there is none.
func (s *Server) loadGuard(c *conn, req Request) *guard.Guard {
	var g *guard.Guard
	if s.Guard != nil {
		g = s.Guard.Load()
	}
	if g == nil {
		c.log.Error("no guard loaded; closing the connection (Postfix defers the mail)",
			"instance", req.Instance(), "protocol_state", req.ProtocolState())
	}
	return g
}

// rcpt decides about one recipient. Hold is answered DUNNO here and decided for the whole
// message at END-OF-MESSAGE: refusing one recipient at RCPT still delivers the others.
func (s *Server) rcpt(c *conn, req Request) string {
	start := time.Now()
	rcpt, inst := req.Recipient(), req.Instance()
	if rcpt == "" || inst == "" {
		c.log.Warn("RCPT request without recipient or instance; closing the connection",
			"recipient", rcpt, "instance", inst)
		return ""
	}
	g := s.loadGuard(c, req)
	if g == nil {
		return ""
	}
	if key := c.key(inst); c.budget == nil || c.budgetKey != key {
		c.budget, c.budgetKey = guard.NewBudget(), key
	}
	d := g.CheckFrom(guard.WithBudget(context.Background(), c.budget), req.Sender(), rcpt)
	action := rcptAction(d.Enforced(), d.Reason)
	ev := Event{Stage: "rcpt", Verdict: d.Verdict, Monitor: d.Monitor, Recipient: rcpt, Sender: req.Sender(), Decision: d}
	if passes(d.Enforced()) {
		key := c.key(inst)
		if c.lastKey != key {
			s.endedWithoutEOM(c, s.txns.take(c.lastKey))
			c.lastKey = key
		}
		res := s.txns.add(key, req.Sender(), d)
		if res.full {
			action, ev.TempFail = tooManyAction, true
		}
		if res.evicted > 0 {
			txns, rcpts := s.txns.len()
			c.log.Warn("transaction memory full; forgot the least recently used (their messages will be deferred)",
				"forgotten", res.evicted, "transactions", txns, "recipients", rcpts)
		}
	}
	ev.Duration = time.Since(start)
	if lvl := levelFor(d.Verdict); c.log.Enabled(context.Background(), lvl) {
		attrs := []slog.Attr{slog.String("stage", "rcpt"), slog.String("instance", inst),
			slog.String("queue_id", req.QueueID()), slog.String("sender", req.Sender()),
			slog.String("recipient", rcpt), slog.String("verdict", d.Verdict.String()),
			slog.Bool("monitor", d.Monitor), slog.Any("techniques", techniqueNames(d)),
			slog.Any("intended", d.Intended()), slog.String("action", action)}
		if d.Monitor {
			attrs = append(attrs, slog.String("would_action", rcptAction(d.Verdict, d.Reason)))
		}
		c.log.LogAttrs(context.Background(), lvl, "policy decision", attrs...)
	}
	s.observe(ev)
	return action
}

// eom decides about the whole message from the recipients remembered at RCPT.
func (s *Server) eom(c *conn, req Request) string {
	start := time.Now()
	inst := req.Instance()
	if inst == "" {
		c.log.Warn("END-OF-MESSAGE request without instance; closing the connection")
		return ""
	}
	g := s.loadGuard(c, req)
	if g == nil {
		return ""
	}
	key := c.key(inst)
	if c.lastKey == key {
		c.lastKey = ""
	}
	s.sawEOM.Store(true)
	t := s.txns.take(key)
	seen := 0
	if t != nil {
		seen = t.seen
	}
	n, known := req.RecipientCount()
	if seen == 0 && known && n == 0 {
		return "DUNNO" // nothing was accepted; Postfix does not get here
	}
	if seen == 0 || known && seen < n {
		c.log.Error("END-OF-MESSAGE with recipients that were not checked at RCPT; deferring the message "+
			"(is check_policy_service before every permit in smtpd_recipient_restrictions?)",
			"stage", "eom", "instance", inst, "queue_id", req.QueueID(), "sender", req.Sender(),
			"recipient_count", req.Get("recipient_count"), "checked", seen)
		s.observe(Event{Stage: "eom", TempFail: true, Duration: time.Since(start)})
		return replyAction(guard.TempFail)
	}
	ds := t.rcpts
	if r := req.Recipient(); r != "" && known && n == 1 {
		// Postfix names the one recipient it accepted: a later restriction (or a
		// duplicate) may have refused the others that passed here.
		if d := t.decision(r); d != nil {
			ds = []guard.Decision{*d}
		}
	}
	if !t.held && !s.contentFilter(ds) {
		// Every recipient let through at RCPT was allowed or warned (PREPEND is done
		// there): nothing to hold.
		s.observe(Event{Stage: "eom", Verdict: guard.Allow, Duration: time.Since(start)})
		s.finish(req, ds, "DUNNO")
		return "DUNNO"
	}
	// The decisions made at RCPT, not asked again: a reload since then changes nothing
	// about this message.
	md := guard.Combine(ds)
	action := eomAction(md.Enforced(), md.Reason(), s.Filter)
	if action == "DUNNO" && !md.Monitor && s.contentFilter(ds) {
		// Nothing to hold yet, but what the message carries may change that: the intake
		// reads it and holds it or hands it back (its content rules).
		action = "FILTER " + s.Filter
	}
	if strings.HasPrefix(action, "FILTER ") {
		if err := s.handOver(req, md.Recipients); err != nil {
			c.log.Error("the hand-over to the quarantine intake cannot be recorded; deferring the message (Postfix keeps it)",
				"stage", "eom", "instance", inst, "queue_id", req.QueueID(), "sender", req.Sender(), "err", err)
			action = replyAction(handoverFailed)
		}
	}
	dur := time.Since(start)
	if lvl := levelFor(md.Verdict); c.log.Enabled(context.Background(), lvl) {
		var flagged, intended []string
		for _, d := range md.NotAllowed() {
			flagged = append(flagged, d.Input)
			intended = append(intended, d.Intended()...)
		}
		attrs := []slog.Attr{slog.String("stage", "eom"), slog.String("instance", inst),
			slog.String("queue_id", req.QueueID()), slog.String("sender", req.Sender()),
			slog.Int("recipients", len(md.Recipients)), slog.Any("flagged", flagged),
			slog.String("verdict", md.Verdict.String()), slog.Bool("monitor", md.Monitor),
			slog.Any("intended", intended), slog.String("action", action)}
		if md.Monitor {
			attrs = append(attrs, slog.String("would_action", eomAction(md.Verdict, md.Reason(), s.Filter)))
		}
		c.log.LogAttrs(context.Background(), lvl, "policy decision", attrs...)
	}
	failed := action == replyAction(handoverFailed)
	s.observe(Event{Stage: "eom", Verdict: md.Verdict, Monitor: md.Monitor, Duration: dur, TempFail: failed, HandoverFailed: failed})
	s.finish(req, ds, action)
	return action
}

// contentFilter reports whether the message's content could change its decision
// (guard.ContentRules.Matter) and the quarantine intake applies content rules: then
// the message goes to the intake even when no recipient is held.
func (s *Server) contentFilter(ds []guard.Decision) bool {
	if s.Filter == "" || s.ContentRules == nil {
		return false
	}
	var g *guard.Guard
	if s.Guard != nil {
		g = s.Guard.Load()
	}
	return s.ContentRules.Matter(g, ds)
}

// finish hands the message's check state to Finished: its recipients' decisions made at
// RCPT and what the answer means for the message.
func (s *Server) finish(req Request, ds []guard.Decision, action string) {
	if s.Finished == nil {
		return
	}
	tx := guard.Transaction{Adapter: "policy", QueueID: req.QueueID(), Sender: req.Sender(),
		AuthUser: req.SASLUsername(), ClientAddr: req.ClientAddress(), Recipients: ds}
	switch {
	case action == "DUNNO":
		tx.Outcome = guard.Delivered
	case strings.HasPrefix(action, "FILTER "):
		tx.Outcome = guard.Held // by the intake (or the milter, which comes after)
	case strings.HasPrefix(action, "4"):
		tx.Outcome = guard.TempFailed
	default:
		tx.Outcome = guard.Refused
	}
	s.Finished(tx)
}

// endedWithoutEOM is told of a transaction that ended without an END-OF-MESSAGE request
// (t may be nil). Usually the client gave up (RSET, QUIT); but while no END-OF-MESSAGE
// request has ever arrived, it may be a Postfix without smtpd_end_of_data_restrictions,
// which delivers the mail that should be held: say so loudly.
func (s *Server) endedWithoutEOM(c *conn, t *txn) {
	if t != nil && t.held && !s.sawEOM.Load() {
		c.log.Error("a message with a recipient to hold ended without an END-OF-MESSAGE request; "+
			"unless the client gave up, Postfix lacks check_policy_service in smtpd_end_of_data_restrictions "+
			"and delivers the mail that should be held", "sender", t.sender, "recipients", len(t.rcpts))
	}
}

// passes reports whether a recipient with verdict v is let through at RCPT.
func passes(v guard.Verdict) bool { return v == guard.Allow || v == guard.Warn || v == guard.Hold }

// techniqueNames lists the techniques by name: a []engine.Technique is a byte slice to
// slog's text handler.
func techniqueNames(d guard.Decision) []string {
	ts := d.Techniques()
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

func levelFor(v guard.Verdict) slog.Level {
	if v == guard.Allow {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

func (s *Server) observe(ev Event) {
	if s.Observe != nil {
		s.Observe(ev)
	}
}
