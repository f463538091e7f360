package smtpout

import (
	"context"
	"errors"
	"strings"
	"unicode"

	"github.com/emersion/go-smtp"
)

// Message is what Send delivers.
type Message struct {
	From string   // the envelope sender; "" for the null sender
	To   []string // the envelope recipients
	Data []byte   // the message, header and body, CRLF line ends
	// BeforeEnd, if set, is called when the whole message has been written and before the
	// end of the data is sent: if it fails, the end of the data is never sent (the server
	// discards what it got) and Send fails temporarily with its error. A caller that must
	// deliver at most once records there that the message is going out.
	BeforeEnd func() error
}

// Result is a delivery's outcome.
type Result struct {
	Reply   string    // the server's reply to the message, "250 " and its text
	Refused []Refusal // recipients refused for good: they did not get the message
	OverTLS bool      // the message went over TLS
}

// Refusal is a recipient refused for good.
type Refusal struct {
	To  string
	Err error
}

// Send delivers m to d on a connection of its own: MAIL, RCPT for each recipient, DATA,
// QUIT. A recipient refused for good is left out and named in Result.Refused; a temporary
// refusal of any recipient fails the whole delivery temporarily (it is tried again as a
// whole), and when every recipient is refused the delivery fails for good. ctx bounds
// the whole delivery.
func Send(ctx context.Context, d Destination, m Message) (Result, error) {
	if len(m.To) == 0 {
		return Result{}, &Error{Step: "envelope", Class: Permanent, Err: errors.New("no recipient")}
	}
	for i, a := range append([]string{m.From}, m.To...) {
		if strings.ContainsFunc(a, badAddressRune) || (i > 0 && a == "") {
			return Result{}, &Error{Step: "envelope", Class: Permanent, Err: errors.New("invalid envelope address")}
		}
	}
	c, err := Dial(ctx, d)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	// ctx ending closes the connection, which ends any wait.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	opts := &smtp.MailOptions{Size: int64(len(m.Data))}
	if c.Extension("8BITMIME") && !isASCII(string(m.Data)) {
		opts.Body = smtp.Body8BitMIME
	}
	if c.Extension("SMTPUTF8") && !isASCII(m.From+strings.Join(m.To, "")) {
		opts.UTF8 = true
	}
	if err := c.Mail(m.From, opts); err != nil {
		return Result{}, err
	}
	res := Result{OverTLS: c.OverTLS()}
	var refused []string
	for _, to := range m.To {
		err := c.Rcpt(to, nil)
		switch Classify(err) {
		case OK:
			continue
		case Permanent:
			res.Refused = append(res.Refused, Refusal{To: to, Err: err})
			refused = append(refused, err.Error())
		default:
			return Result{}, err // all or nothing: the whole message is tried again later
		}
	}
	if len(res.Refused) == len(m.To) {
		return Result{}, &Error{Step: "rcpt", Class: Permanent, Code: replyCode(res.Refused[0].Err),
			Err: errors.New("every recipient refused: " + strings.Join(refused, "; "))}
	}
	w, err := c.Data()
	if err != nil {
		return Result{}, err
	}
	if _, err := w.Write(m.Data); err != nil {
		return Result{}, err // no end of data: closing the connection discards the message
	}
	if m.BeforeEnd != nil {
		if err := m.BeforeEnd(); err != nil {
			return Result{}, &Error{Step: "before the end of data", Class: Temporary, Err: err}
		}
	}
	text, err := w.Close()
	if err != nil {
		return Result{}, err
	}
	res.Reply = "250 " + text
	c.Quit() // the message is accepted; a failed QUIT changes nothing
	return res, nil
}

func badAddressRune(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
