package held

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// ReleasedHeader is added to every re-injected message: which held message it was and
// what the choice was, for the mail log and the recipient's administrator.
const ReleasedHeader = "X-Rcptguard-Released"

// reinjectTimeout bounds one re-injection.
const reinjectTimeout = 2 * time.Minute

// deliverDue re-injects the released messages that are due, one after the other, until
// none is due or ctx ends; it returns how many it attempted.
func (s *Service) deliverDue(ctx context.Context) int {
	n := 0
	for ctx.Err() == nil {
		m, ok, err := s.Store.NextDelivery(ctx, s.now())
		if err != nil {
			s.log().Error("claim a release for re-injection", "err", err)
			return n
		}
		if !ok {
			return n
		}
		n++
		s.deliver(ctx, m)
	}
	return n
}

// deliver re-injects one claimed message and records the outcome. Whatever happens, the
// claim ends in Delivered or DeliveryFailed, unless the process dies first: then
// RecoverDeliveries marks the outcome unknown at the next start.
//
// An attempt under way is not cut short when ctx ends (Stop): it finishes, within
// reinjectTimeout, so that a shutdown does not leave its outcome unknown.
func (s *Service) deliver(ctx context.Context, m quarantine.Message) {
	ctx = context.WithoutCancel(ctx)
	raw, err := s.Store.Raw(ctx, m.ID)
	var reply string
	if err == nil {
		reply, err = s.reinject(ctx, m, Rewrite(raw, m), func() error { return s.Store.Committing(ctx, m.ID) })
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err == nil {
		if rerr := s.Store.Delivered(rctx, m.ID, reply); rerr != nil {
			s.log().Error("record a re-injection", "id", m.ID, "err", rerr)
		}
		s.count("reinjected")
		s.log().Info("released message re-injected", "id", m.ID, "state", m.State.String(),
			"recipients", m.ReleaseTo, "reply", reply)
		if s.Learn != nil {
			s.Learn(m.Sender, m.ReleaseTo)
		}
		return
	}
	var re *reinjectError
	if errors.As(err, &re) && re.uncertain {
		s.count("reinject_unknown")
		if rerr := s.Store.DeliveryUnknown(rctx, m.ID, err.Error()); rerr != nil {
			s.log().Error("record an uncertain re-injection", "id", m.ID, "err", rerr)
		}
		s.log().Error("re-injection cut off after the end of the data: it may have gone out; "+
			"not retried by itself (check the mail log, then retry from the admin page)", "id", m.ID, "err", err)
		return
	}
	retryAt := time.Time{}
	if temporary(err) && m.Attempts < MaxAttempts {
		retryAt = s.now().Add(backoff(m.Attempts))
	}
	if retryAt.IsZero() {
		s.count("reinject_failed")
	} else {
		s.count("reinject_retry")
	}
	if rerr := s.Store.DeliveryFailed(rctx, m.ID, err.Error(), retryAt); rerr != nil {
		s.log().Error("record a failed re-injection", "id", m.ID, "err", rerr)
	}
	s.log().Warn("re-injection failed", "id", m.ID, "attempt", m.Attempts, "err", err,
		"retry_at", retryAt)
}

// backoff is the wait before attempt n+1: 30 s, 1 min, 2 min, ... at most 30 min.
func backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

// reinjectError is a failed re-injection: the step, and whether to try again.
type reinjectError struct {
	step      string
	temporary bool
	// uncertain: cut off after the end of the data was sent, without a reply: the
	// message may have been delivered.
	uncertain bool
	err       error
}

func (e *reinjectError) Error() string {
	return fmt.Sprintf("re-injection to %s failed: %v", e.step, e.err)
}

func (e *reinjectError) Unwrap() error { return e.err }

func temporary(err error) bool {
	var re *reinjectError
	return !errors.As(err, &re) || re.temporary
}

func failed(step string, err error) error {
	e := &reinjectError{step: step, err: err, temporary: true}
	var se *smtp.SMTPError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		e.temporary = se.Code < 500
	case errors.As(err, &te):
		e.temporary = te.Code < 500
	}
	return e
}

// reinject sends msg to the re-injection service: MAIL FROM the original sender, RCPT
// TO each release recipient. Recipients refused for good are left out and named in the
// reply; if all are refused, the message failed for good. commit is called when the whole
// message is transmitted, before the end of the data: if it fails, the data is never
// ended and the next hop discards what it got. It returns the service's reply.
func (s *Service) reinject(ctx context.Context, m quarantine.Message, msg []byte, commit func() error) (string, error) {
	st := s.settings()
	if st.Reinject == "" {
		return "", &reinjectError{step: "configuration", temporary: true,
			err: errors.New("no re-injection address is configured (quarantine.reinject)")}
	}
	ctx, cancel := context.WithTimeout(ctx, reinjectTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", st.Reinject)
	if err != nil {
		return "", failed("connect to "+st.Reinject, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(deadline)
	c := smtp.NewClient(conn)
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = reinjectTimeout, reinjectTimeout
	host := st.Hostname
	if host == "" {
		host = "localhost"
	}
	if err := c.Hello(host); err != nil {
		return "", failed("ehlo", err)
	}
	opts := &smtp.MailOptions{Size: int64(len(msg))}
	if ok, _ := c.Extension("8BITMIME"); ok && !isASCII(msg) {
		opts.Body = smtp.Body8BitMIME
	}
	if ok, _ := c.Extension("SMTPUTF8"); ok && !isASCII([]byte(m.Sender+strings.Join(m.ReleaseTo, ""))) {
		opts.UTF8 = true
	}
	if err := c.Mail(m.Sender, opts); err != nil {
		return "", failed("mail from", err)
	}
	var refused []string
	accepted := 0
	for _, r := range m.ReleaseTo {
		if err := c.Rcpt(r, nil); err != nil {
			fe := failed("rcpt "+r, err)
			if temporary(fe) {
				return "", fe // all or nothing: try the whole message again later
			}
			refused = append(refused, r+": "+err.Error())
			continue
		}
		accepted++
	}
	if accepted == 0 {
		return "", &reinjectError{step: "rcpt", err: errors.New("every recipient refused: " + strings.Join(refused, "; "))}
	}
	w, err := c.Data()
	if err != nil {
		return "", failed("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return "", failed("data", err) // no end of data: the connection closes
	}
	if err := commit(); err != nil {
		return "", &reinjectError{step: "record", temporary: true, err: err}
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		fe := failed("end of data", err).(*reinjectError)
		var se *smtp.SMTPError
		fe.uncertain = !errors.As(err, &se) // a reply is an answer; anything else is not
		return "", fe
	}
	c.Quit()
	reply := "250 " + resp.StatusText
	if len(refused) > 0 {
		reply += "; refused: " + strings.Join(refused, "; ")
	}
	return reply, nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// Rewrite returns the message to re-inject: raw with the ReleasedHeader on top and, for a
// corrected release, every flagged address in To and Cc replaced by its correction.
func Rewrite(raw []byte, m quarantine.Message) []byte {
	var out bytes.Buffer
	note := "released as addressed"
	var pairs [][2]string
	if m.State == quarantine.ReleasedCorrected {
		_, changes := Corrected(m)
		for _, c := range changes {
			if c.To != "" { // one not sent stays in To or Cc as written: the header says who was addressed
				pairs = append(pairs, [2]string{c.From, c.To})
			}
		}
		note = "released with corrected recipients"
	}
	fmt.Fprintf(&out, "%s: %s; %s\r\n", ReleasedHeader, m.ID, note)
	head, body := splitHeader(raw)
	if len(pairs) == 0 {
		out.Write(raw)
		return out.Bytes()
	}
	inAddr := false
	for _, line := range splitLines(head) {
		if len(line) > 0 && line[0] != ' ' && line[0] != '\t' {
			name, _, _ := strings.Cut(string(line), ":")
			n := strings.ToLower(strings.TrimSpace(name))
			inAddr = n == "to" || n == "cc"
		}
		if inAddr {
			line = []byte(replaceFold(string(line), pairs))
		}
		out.Write(line)
	}
	out.Write(body)
	return out.Bytes()
}

// splitHeader splits a message after the blank line that ends its header section (the
// blank line goes with the body); without one, all of it is header.
func splitHeader(raw []byte) (head, body []byte) {
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return raw, nil
		}
		line := raw[i : i+j+1]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return raw[:i], raw[i:]
		}
		i += j + 1
	}
	return raw, nil
}

// splitLines splits b after each LF, keeping the line ends.
func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:j+1])
		b = b[j+1:]
	}
	return out
}

// replaceFold replaces every occurrence of each pair's first address (ignoring ASCII
// case) by its second, where it stands as a whole address: not inside a longer local part
// or domain.
func replaceFold(s string, pairs [][2]string) string {
	for _, p := range pairs {
		lower, from := strings.ToLower(s), strings.ToLower(p[0])
		var b strings.Builder
		i := 0
		for {
			j := strings.Index(lower[i:], from)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(from)
			after := end < len(s) && addrChar(s[end]) && !(s[end] == '.' && (end+1 == len(s) || !addrChar(s[end+1])))
			if (start > 0 && addrChar(s[start-1])) || after {
				b.WriteString(s[i : start+1])
				i = start + 1
				continue
			}
			b.WriteString(s[i:start])
			b.WriteString(p[1])
			i = end
		}
		b.WriteString(s[i:])
		s = b.String()
	}
	return s
}

// addrChar reports whether c can continue a local part or domain next to an address.
func addrChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80 ||
		strings.IndexByte("!#$%&'*+/=?^_`{|}~.", c) >= 0
}
