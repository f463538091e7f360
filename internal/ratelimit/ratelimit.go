// Package ratelimit counts failed sign-ins (the relay's SMTP AUTH and the administrators'
// pages) per client address and per user name in a sliding window, so that password
// guessing is limited across connections and across the addresses of one client: in
// bounded memory on one node, or in the database several nodes share (Share), so that a
// guesser cannot spread attempts over them.
package ratelimit

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// MaxKeys bounds each of the limiter's maps. Past it, expired entries are dropped; if that
// is not enough, new client addresses go uncounted and the counts of user names that
// Known does not know are dropped (the known users' counts, which protect real accounts,
// are kept).
const MaxKeys = 10000

// MaxUserName is the length past which a user name is cut for counting.
const MaxUserName = 256

// Limiter counts failures per client key and per user. An attempt is counted as failed
// when it begins (so that concurrent attempts cannot pass the limit together) and
// forgiven when it succeeds. Each key keeps at most Max times, so memory stays bounded.
type Limiter struct {
	max    int
	window time.Duration
	known  func(user string) bool

	mu     sync.Mutex
	byIP   map[string][]time.Time
	byUser map[string][]time.Time

	// scope and shared: see Share.
	scope  string
	shared Attempts
}

// New returns a limiter that allows max failures per client and per user in any window;
// known reports whether a user name (as UserKey makes it) is a real account.
func New(max int, window time.Duration, known func(user string) bool) *Limiter {
	if known == nil {
		known = func(string) bool { return false }
	}
	return &Limiter{max: max, window: window, known: known,
		byIP: map[string][]time.Time{}, byUser: map[string][]time.Time{}}
}

// Begin starts an attempt at now by the client with key client (ClientKey) for user
// (UserKey). If the client or the user has reached the limit it returns ok false and how
// long until the next attempt may be made; the attempt is not counted then.
func (l *Limiter) Begin(client, user string, now time.Time) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ips, users := l.prune(l.byIP, client, now), l.prune(l.byUser, user, now)
	for _, ts := range [][]time.Time{ips, users} {
		if len(ts) >= l.max {
			retryAfter = max(retryAfter, ts[len(ts)-l.max].Add(l.window).Sub(now))
		}
	}
	if retryAfter > 0 {
		return retryAfter, false
	}
	if _, ok := l.byIP[client]; !ok && len(l.byIP) >= MaxKeys {
		l.sweep(l.byIP, now)
	}
	if _, ok := l.byIP[client]; ok || len(l.byIP) < MaxKeys {
		l.byIP[client] = append(ips, now)
	}
	if _, ok := l.byUser[user]; !ok && len(l.byUser) >= MaxKeys {
		l.sweep(l.byUser, now)
		if len(l.byUser) >= MaxKeys {
			for k := range l.byUser {
				if !l.known(k) {
					delete(l.byUser, k)
				}
			}
		}
	}
	l.byUser[user] = append(users, now)
	return 0, true
}

// Succeeded forgives the attempt begun at t.
func (l *Limiter) Succeeded(client, user string, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	forgive(l.byIP, client, t)
	forgive(l.byUser, user, t)
}

func forgive(m map[string][]time.Time, k string, t time.Time) {
	ts := m[k]
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(t) {
			ts = append(ts[:i:i], ts[i+1:]...)
			break
		}
	}
	if len(ts) == 0 {
		delete(m, k)
	} else {
		m[k] = ts
	}
}

// prune drops k's times that are out of the window and returns the rest.
func (l *Limiter) prune(m map[string][]time.Time, k string, now time.Time) []time.Time {
	ts := m[k]
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-l.window)) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(m, k)
		return nil
	}
	m[k] = ts
	return ts
}

func (l *Limiter) sweep(m map[string][]time.Time, now time.Time) {
	for k := range m {
		l.prune(m, k, now)
	}
}

// ClientKey is the key of a client address: the address itself, or its /64 for IPv6
// (one host usually has a whole /64); "unknown" for an invalid one.
func ClientKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}

// ClientKeyOf is ClientKey of an address in text; text that is no address is its own key.
func ClientKeyOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	return ClientKey(a)
}

// UserKey is the key of a user name: lower case, at most MaxUserName bytes.
func UserKey(user string) string {
	k := strings.ToLower(user)
	if len(k) > MaxUserName {
		k = k[:MaxUserName]
	}
	return k
}
