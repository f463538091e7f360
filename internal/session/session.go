// Package session keeps the administrators' sign-in sessions on the server, so that
// signing out, a password change, an idle timeout and an absolute lifetime end a session
// everywhere at once: in SQLite in the data folder, or in PostgreSQL when the quarantine
// is there, so that every node sharing it agrees.
//
// A session is known by a random 256-bit token, which only the browser holds (in a
// cookie); the store keeps the token's SHA-256 hash, never the token, together with the
// user, when the session was created and last used, when it ends at the latest, the
// client's address and user agent, and a fingerprint of the user's password hash at
// sign-in. Manager holds the rules (Check); a Store only keeps the records. Both stores
// (SQLite, Postgres) pass the same behaviour tests.
package session

import (
	"context"
	"errors"
	"time"
)

// Defaults of Manager.Idle, Manager.Max and Manager.TouchEvery.
const (
	DefaultIdle       = 30 * time.Minute
	DefaultMax        = 12 * time.Hour
	DefaultTouchEvery = time.Minute
)

// ErrNotFound is returned by a Store for a session it does not have.
var ErrNotFound = errors.New("session: not found")

// ErrNoSession is returned by Manager.Check for a token that opens no session: unknown,
// malformed, signed out, expired, idle too long, or of a user whose password changed or
// who is gone. Any other error of Check means the session could not be checked.
var ErrNoSession = errors.New("session: not signed in")

// Session is one stored session.
type Session struct {
	// IDHash is the SHA-256 hash of the session's token (HashToken).
	IDHash []byte
	User   string
	// Created is the sign-in; LastUsed the last use recorded (at most TouchEvery
	// behind the real one); Expires the end of its absolute lifetime.
	Created, LastUsed, Expires time.Time
	// Remote is the client's address at sign-in; UserAgent its User-Agent, clipped.
	Remote, UserAgent string
	// PassFingerprint is Fingerprint of the user's password hash at sign-in.
	PassFingerprint []byte
}

// Store keeps sessions. Times are kept to the microsecond. Implementations are safe for
// concurrent use; the PostgreSQL one is shared by several nodes.
type Store interface {
	// Create stores a new session.
	Create(ctx context.Context, s Session) error
	// Get returns the session whose token hashes to idHash, or ErrNotFound.
	Get(ctx context.Context, idHash []byte) (Session, error)
	// Touch records a use at at (a LastUsed later than at is kept), or returns
	// ErrNotFound when the session is gone.
	Touch(ctx context.Context, idHash []byte, at time.Time) error
	// Delete removes the session; a missing one is not an error.
	Delete(ctx context.Context, idHash []byte) error
	// Purge removes the sessions that expire at or before now or were last used at or
	// before idleSince, and returns how many it removed.
	Purge(ctx context.Context, now, idleSince time.Time) (int64, error)
	// Close releases the store.
	Close() error
}

// maxUserAgent bounds a stored User-Agent.
const maxUserAgent = 256
