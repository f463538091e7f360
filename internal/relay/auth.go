package relay

import (
	"context"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/ratelimit"
)

// maxAuthFailures is how many failed AUTH attempts a connection gets before it is closed.
const maxAuthFailures = 3

// Reasons given to Server.AuthFailed.
const (
	AuthBadCredentials = "bad_credentials"
	AuthLimited        = "limited"
)

var replyAuthInTxn = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1},
	Message: "AUTH is not allowed during a mail transaction"} // RFC 4954 4

var replyAuthTooMany = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
	Message: "Too many failed authentication attempts; closing connection"}

// replyAuthUnavailable: the shared count of attempts cannot be reached; the client may try
// later (RFC 4954 section 6: 454 is temporary).
var replyAuthUnavailable = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
	Message: "Temporary authentication failure: please try again later"}

// authCountTimeout bounds counting one AUTH attempt in the shared store.
const authCountTimeout = 5 * time.Second

// replyAuthLimited: the client or the user reached the AUTH limit (RFC 4954 6: 454 is a
// temporary authentication failure).
var replyAuthLimited = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
	Message: "Too many failed authentication attempts, try again later"}

// AuthMechanisms offers PLAIN when there are Users. go-smtp offers it only over TLS unless
// AllowInsecureAuth.
func (ss *session) AuthMechanisms() []string {
	if len(ss.srv.Users) == 0 {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks AUTH PLAIN against Users, within the AUTH limit.
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
		return ss.authenticate(identity, username, password)
	}), nil
}

// authenticate checks one AUTH attempt, with ss.mu held. Each failure is logged (client
// and user, never the password) and counted, per connection (a third one closes it) and
// in the server's limiter across connections.
func (ss *session) authenticate(identity, username, password string) error {
	s := ss.srv
	client, user := ratelimit.ClientKey(ss.cc.addr), ratelimit.UserKey(username)
	now := s.now()
	ctx, cancel := context.WithTimeout(context.Background(), authCountTimeout)
	defer cancel()
	wait, ok, err := s.authLimit.BeginContext(ctx, client, user, now)
	if err != nil {
		// Fail closed: an attempt that cannot be counted is not tried.
		s.logger().Error("relay: AUTH refused: the count of attempts cannot be reached",
			"client", addrString(ss.cc.addr), "user", logUser(username), "err", err)
		s.authFailed(AuthLimited)
		return ss.authFailure(replyAuthUnavailable)
	}
	if !ok {
		s.logger().Warn("relay: AUTH refused: too many failures",
			"client", addrString(ss.cc.addr), "user", logUser(username), "retry_after", wait.Round(time.Second).String())
		s.authFailed(AuthLimited)
		return ss.authFailure(replyAuthLimited)
	}
	if s.checkPassword(username, password) && (identity == "" || identity == username) {
		if err := s.authLimit.SucceededContext(ctx, client, user, now); err != nil {
			s.logger().Warn("relay: a successful AUTH stays counted as an attempt", "err", err)
		}
		ss.authUser = username
		return nil
	}
	s.logger().Warn("relay: AUTH failed",
		"client", addrString(ss.cc.addr), "user", logUser(username))
	s.authFailed(AuthBadCredentials)
	return ss.authFailure(smtp.ErrAuthFailed)
}

// authFailure counts a failure on the connection and returns reply, or closes the
// connection after maxAuthFailures.
func (ss *session) authFailure(reply *smtp.SMTPError) error {
	ss.authFails++
	if ss.authFails >= maxAuthFailures {
		return ss.hangup(replyAuthTooMany)
	}
	return reply
}

func (s *Server) authFailed(reason string) {
	if s.AuthFailed != nil {
		s.AuthFailed(reason)
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// logUser is a user name as logged: printable ASCII, at most ratelimit.MaxUserName bytes.
func logUser(u string) string {
	if len(u) > ratelimit.MaxUserName {
		u = u[:ratelimit.MaxUserName]
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, u)
}

// knownUser reports whether a user key (ratelimit.UserKey) names one of users: their
// counts are the ones kept when the limiter is full.
func (s *Server) knownUser(users map[string]string) func(string) bool {
	keys := make(map[string]bool, len(users))
	for u := range users {
		keys[ratelimit.UserKey(u)] = true
	}
	return func(k string) bool { return keys[k] }
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
