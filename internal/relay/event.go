package relay

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// Outcome is how a transaction ended.
type Outcome string

// The outcomes of a transaction.
const (
	OutcomeRelayed Outcome = "relayed" // the upstream accepted the message
	OutcomeHeld    Outcome = "held"    // stored in the quarantine by the Holder (Event.HeldID), answered 250
	// OutcomeHoldRefused: a recipient is held and there is no Holder: the message was
	// refused at the end of DATA (550 5.7.1).
	OutcomeHoldRefused Outcome = "hold-refused"
	OutcomeRefused     Outcome = "refused"   // every recipient was refused at RCPT
	OutcomeTempFail    Outcome = "tempfail"  // 4xx at the end of DATA: the client keeps the mail
	OutcomeFailed      Outcome = "failed"    // 5xx at the end of DATA
	OutcomeAbandoned   Outcome = "abandoned" // the client ended it before the end of DATA
)

// Event is one transaction that reached a decision: the guard's verdict on each
// recipient and what the relay answered. It holds no message content.
type Event struct {
	Time       time.Time
	ID         string     // transaction id, as in the Received header
	Client     netip.Addr // invalid when not TCP
	AuthUser   string
	Helo       string
	Sender     string
	Recipients []RecipientEvent
	Verdict    guard.Verdict // the most severe recipient verdict
	Monitor    bool
	Outcome    Outcome
	Code       int    // the final reply: end of DATA, or the last RCPT
	Enhanced   string // its enhanced status code
	Bytes      int64  // message bytes read from the client
	HeldID     string // the quarantine's ID of the message, when Outcome is OutcomeHeld
	// Content are the content categories the message carries (names only), when content
	// rules are on; ContentSkipped says it was over the limits.
	Content        []string
	ContentSkipped bool
}

// RecipientEvent is one RCPT TO.
type RecipientEvent struct {
	Address    string
	Verdict    guard.Verdict
	Monitor    bool
	Techniques []string
	Intended   []string
	Code       int  // the reply to RCPT TO
	Upstream   bool // Code is the upstream's
}

// txn is one mail transaction of a session.
type txn struct {
	id        string
	from      string
	budget    *guard.Budget // the message's DNS time (live evidence), shared by its recipients
	utf8      bool          // the client said SMTPUTF8: replies may be UTF-8 (RFC 6531)
	rcpts     []*rcptRecord
	held      bool // a recipient is held: the message is held or refused at the end of DATA
	rejected  bool // content rules reject a recipient: the message is refused at the end of DATA
	content   []string
	skipped   bool
	heldID    string
	forwarded int // recipients the upstream accepted
	bytes     int64
}

type rcptRecord struct {
	d        guard.Decision
	code     int
	upstream bool
}

// endTxn ends the current transaction, logging it when it reached a decision. reply is
// the final answer, nil when the transaction ended otherwise (RSET, QUIT, disconnect).
func (ss *session) endTxn(o Outcome, reply *smtp.SMTPError) {
	t := ss.txn
	if t == nil {
		return
	}
	ss.txn = nil
	ss.cc.busy.Store(false)
	if len(t.rcpts) == 0 {
		return
	}
	ev := Event{
		Time: time.Now(), ID: t.id, Client: ss.cc.addr, AuthUser: ss.authUser, Helo: ss.helo,
		Sender: t.from, Outcome: o, Bytes: t.bytes, HeldID: t.heldID, Content: t.content, ContentSkipped: t.skipped,
	}
	accepted := 0
	for _, r := range t.rcpts {
		re := RecipientEvent{
			Address: r.d.Input, Verdict: r.d.Verdict, Monitor: r.d.Monitor,
			Intended: r.d.Intended(), Code: r.code, Upstream: r.upstream,
		}
		for _, tq := range r.d.Techniques() {
			re.Techniques = append(re.Techniques, tq.String())
		}
		ev.Recipients = append(ev.Recipients, re)
		ev.Verdict = max(ev.Verdict, r.d.Verdict)
		ev.Monitor = ev.Monitor || r.d.Monitor
		if r.code/100 == 2 {
			accepted++
		}
		ev.Code = r.code
	}
	if reply == nil && accepted == 0 {
		ev.Outcome = OutcomeRefused
	}
	if reply != nil {
		ev.Code = reply.Code
		if ec := reply.EnhancedCode; ec[0] > 0 {
			ev.Enhanced = fmtEnhanced(ec)
		}
	}
	ss.srv.emit(ev)
	if ss.srv.Finished != nil {
		ss.srv.Finished(ss.transaction(t, ev.Outcome))
	}
}

// transaction is the check state of t, which ended with o.
func (ss *session) transaction(t *txn, o Outcome) guard.Transaction {
	tx := guard.Transaction{Adapter: "relay", QueueID: t.id, Sender: t.from, AuthUser: ss.authUser, HeldID: t.heldID,
		Outcome: outcomes[o]}
	if ss.cc.addr.IsValid() {
		tx.ClientAddr = ss.cc.addr.String()
	}
	for _, r := range t.rcpts {
		if r.code/100 == 2 {
			tx.Recipients = append(tx.Recipients, r.d)
		}
	}
	return tx
}

// outcomes are what each way a transaction ends means for the message.
var outcomes = map[Outcome]guard.Outcome{
	OutcomeRelayed: guard.Delivered, OutcomeHeld: guard.Held, OutcomeHoldRefused: guard.Refused,
	OutcomeRefused: guard.Refused, OutcomeTempFail: guard.TempFailed, OutcomeFailed: guard.Refused,
	OutcomeAbandoned: guard.Abandoned,
}

func fmtEnhanced(ec smtp.EnhancedCode) string {
	return fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
}

// emit logs ev and hands it to Observe.
func (s *Server) emit(ev Event) {
	rcpts := make([]string, 0, len(ev.Recipients))
	var techniques []string
	for _, r := range ev.Recipients {
		rcpts = append(rcpts, r.Address+"="+r.Verdict.String())
		for _, t := range r.Techniques {
			if !slices.Contains(techniques, t) {
				techniques = append(techniques, t)
			}
		}
	}
	attrs := []slog.Attr{
		slog.String("id", ev.ID),
		slog.String("client", addrString(ev.Client)),
		slog.String("sender", ev.Sender),
		slog.Any("recipients", rcpts),
		slog.String("verdict", ev.Verdict.String()),
		slog.Bool("monitor", ev.Monitor),
		slog.Any("techniques", techniques),
		slog.String("outcome", string(ev.Outcome)),
		slog.Int("code", ev.Code),
		slog.Int64("bytes", ev.Bytes),
	}
	if ev.AuthUser != "" {
		attrs = append(attrs, slog.String("auth_user", ev.AuthUser))
	}
	if ev.HeldID != "" {
		attrs = append(attrs, slog.String("held_id", ev.HeldID))
	}
	if len(ev.Content) > 0 || ev.ContentSkipped {
		attrs = append(attrs, slog.Any("content", ev.Content), slog.Bool("content_skipped", ev.ContentSkipped))
	}
	s.logger().LogAttrs(context.Background(), slog.LevelInfo, "relay decision", attrs...)
	if s.Observe != nil {
		s.Observe(ev)
	}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	return a.String()
}
