package web

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// loginLimiter counts failed sign-ins per client address and per user name in a sliding
// window. An attempt is counted as failed when it starts (so that concurrent attempts
// cannot pass the limit together) and forgiven when it succeeds.
type loginLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	known  func(user string) bool
	byIP   map[string][]time.Time
	byUser map[string][]time.Time
}

// maxLimiterKeys bounds each map. Past it, expired entries are dropped; if that is not
// enough, new client addresses go uncounted and the counts of unknown user names are
// dropped (the known users' counts, which protect real accounts, are kept).
const maxLimiterKeys = 10000

func newLoginLimiter(max int, window time.Duration, known func(string) bool) *loginLimiter {
	return &loginLimiter{max: max, window: window, known: known,
		byIP: map[string][]time.Time{}, byUser: map[string][]time.Time{}}
}

func (l *loginLimiter) prune(m map[string][]time.Time, k string, now time.Time) []time.Time {
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

func (l *loginLimiter) sweep(m map[string][]time.Time, now time.Time) {
	for k := range m {
		l.prune(m, k, now)
	}
}

// begin starts a sign-in attempt. If the address or the name has reached the limit it
// returns ok false and how long until the next attempt may be made.
func (l *loginLimiter) begin(ip, user string, now time.Time) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ips, users := l.prune(l.byIP, ip, now), l.prune(l.byUser, user, now)
	for _, ts := range [][]time.Time{ips, users} {
		if len(ts) >= l.max {
			retryAfter = max(retryAfter, ts[len(ts)-l.max].Add(l.window).Sub(now))
		}
	}
	if retryAfter > 0 {
		return retryAfter, false
	}
	if _, ok := l.byIP[ip]; !ok && len(l.byIP) >= maxLimiterKeys {
		l.sweep(l.byIP, now)
	}
	if _, ok := l.byIP[ip]; ok || len(l.byIP) < maxLimiterKeys {
		l.byIP[ip] = append(ips, now)
	}
	if _, ok := l.byUser[user]; !ok && len(l.byUser) >= maxLimiterKeys {
		l.sweep(l.byUser, now)
		if len(l.byUser) >= maxLimiterKeys {
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

// succeeded forgives the attempt begun at t.
func (l *loginLimiter) succeeded(ip, user string, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range []struct {
		m map[string][]time.Time
		k string
	}{{l.byIP, ip}, {l.byUser, user}} {
		ts := e.m[e.k]
		for i := len(ts) - 1; i >= 0; i-- {
			if ts[i].Equal(t) {
				ts = append(ts[:i:i], ts[i+1:]...)
				break
			}
		}
		if len(ts) == 0 {
			delete(e.m, e.k)
		} else {
			e.m[e.k] = ts
		}
	}
}

// limiterIP is the rate-limit key of a client address: the address itself, or its /64
// for IPv6 (one host usually has a whole /64).
func limiterIP(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.WithZone("").Prefix(64)
		return p.String()
	}
	return addr.String()
}

const maxUserName = 256

func (a *Admin) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.currentSession(r); ok {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "admin_login.html", map[string]any{"Title": "Sign in"})
}

func (a *Admin) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	user, pass := r.PostFormValue("user"), r.PostFormValue("password")
	ip := clientIP(r)
	now := a.now()
	ipKey, userKey := limiterIP(ip), strings.ToLower(user)
	if len(userKey) > maxUserName {
		userKey = userKey[:maxUserName]
	}
	if wait, ok := a.limiter.begin(ipKey, userKey, now); !ok {
		a.Logger.Warn("admin sign-in refused: too many failures", "user", user, "remote", ip)
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		mins, plural := int((wait+time.Minute-1)/time.Minute), "s"
		if mins == 1 {
			plural = ""
		}
		a.render(w, r, http.StatusTooManyRequests, "admin_login.html", map[string]any{
			"Title":   "Too many failed attempts",
			"Blocked": true,
			"Error": "Too many failed sign-in attempts from here or for this user name. " +
				"Try again in " + strconv.Itoa(mins) + " minute" + plural + ".",
		})
		return
	}
	hash, known := a.Users[user]
	if !known || len(user) > maxUserName {
		known, hash = false, string(a.dummyHash)
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass))
	if err != nil || !known {
		a.Logger.Warn("admin sign-in failed", "user", user, "remote", ip)
		a.render(w, r, http.StatusUnauthorized, "admin_login.html", map[string]any{
			"Title": "Sign in", "Error": "Wrong user name or password.", "Name": user,
		})
		return
	}
	a.limiter.succeeded(ipKey, userKey, now)
	tok, s, err := a.sessions.Start(r.Context(), user, hash, ip, r.UserAgent())
	if err != nil {
		a.storeFailed(r, "sign in", err)
		a.render(w, r, http.StatusServiceUnavailable, "admin_login.html", map[string]any{
			"Title": "Sign in", "Error": "The session could not be stored. Try again in a moment.", "Name": user,
		})
		return
	}
	if n, err := a.sessions.Purge(r.Context()); err != nil {
		a.storeFailed(r, "purge", err)
	} else if n > 0 {
		a.Logger.Debug("admin sessions: purged ended ones", "n", n)
	}
	a.setSessionCookie(w, tok, s.Expires, int(a.sessions.Lifetime()/time.Second))
	a.Logger.Info("admin signed in", "user", user, "remote", ip)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}
