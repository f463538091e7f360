package smtpout

import (
	"errors"
	"fmt"
	"net/textproto"

	"github.com/emersion/go-smtp"
)

// Class says what a failed delivery means for the message.
type Class int

const (
	// OK: no error.
	OK Class = iota
	// Temporary: not delivered; it may work later (a 4xx reply, a connection refused or
	// lost, a timeout before the end of the data, TLS required but not available, AUTH
	// refused).
	Temporary
	// Permanent: not delivered, and trying again will not help (a 5xx reply).
	Permanent
	// Unknown: the connection was lost after the end of the data was sent and before the
	// reply: the message may have been delivered. Trying again may deliver it twice.
	Unknown
)

func (c Class) String() string {
	switch c {
	case OK:
		return "ok"
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case Unknown:
		return "unknown"
	}
	return "class(" + fmt.Sprint(int(c)) + ")"
}

// The failures that have no SMTP reply of their own.
var (
	// ErrTLSUnavailable: TLS is required and the server does not offer STARTTLS.
	ErrTLSUnavailable = errors.New("TLS is required and the server does not offer STARTTLS; nothing was sent")
	// ErrAuthWithoutTLS: the destination has a password and the connection is not
	// encrypted (see AuthAllowed); the password was not sent.
	ErrAuthWithoutTLS = errors.New("AUTH refused: the connection is not encrypted and the server is not on loopback with TLS mode none; the password was not sent")
	// ErrNoAuthMechanism: the server offers neither AUTH PLAIN nor AUTH LOGIN.
	ErrNoAuthMechanism = errors.New("the server offers neither AUTH PLAIN nor AUTH LOGIN")
	// ErrLostAfterData: the connection was lost after the end of the data.
	ErrLostAfterData = errors.New("connection lost after the end of the data, before the reply: the message may have been delivered")
)

// Error is a failed step of a delivery.
type Error struct {
	Step  string // "connect", "greeting", "ehlo", "starttls", "auth", "mail", "rcpt <addr>", "data", "end of data", ...
	Class Class
	Code  int // the SMTP reply code, 0 if there was no reply
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %v", e.Step, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Classify says what err means for the message: OK for nil; the Class of an *Error in
// the chain; for any other error, Permanent for a 5xx reply and Temporary for anything
// else.
func Classify(err error) Class {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	if code := replyCode(err); code >= 500 {
		return Permanent
	}
	return Temporary
}

// replyCode is the code of the SMTP reply in err's chain, 0 if none.
func replyCode(err error) int {
	var se *smtp.SMTPError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		return se.Code
	case errors.As(err, &te):
		return te.Code
	}
	return 0
}

// failed wraps err as the failure of step: by its reply code when it has one, else
// temporary.
func failed(step string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	code := replyCode(err)
	c := Temporary
	if code >= 500 {
		c = Permanent
	}
	return &Error{Step: step, Class: c, Code: code, Err: err}
}
