package relay

import (
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/spool"
)

var (
	errBareLF      = errors.New("relay: client waits after a bare LF")
	errDataTimeout = errors.New("relay: timeout reading message data")

	replyBareLF = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Bare LF line ends are not allowed, end every line with CRLF (RFC 5321 2.3.8); closing connection"}
	replyLongLine = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Line too long (RFC 5321 4.5.3.1.6); closing connection"}
	replyDataTimeout = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Timeout reading message data; closing connection"}
	replyClientGone = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Message data incomplete"}
	replySpoolFailed = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary failure: the message cannot be stored now, please try again later"}
)

// Data relays the message, or holds it (with a Holder) or refuses it (without) when a
// recipient is held. It answers 250 only after the upstream accepted the message or the
// Holder stored it.
func (ss *session) Data(r io.Reader) error {
	if _, bdat := r.(*io.PipeReader); bdat {
		return ss.dataBDAT(r)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.data(ss.newInput(r, ss.conn), ss.txn)
}

// dataBDAT reads a message sent with BDAT in full before it locks the session: go-smtp
// runs Data for BDAT in a goroutine of its own, fed chunk by chunk, while the
// connection's goroutine goes on taking commands, some of which (AUTH, STARTTLS) reach
// the session. go-smtp has checked the size against MaxMessageBytes. The message is kept
// in memory up to the spool's threshold and in a spool file beyond it; the file is
// removed when Data returns, whatever the outcome (go-smtp ends the read with an error
// when the client resets or goes).
func (ss *session) dataBDAT(r io.Reader) error {
	ss.mu.Lock()
	t := ss.txn
	ss.mu.Unlock()
	buf := ss.srv.Spool.New()
	defer buf.Close()
	sw := &sideWriter{w: buf}
	// Unforged as it comes (copyMessage), so that the copy classify reads is this one.
	err := copyMessage(sw, r)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if t == nil || ss.txn != t { // reset meanwhile
		return replyNoMail
	}
	if sw.err != nil {
		return ss.spoolFailed(sw.err)
	}
	if err != nil {
		ss.endTxn(OutcomeAbandoned, nil)
		return replyClientGone
	}
	rd, err := buf.Reader()
	if err != nil {
		return ss.spoolFailed(err)
	}
	in := ss.newInput(rd, nil)
	in.spooled = buf
	return ss.data(in, t)
}

// spoolFailed ends the transaction after the message could not be stored while it was
// received (a full disk): the client keeps the mail.
func (ss *session) spoolFailed(err error) error {
	ss.srv.logger().Warn("relay: cannot spool a message; answered 451", "err", err)
	ss.endTxn(OutcomeTempFail, replySpoolFailed)
	return replySpoolFailed
}

func (ss *session) data(in *input, t *txn) error {
	if t == nil {
		io.Copy(io.Discard, in)
		return replyNoMail
	}
	var reply *smtp.SMTPError
	var outcome Outcome
	if ss.srv.Content != nil && ss.srv.ContentRules.Matter(ss.srv.Guard.Load(), t.accepted()) {
		read, release, err := ss.classify(in, t)
		defer release()
		if err != nil {
			outcome = OutcomeTempFail
			if err.Code/100 == 5 {
				outcome = OutcomeFailed
			}
			ss.endTxn(outcome, err)
			return err
		}
		in = read
	}
	switch {
	case ss.srv.Content != nil && t.rejected:
		reply, outcome = ss.refuseRejected(t), OutcomeFailed
	case t.held && ss.srv.Holder != nil:
		reply, outcome = ss.hold(in, t)
	case t.held:
		reply, outcome = ss.refuseHeld(in, t), OutcomeHoldRefused
	default:
		reply = ss.forward(in, t)
		outcome = OutcomeRelayed
	}
	t.bytes = in.n
	switch {
	case reply.Code/100 == 4:
		outcome = OutcomeTempFail
	case reply.Code/100 == 5 && outcome != OutcomeHoldRefused:
		outcome = OutcomeFailed
	}
	ss.endTxn(outcome, reply)
	return reply
}

// refuseHeld reads the message and refuses it: it never reaches the upstream.
func (ss *session) refuseHeld(in *input, t *txn) *smtp.SMTPError {
	if _, err := io.Copy(io.Discard, in); err != nil {
		return ss.clientFailure(err)
	}
	if ss.up != nil {
		ss.up.dirty = true // MAIL and RCPT were sent: RSET before the next MAIL
	}
	var lines []string
	for _, r := range t.rcpts {
		if r.d.Enforced() == guard.Hold {
			lines = append(lines, "<"+r.d.Input+">: "+replyText(r.d.Reason, t.utf8))
		}
	}
	rep := guard.ReplyFor(guard.Hold, strings.Join(lines, "\n"))
	return smtpReply(rep)
}

// forward streams the message to the upstream behind this hop's headers.
func (ss *session) forward(in *input, t *txn) *smtp.SMTPError {
	if ss.up == nil {
		return ss.drainThen(in, replyUpstreamDown)
	}
	w, err := ss.up.c.Data()
	if err != nil {
		return ss.drainThen(in, ss.upstreamFailure(err))
	}
	sw := &sideWriter{w: w}
	io.WriteString(sw, ss.traceHeaders(t, time.Now()))
	rerr := copyMessage(sw, in)
	switch {
	case sw.err != nil:
		ss.dropUpstream()
		return ss.drainThen(in, upstreamError(sw.err))
	case rerr != nil:
		ss.dropUpstream() // no final dot: the upstream discards what it got
		return ss.clientFailure(rerr)
	}
	return ss.finishUpstream(w, t)
}

// finishUpstream ends the message to the upstream with the final dot and answers the
// client with the upstream's answer.
func (ss *session) finishUpstream(w *smtpout.Data, t *txn) *smtp.SMTPError {
	resp, err := w.Close()
	if err != nil {
		return ss.upstreamFailure(err)
	}
	ss.up.dirty = false
	// Not an error: go-smtp sends the code and text of an SMTPError as they are, so the
	// client sees the upstream's queue id.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0},
		Message: "Ok, relayed as " + t.id + "; upstream: " + replyText(resp, false)}
}

// drainThen reads the rest of the message and answers reply, unless reading fails.
func (ss *session) drainThen(in *input, reply *smtp.SMTPError) *smtp.SMTPError {
	if _, err := io.Copy(io.Discard, in); err != nil {
		return ss.clientFailure(err)
	}
	return reply
}

// clientFailure answers a failure to read the message from the client.
func (ss *session) clientFailure(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &se): // 552 message too big: go-smtp reads the rest
		ss.conn.SetReadDeadline(time.Now().Add(ss.srv.readTimeout()))
		return se
	case errors.Is(err, errBareLF):
		ss.hangup(replyBareLF)
		return replyBareLF
	case errors.Is(err, smtp.ErrTooLongLine):
		ss.hangup(replyLongLine)
		return replyLongLine
	case errors.Is(err, errDataTimeout):
		ss.hangup(replyDataTimeout)
		return replyDataTimeout
	}
	return replyClientGone
}

// sideWriter remembers a write error, to tell it from a read error.
type sideWriter struct {
	w   io.Writer
	err error
}

func (w *sideWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(b)
	w.err = err
	return n, err
}

// input reads the message from go-smtp. For DATA it manages the read deadline itself:
// go-smtp sets one deadline at the DATA command for the whole message; input gives each
// read ReadTimeout instead, and looks every BareLFTimeout whether the client has stopped
// right after a bare LF form of the end marker, waiting for an answer that go-smtp would
// never give. Without a conn (BDAT) it only reads.
type input struct {
	r     io.Reader
	conn  net.Conn // nil for BDAT
	idle  time.Duration
	probe time.Duration
	n     int64
	tail  [5]byte // the last bytes read, right-aligned
	err   error   // to return at the next read
	// spooled, when set, holds the whole message already (a BDAT message, or one
	// classify read), its forged X-Rcptguard- fields dropped: classify and hold read it
	// from there rather than spooling it again.
	spooled *spool.Buffer
}

// newInput reads r; with conn it manages conn's read deadline.
func (ss *session) newInput(r io.Reader, conn net.Conn) *input {
	return &input{r: r, conn: conn, idle: ss.srv.readTimeout(), probe: min(ss.srv.bareLFTimeout(), ss.srv.readTimeout())}
}

func (in *input) Read(p []byte) (int, error) {
	if in.err != nil {
		return 0, in.err
	}
	if in.conn == nil {
		n, err := in.r.Read(p)
		in.note(p[:n])
		return n, err
	}
	start := time.Now()
	for {
		wait := min(in.probe, in.idle-time.Since(start))
		if wait <= 0 {
			return 0, errDataTimeout
		}
		in.conn.SetReadDeadline(time.Now().Add(wait))
		n, err := in.r.Read(p)
		in.note(p[:n])
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return n, err
		}
		if in.bareLFEnd() {
			if n > 0 {
				in.err = errBareLF
				return n, nil
			}
			return 0, errBareLF
		}
		if n > 0 {
			return n, nil
		}
	}
}

// note counts b and keeps its last bytes.
func (in *input) note(b []byte) {
	in.n += int64(len(b))
	if len(b) >= len(in.tail) {
		copy(in.tail[:], b[len(b)-len(in.tail):])
		return
	}
	copy(in.tail[:], in.tail[len(b):])
	copy(in.tail[len(in.tail)-len(b):], b)
}

// bareLFEnd reports whether the data read so far ends with a bare LF form of the end
// marker, as go-smtp passes it on: "\n.\n"; "\r\n.\n", whose dot go-smtp drops; "\n.\r\n"
// after a bare LF; or a lone "\n" (".\n" right after DATA).
func (in *input) bareLFEnd() bool {
	t := string(in.tail[len(in.tail)-int(min(in.n, int64(len(in.tail)))):])
	switch {
	case t == "\n", strings.HasSuffix(t, "\n.\n"), strings.HasSuffix(t, "\r\n\n"):
		return true
	case strings.HasSuffix(t, "\n.\r\n"):
		return len(t) < 5 || t[0] != '\r'
	}
	return false
}
