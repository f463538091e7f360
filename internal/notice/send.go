package notice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rcptguard/rcptguard/internal/smtpout"
)

// ErrTemporary is wrapped by Send's errors that may go away by themselves: a 4xx reply,
// a network failure, a timeout, a failed TLS handshake, TLS required but not offered, a
// refused AUTH, a connection lost after the end of the data (smtpout.Classify: anything
// but Permanent; a notice sent twice does less harm than one never sent). Retry those
// later; any other error (a 5xx reply, an invalid address) is permanent.
var ErrTemporary = errors.New("notice: temporary failure")

// DefaultTimeout bounds a whole Send when Sender.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Sender sends notices through the smarthost.
type Sender struct {
	// Smarthost is where notices go, with its TLS mode and AUTH; its Hostname is the
	// name given in EHLO ("localhost" if empty).
	Smarthost smtpout.Destination
	Timeout   time.Duration // for the whole transaction; DefaultTimeout if zero
}

// SendError is an error of Send. Its cause is an *smtpout.Error (the step, the class,
// the reply code).
type SendError struct {
	Err error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("notice: send (%s): %v", smtpout.Classify(e.Err), e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTemporary) true for failures that are not permanent.
func (e *SendError) Is(target error) bool {
	return target == ErrTemporary && smtpout.Classify(e.Err) != smtpout.Permanent
}

// Send delivers msg from the envelope sender from (empty for the null sender, which
// notices should use so that they never bounce back into a loop) to the single
// recipient to, through smtpout.Send. The context and Timeout bound the whole
// transaction.
func (s *Sender) Send(ctx context.Context, from, to string, msg []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := s.Smarthost
	if d.Timeout <= 0 || d.Timeout > timeout {
		d.Timeout = timeout
	}
	if _, err := smtpout.Send(ctx, d, smtpout.Message{From: from, To: []string{to}, Data: msg}); err != nil {
		return &SendError{Err: err}
	}
	return nil
}
