package relay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// Replies of the relay's own.
var (
	replyShutdown  = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service shutting down, try again later"}
	replyAuthFirst = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	replyDenied    = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
	replyNoMail    = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Send MAIL FROM first"}
)

// session is one client connection, or its part after STARTTLS (go-smtp starts a new
// session then). go-smtp calls its methods from the connection's goroutine, except Data
// for BDAT, which runs in a goroutine of its own while commands go on: mu orders them,
// and Data for BDAT takes it only once the whole message is in.
type session struct {
	srv  *Server
	cc   *clientConn
	conn net.Conn // the connection go-smtp writes to (TLS after STARTTLS)
	tls  bool
	helo string

	mu        sync.Mutex
	authUser  string
	authFails int
	up        *upstream // kept across transactions
	txn       *txn
	messages  int
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	nc := c.Conn()
	cc := clientConnOf(nc)
	if cc == nil {
		return nil, errors.New("relay: connection not accepted by Serve")
	}
	_, isTLS := c.TLSConnectionState()
	return &session{srv: s, cc: cc, conn: nc, tls: isTLS, helo: c.Hostname()}, nil
}

func (ss *session) mayRelay() bool {
	return ss.authUser != "" || ss.srv.allowed(ss.cc.addr)
}

// denied is the answer to a client that may not relay: 530 when it could authenticate
// on this connection (now or after STARTTLS), 554 when it never can.
func (ss *session) denied() error {
	s := ss.srv
	if len(s.Users) > 0 && (s.AllowInsecureAuth || ss.tls || s.TLSConfig != nil) {
		return replyAuthFirst
	}
	return replyDenied
}

// hangup writes reply itself and closes the connection, for when the stream cannot go
// on (or should not: shutdown). go-smtp's own write of the returned error then fails.
func (ss *session) hangup(reply *smtp.SMTPError) error {
	ec := reply.EnhancedCode
	line := fmt.Sprintf("%d %d.%d.%d %s\r\n", reply.Code, ec[0], ec[1], ec[2], reply.Message)
	ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.writeTimeout()))
	ss.conn.Write([]byte(line))
	ss.cc.Close()
	return reply
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.endTxn(OutcomeAbandoned, nil)
	if ss.srv.draining.Load() {
		return ss.hangup(replyShutdown)
	}
	if !ss.mayRelay() {
		return ss.denied()
	}
	if opts == nil {
		opts = &smtp.MailOptions{}
	}
	ss.messages++
	t := &txn{id: ss.cc.id + "." + strconv.Itoa(ss.messages), from: from, budget: guard.NewBudget(), utf8: opts.UTF8}
	if err := ss.upstreamMail(from, opts); err != nil {
		return err
	}
	ss.txn = t
	ss.cc.busy.Store(true)
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	t := ss.txn
	if t == nil {
		return replyNoMail
	}
	if !ss.mayRelay() {
		return ss.denied()
	}
	g := ss.srv.Guard.Load()
	if g == nil {
		t.rcpts = append(t.rcpts, &rcptRecord{d: guard.Decision{Input: to}, code: guard.TempFail.Code})
		return smtpReply(guard.TempFail)
	}
	r := &rcptRecord{d: g.CheckFrom(guard.WithBudget(context.Background(), t.budget), t.from, to), code: 250}
	t.rcpts = append(t.rcpts, r)
	s := ss.srv
	v := r.d.Enforced()
	hold := v == guard.Hold
	if v == guard.Reject || v == guard.Invalid {
		rep := guard.ReplyFor(v, replyText(r.d.Reason, t.utf8))
		r.code = rep.Code
		return smtpReply(rep)
	}
	if s.Holder == nil {
		if hold {
			t.held = true
			return nil
		}
		if t.held {
			return nil // the message is refused at the end of DATA: no need to ask upstream
		}
	}
	// With a Holder every recipient goes to the upstream, held ones too: the upstream's
	// refusal is the client's answer at RCPT, and a message held with held.
	// ErrConfirmed can be forwarded on the transaction already open.
	if err := ss.upstreamRcpt(to); err != nil {
		r.code, r.upstream = err.Code, true
		return err
	}
	t.forwarded++
	if hold {
		t.held = true
	}
	return nil
}

func (ss *session) Reset() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.endTxn(OutcomeAbandoned, nil)
}

func (ss *session) Logout() error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.endTxn(OutcomeAbandoned, nil)
	if ss.up != nil {
		ss.up.quit()
		ss.up = nil
	}
	return nil
}

// smtpReply turns a guard reply into go-smtp's error.
func smtpReply(r guard.Reply) *smtp.SMTPError {
	e := &smtp.SMTPError{Code: r.Code, Message: r.Text}
	if n, err := fmt.Sscanf(r.Enhanced, "%d.%d.%d", &e.EnhancedCode[0], &e.EnhancedCode[1], &e.EnhancedCode[2]); n != 3 || err != nil {
		e.EnhancedCode = smtp.EnhancedCodeNotSet
	}
	return e
}

func newID() string {
	return strconv.FormatUint(rand.Uint64()>>16, 36)
}

// clientLiteral is the client's address as an RFC 5321 address literal, or "".
func clientLiteral(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return ""
	case a.Is4():
		return "[" + a.String() + "]"
	}
	return "[IPv6:" + a.String() + "]"
}
