package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// tokenBytes is the size of a session token: 256 random bits.
const tokenBytes = 32

// Manager starts, checks and ends sessions in a Store. Set its fields before the first
// call; it is safe for concurrent use.
type Manager struct {
	Store Store
	// Idle ends a session unused for that long (DefaultIdle when 0); Max ends any
	// session that old (DefaultMax when 0).
	Idle, Max time.Duration
	// TouchEvery is how stale a session's recorded last use may get before a use
	// writes it again (DefaultTouchEvery when 0): page views do not all write.
	TouchEvery time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Lifetime is how long a new session lasts at most (Max).
func (m *Manager) Lifetime() time.Duration { return orDefault(m.Max, DefaultMax) }

// Start creates a session for user, whose password hash is passHash, and returns its
// token (for the cookie) and the stored session.
func (m *Manager) Start(ctx context.Context, user, passHash, remote, userAgent string) (string, Session, error) {
	raw := make([]byte, tokenBytes)
	rand.Read(raw) // never fails (crypto/rand)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	now := m.now().Truncate(time.Microsecond)
	s := Session{
		IDHash: hashRaw(raw), User: user, Created: now, LastUsed: now, Expires: now.Add(m.Lifetime()),
		Remote: remote, UserAgent: clip(userAgent, maxUserAgent), PassFingerprint: Fingerprint(passHash),
	}
	if err := m.Store.Create(ctx, s); err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	return tok, s, nil
}

// Check returns the session of the token if it is still open: stored, not expired, used
// within Idle, and of a user whose password hash (passHash reports it, ok false for a
// user who is gone) is the one at sign-in. A session found ended is deleted. ErrNoSession
// means not signed in; any other error that the store failed, and the session must be
// refused too. A use more than TouchEvery after the last one recorded is recorded.
func (m *Manager) Check(ctx context.Context, token string, passHash func(user string) (string, bool)) (Session, error) {
	idHash, ok := HashToken(token)
	if !ok {
		return Session{}, ErrNoSession
	}
	s, err := m.Store.Get(ctx, idHash)
	if errors.Is(err, ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("check session: %w", err)
	}
	now := m.now()
	hash, known := passHash(s.User)
	if !now.Before(s.Expires) || now.Sub(s.LastUsed) >= orDefault(m.Idle, DefaultIdle) || !known ||
		subtle.ConstantTimeCompare(Fingerprint(hash), s.PassFingerprint) != 1 {
		// Ended: gone from the store now rather than at the next purge. Refused
		// whether or not the delete works.
		m.Store.Delete(ctx, idHash)
		return Session{}, ErrNoSession
	}
	if now.Sub(s.LastUsed) >= orDefault(m.TouchEvery, DefaultTouchEvery) {
		err := m.Store.Touch(ctx, idHash, now.Truncate(time.Microsecond))
		if errors.Is(err, ErrNotFound) {
			return Session{}, ErrNoSession // signed out meanwhile
		}
		if err != nil {
			return Session{}, fmt.Errorf("record session use: %w", err)
		}
		s.LastUsed = now.Truncate(time.Microsecond)
	}
	return s, nil
}

// End deletes the session of the token (signing out). A token that opens no session is
// not an error.
func (m *Manager) End(ctx context.Context, token string) error {
	idHash, ok := HashToken(token)
	if !ok {
		return nil
	}
	if err := m.Store.Delete(ctx, idHash); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// Purge deletes the sessions that have ended by expiry or idleness.
func (m *Manager) Purge(ctx context.Context) (int64, error) {
	now := m.now()
	n, err := m.Store.Purge(ctx, now, now.Add(-orDefault(m.Idle, DefaultIdle)))
	if err != nil {
		return n, fmt.Errorf("purge sessions: %w", err)
	}
	return n, nil
}

// HashToken returns the ID hash of a token as Start makes them (43 characters of
// unpadded base64url for 32 bytes), or ok false for any other string.
func HashToken(token string) (idHash []byte, ok bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != tokenBytes {
		return nil, false
	}
	return hashRaw(raw), true
}

func hashRaw(raw []byte) []byte {
	h := sha256.Sum256(raw)
	return h[:]
}

// Fingerprint is what a session keeps of the user's password hash: enough to see that
// it changed, nothing to attack the password with that the hash would not give.
func Fingerprint(passHash string) []byte {
	h := sha256.Sum256([]byte("rcptguard session password v1\x00" + passHash))
	return h[:]
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence, as valid UTF-8
// without NUL (what a PostgreSQL text column takes).
func clip(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
