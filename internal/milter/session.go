package milter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/panics"
	"github.com/rcptguard/rcptguard/internal/smtptext"
)

// Errors behind a temporary error, in Event.Err and the log.
var (
	ErrNoGuard      = errors.New("no guard loaded")
	ErrShuttingDown = errors.New("server shutting down")
	errNoMessage    = errors.New("milter event outside a message")
)

// session is one milter connection: the library calls its methods one at a time, from
// the connection's goroutine. The MTA may send several messages on one connection; each
// gets its own message state, and nothing is carried from one to the next.
type session struct {
	gomilter.NoOpMilter
	s *Server

	clientAddr string
	clientName string // the MTA's name for the client, for the trace header of held mail
	localPort0 bool   // an Internet connection from port 0: Postfix's emulated local client
	postfix    bool   // macro v names Postfix
	msg        *message
	proto      gomilter.OptProtocol // the protocol options negotiated with the MTA
}

// message is what the adapter keeps about one message between its callbacks.
type message struct {
	g        *guard.Guard  // the guard when the message began: one guard decides it all
	budget   *guard.Budget // the message's DNS time (live evidence), shared by its recipients
	sender   string
	authUser string
	nonSMTP  bool
	rcpts    []string
	// decisions are the guard's for rcpts, made at RCPT.
	decisions []guard.Decision
	forged    map[string]int // our warning headers that came with the message, by name
	// content is the message's content, collected for the Holder; nil when the message
	// is not to be held. decided says whether that was decided yet.
	content *content
	decided bool
}

var _ gomilter.Milter = (*session)(nil)

// NewConnection starts (or, when the MTA reuses the connection, restarts) a connection.
func (c *session) NewConnection(gomilter.Modifier) error {
	c.dropMessage()
	*c = session{s: c.s, proto: c.proto}
	return nil
}

// Connect records where the mail comes from.
func (c *session) Connect(host, family string, port uint16, addr string, m gomilter.Modifier) (_ *gomilter.Response, err error) {
	defer c.closeOnPanic(&err)
	c.clientAddr, c.clientName = addr, host
	c.localPort0 = port == 0 && (family == "tcp4" || family == "tcp6")
	c.postfix = strings.HasPrefix(m.Get(gomilter.MacroMTAVersion), "Postfix")
	return gomilter.RespContinue, nil
}

// MailFrom begins a message with the guard in use now.
func (c *session) MailFrom(from, _ string, m gomilter.Modifier) (resp *gomilter.Response, err error) {
	start := time.Now()
	c.dropMessage()
	ev := Event{Stage: StageMail, QueueID: m.Get(gomilter.MacroQueueId), Sender: from, NonSMTP: c.localPort0}
	defer c.catch(&ev, &resp, start)
	var g *guard.Guard
	if c.s.Guard != nil {
		g = c.s.Guard.Load()
	}
	switch {
	case c.s.shuttingDown():
		return c.tempFail(ev, ErrShuttingDown, start), nil
	case g == nil:
		return c.tempFail(ev, ErrNoGuard, start), nil
	}
	c.msg = &message{g: g, budget: guard.NewBudget(), sender: from, authUser: m.Get(gomilter.MacroAuthAuthen), nonSMTP: c.localPort0}
	return gomilter.RespContinue, nil
}

// RcptTo refuses a recipient that the guard rejects, unless the message came without
// SMTP, where the MTA allows no refusal at RCPT: then the message is decided at its end.
func (c *session) RcptTo(rcpt, _ string, m gomilter.Modifier) (resp *gomilter.Response, err error) {
	start := time.Now()
	ev := Event{Stage: StageRcpt, QueueID: m.Get(gomilter.MacroQueueId), Recipients: []string{rcpt}}
	defer c.catch(&ev, &resp, start)
	msg := c.msg
	if msg == nil {
		return c.tempFail(ev, errNoMessage, start), nil
	}
	ev.Sender = msg.sender
	if _, ok := m.GetEx(gomilter.MacroRcptMailer); c.postfix && !ok {
		msg.nonSMTP = true // Postfix's cleanup(8) has no {rcpt_mailer}
	}
	// An address without a domain is a local one to the MTA, which qualifies it (Postfix
	// appends $myorigin) and says so in {rcpt_addr}.
	if !strings.Contains(rcpt, "@") {
		if a := m.Get(gomilter.MacroRcptAddr); strings.Contains(a, "@") {
			rcpt = a
		}
	}
	d := msg.g.CheckFrom(guard.WithBudget(context.Background(), msg.budget), msg.sender, rcpt)
	if v := d.Enforced(); !msg.nonSMTP && (v == guard.Reject || v == guard.Invalid) {
		ev.Recipients = []string{rcpt}
		ev.Verdict, ev.Monitor, ev.Decisions = d.Verdict, d.Monitor, []guard.Decision{d}
		return c.refuse(ev, replyFor(v, d.Reason), start), nil
	}
	msg.rcpts = append(msg.rcpts, rcpt)
	msg.decisions = append(msg.decisions, d)
	return gomilter.RespContinue, nil
}

// Header notes our warning headers, which the message must not bring along, and keeps
// the field when the message is to be held.
func (c *session) Header(name, value string, _ gomilter.Modifier) (_ *gomilter.Response, err error) {
	defer c.closeOnPanic(&err)
	if c.msg != nil {
		if c.msg.collect(c.s) {
			c.msg.content.header(name, value, c.proto&gomilter.OptHeaderLeadingSpace != 0)
		}
		for _, h := range [...]string{VerdictHeader, ReasonHeader} {
			if strings.EqualFold(name, h) {
				if c.msg.forged == nil {
					c.msg.forged = map[string]int{}
				}
				c.msg.forged[h]++
			}
		}
	}
	return gomilter.RespContinue, nil
}

// EndOfMessage decides about the whole message.
func (c *session) EndOfMessage(m gomilter.Modifier) (resp *gomilter.Response, err error) {
	start := time.Now()
	msg := c.msg
	c.msg = nil
	ev := Event{Stage: StageEOM, QueueID: m.Get(gomilter.MacroQueueId)}
	defer c.catch(&ev, &resp, start)
	if msg == nil {
		return c.tempFail(ev, errNoMessage, start), nil
	}
	defer msg.content.close()
	// The recipients were decided at RCPT by the same guard: combine, do not check again.
	md := guard.Combine(msg.decisions)
	if c.s.Content != nil {
		md = c.classify(msg, md)
	}
	ev.Sender, ev.Recipients, ev.NonSMTP = msg.sender, msg.rcpts, msg.nonSMTP
	ev.AuthUser, ev.ClientAddr = msg.authUser, c.clientAddr
	ev.Verdict, ev.Monitor, ev.Decisions = md.Verdict, md.Monitor, md.Recipients
	ev.Content, ev.ContentSkipped = md.Content, md.ContentSkipped
	v := md.Enforced()
	if v == guard.Hold && c.s.Holder != nil {
		if resp, held := c.hold(&ev, msg, md, m.Get(gomilter.MacroMTAFQDN), start); held {
			return resp, nil
		}
		v = guard.Allow // the sender already confirmed these recipients
	}
	if err := unforge(m, msg.forged); err != nil {
		return c.tempFail(ev, err, start), nil
	}
	switch {
	case v == guard.Allow:
		ev.Action = ActionAccept
	case v == guard.Warn:
		if err := warn(m, md.Reason()); err != nil {
			return c.tempFail(ev, err, start), nil
		}
		ev.Action = ActionWarn
	case v == guard.Hold && msg.nonSMTP:
		if err := m.Quarantine(smtptext.ReplyText(md.Reason(), false, maxText)); err != nil {
			return c.tempFail(ev, fmt.Errorf("quarantine: %w", err), start), nil
		}
		ev.Action = ActionQuarantine
	default:
		return c.refuse(ev, replyFor(v, md.Reason()), start), nil
	}
	ev.Duration = time.Since(start)
	c.s.record(ev)
	return gomilter.RespAccept, nil
}

// Abort ends the message under way without a decision.
func (c *session) Abort(gomilter.Modifier) error {
	c.dropMessage()
	return nil
}

// Cleanup lets the message under way go when the connection ends.
func (c *session) Cleanup(gomilter.Modifier) {
	c.dropMessage()
}

// dropMessage forgets the message under way, removing any content spooled for it.
func (c *session) dropMessage() {
	if c.msg != nil {
		c.msg.content.close()
		c.msg = nil
	}
}

// unforge removes the warning headers that came with the message, the last first, so
// that the indexes of the others stay valid.
func unforge(m gomilter.Modifier, forged map[string]int) error {
	for name, n := range forged {
		for i := n; i >= 1; i-- {
			if err := m.ChangeHeader(i, name, ""); err != nil {
				return fmt.Errorf("remove header %s: %w", name, err)
			}
		}
	}
	return nil
}

// warn adds the warning headers.
func warn(m gomilter.Modifier, reason string) error {
	if err := m.AddHeader(VerdictHeader, "warn"); err != nil {
		return fmt.Errorf("add header %s: %w", VerdictHeader, err)
	}
	if err := m.AddHeader(ReasonHeader, headerValue(ReasonHeader, reason)); err != nil {
		return fmt.Errorf("add header %s: %w", ReasonHeader, err)
	}
	return nil
}

// refuse records ev and returns the reply r.
func (c *session) refuse(ev Event, r guard.Reply, start time.Time) *gomilter.Response {
	resp, err := response(r)
	if err != nil {
		return c.tempFail(ev, fmt.Errorf("reply %d: %w", r.Code, err), start)
	}
	ev.Action, ev.Reply, ev.Duration = ActionReject, r, time.Since(start)
	c.s.record(ev)
	return resp
}

// tempFail records ev with err and returns the temporary error.
func (c *session) tempFail(ev Event, err error, start time.Time) *gomilter.Response {
	ev.Action, ev.Reply, ev.Err, ev.Duration = ActionTempFail, guard.TempFail, err, time.Since(start)
	c.s.record(ev)
	return tempFail
}

// errPanicked closes a connection whose callback panicked outside a decision.
var errPanicked = errors.New("panic in a milter callback")

// closeOnPanic turns a panic in a callback that decides nothing into an error, which
// closes the connection: the MTA applies milter_default_action (tempfail) to the message.
func (c *session) closeOnPanic(err *error) {
	if p := recover(); p != nil {
		c.msg = nil
		panics.Report(c.s.log, "milter", p, c.s.Panicked)
		*err = errPanicked
	}
}

// catch turns a panic in a callback (the guard, Observe) into a temporary error, so
// that no bug lets mail through unchecked, and forgets the message.
func (c *session) catch(ev *Event, resp **gomilter.Response, start time.Time) {
	p := recover()
	if p == nil {
		return
	}
	c.dropMessage()
	*resp = tempFail
	ev.Action, ev.Reply, ev.Err, ev.Duration = ActionTempFail, guard.TempFail, fmt.Errorf("panic: %v", p), time.Since(start)
	panics.Report(c.s.log, "milter", p, c.s.Panicked)
	c.s.log.Error("milter decision", "stage", string(ev.Stage), "queue_id", ev.QueueID,
		"sender", ev.Sender, "action", string(ActionTempFail), "error", ev.Err.Error())
	defer func() { _ = recover() }() // a panicking Observe must not take the server down
	if c.s.Observe != nil {
		c.s.Observe(*ev)
	}
}
