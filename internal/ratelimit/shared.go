package ratelimit

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Attempts counts attempts where every node sees them: the database the nodes share
// (session.Postgres). Begin and Forgive must be atomic across nodes.
type Attempts interface {
	// Begin counts an attempt at now under each key, unless a key already has max
	// attempts in the window ending at now: then it counts nothing and returns how long
	// until the next attempt may be made, and ok false.
	Begin(ctx context.Context, keys []string, max int, window time.Duration, now time.Time) (retryAfter time.Duration, ok bool, err error)
	// Forgive removes the attempt counted at at under each key.
	Forgive(ctx context.Context, keys []string, at time.Time) error
}

// ErrUnavailable is wrapped by the error of an attempt that could not be counted because
// the shared store failed: the caller refuses the attempt with a temporary error (never
// lets it through uncounted).
var ErrUnavailable = errors.New("ratelimit: the shared count of attempts cannot be reached")

// Share makes the limiter count in a, under scope ("admin", "relay-auth"), instead of in
// its own memory, so that a guesser cannot spread attempts over the nodes. Call it before
// the limiter is used.
func (l *Limiter) Share(scope string, a Attempts) {
	l.scope, l.shared = scope, a
}

// keys are the shared keys of a client and a user: quoted, so that any user name a client
// sends (NUL bytes, invalid UTF-8) is a key a database takes.
func (l *Limiter) keys(client, user string) []string {
	return []string{l.scope + " client " + strconv.QuoteToASCII(client), l.scope + " user " + strconv.QuoteToASCII(user)}
}

// BeginContext is Begin, in the shared store when there is one: an error wrapping
// ErrUnavailable means the attempt was not counted and must be refused for now.
func (l *Limiter) BeginContext(ctx context.Context, client, user string, now time.Time) (retryAfter time.Duration, ok bool, err error) {
	if l.shared == nil {
		retryAfter, ok = l.Begin(client, user, now)
		return retryAfter, ok, nil
	}
	retryAfter, ok, err = l.shared.Begin(ctx, l.keys(client, user), l.max, l.window, now)
	if err != nil {
		return 0, false, errors.Join(ErrUnavailable, err)
	}
	return retryAfter, ok, nil
}

// SucceededContext is Succeeded, in the shared store when there is one.
func (l *Limiter) SucceededContext(ctx context.Context, client, user string, at time.Time) error {
	if l.shared == nil {
		l.Succeeded(client, user, at)
		return nil
	}
	if err := l.shared.Forgive(ctx, l.keys(client, user), at); err != nil {
		return errors.Join(ErrUnavailable, err)
	}
	return nil
}
