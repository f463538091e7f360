package relay

import (
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"
)

// maxAuthFailures is how many failed AUTH attempts a connection gets before it is closed.
const maxAuthFailures = 3

var replyAuthInTxn = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1},
	Message: "AUTH is not allowed during a mail transaction"} // RFC 4954 4

var replyAuthTooMany = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
	Message: "Too many failed authentication attempts; closing connection"}

// AuthMechanisms offers PLAIN when there are Users. go-smtp offers it only over TLS unless
// AllowInsecureAuth.
func (ss *session) AuthMechanisms() []string {
	if len(ss.srv.Users) == 0 {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks AUTH PLAIN against Users.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || len(ss.srv.Users) == 0 {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	ss.mu.Lock()
	inTxn := ss.txn != nil
	ss.mu.Unlock()
	if inTxn {
		return nil, replyAuthInTxn
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		ok := ss.srv.checkPassword(username, password)
		if ok && (identity == "" || identity == username) {
			ss.authUser = username
			return nil
		}
		ss.authFails++
		if ss.authFails >= maxAuthFailures {
			return ss.hangup(replyAuthTooMany)
		}
		return smtp.ErrAuthFailed
	}), nil
}

// checkPassword compares with the user's bcrypt hash, or with a dummy of the same cost for
// an unknown user, so that the time taken does not tell which users exist.
func (s *Server) checkPassword(user, password string) bool {
	hash, known := s.Users[user]
	h := []byte(hash)
	if !known {
		h = s.dummyHash
	}
	err := bcrypt.CompareHashAndPassword(h, []byte(password))
	return known && err == nil
}
