package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// The administrators' pages, under /admin/:
//
//	GET  /admin/login        the sign-in form
//	POST /admin/login        signs in: form fields "user" and "password"
//	POST /admin/logout       signs out: form field "csrf"
//	GET  /admin/             the queue: ?state= (a state name or "all"; default held),
//	                         ?q= (Filter.Search), ?offset=
//	GET  /admin/m/{id}       one message: envelope, recipients, headers, delivery, audit
//	POST /admin/m/{id}/act   form fields "choice" (release, correct, discard or retry)
//	                         and "csrf"; 303 back to the message
//	GET  /admin/stats        statistics of the last 30 days
//	GET  /admin/audit        the audit log of all messages, newest first: ?offset=
//
// Every route but the sign-in form needs a session: without one, a GET is redirected
// to the sign-in form (303) and any other method gets 403.
//
// The session is a cookie holding the user name, an expiry and an HMAC-SHA256 over both
// and the user's password hash, under a key derived from Admin.Key: nothing is stored on
// the server, a session ends when it expires (SessionTTL), when the user is removed from
// Users or when the user's password hash changes. Signing out deletes the cookie in the
// browser; a copy of the cookie taken before stays valid until it expires.
//
// Every POST needs a CSRF token bound to the session (an HMAC of the user and the
// session's expiry under another key derived from Admin.Key), and cross-origin POSTs
// are refused whatever they carry (http.CrossOriginProtection).
//
// Sign-in is limited to MaxLoginFailures failed attempts per client address (IPv6: per
// /64) and per user name within LoginWindow; beyond, the attempt gets 429 before the
// password is checked. An unknown user name costs the same bcrypt comparison as a known
// one.

const (
	// SessionTTL is how long an administrator's session lasts.
	SessionTTL = 12 * time.Hour
	// MaxLoginFailures failed sign-ins per client address or user name in LoginWindow
	// block further attempts until the oldest failure leaves the window.
	MaxLoginFailures = 5
	LoginWindow      = 15 * time.Minute

	adminCookie   = "rcptguard_admin"
	adminPageSize = 50
)

// StatsSource gives the statistics and the global audit log; *quarantine.SQLite is one.
type StatsSource interface {
	Stats(ctx context.Context, since time.Time) (quarantine.Stats, error)
	RecentEvents(ctx context.Context, limit, offset int) ([]quarantine.Event, error)
}

// Admin serves the administrators' pages. Set its fields, then call Handler.
type Admin struct {
	Store quarantine.Store
	// Stats feeds the statistics and audit pages; nil shows them as unavailable.
	Stats StatsSource
	// Decider carries out the administrators' choices; nil shows no action forms.
	Decider Decider
	// Users maps user names to bcrypt hashes of their passwords.
	Users map[string]string
	// Key is the secret for the session and CSRF MACs, at least 16 bytes (32 random
	// bytes recommended). Changing it ends every session.
	Key []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
	// SecureCookies marks the session cookie Secure: set it when the pages are served
	// over HTTPS (directly or by a proxy in front).
	SecureCookies bool

	once       sync.Once
	sessionKey []byte
	csrfKey    []byte
	dummyHash  []byte
	limiter    *loginLimiter
}

var adminPages = template.Must(template.ParseFS(files, "templates/admin*.html"))

// Handler returns the handler for the routes under /admin/. It panics if Key is
// shorter than 16 bytes.
func (a *Admin) Handler() http.Handler {
	if len(a.Key) < 16 {
		panic("web: Admin.Key must be at least 16 bytes")
	}
	a.init()
	authed := http.NewServeMux()
	authed.HandleFunc("GET /admin/{$}", a.queue)
	authed.HandleFunc("GET /admin/m/{id}", a.message)
	authed.HandleFunc("POST /admin/m/{id}/act", a.act)
	authed.HandleFunc("GET /admin/stats", a.stats)
	authed.HandleFunc("GET /admin/audit", a.audit)
	authed.HandleFunc("POST /admin/logout", a.logout)
	authed.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		a.problem(w, r, http.StatusNotFound, "Not found", "There is no such page.")
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/login", a.loginForm)
	mux.HandleFunc("POST /admin/login", a.login)
	mux.Handle("/admin/", a.requireSession(authed))
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.problem(w, r, http.StatusForbidden, "This request was refused",
			"The form was not sent from these pages. Nothing was changed.")
	}))
	return securityHeaders(cop.Handler(mux))
}

func (a *Admin) init() {
	a.once.Do(func() {
		if a.Logger == nil {
			a.Logger = slog.New(slog.DiscardHandler)
		}
		a.sessionKey = deriveKey(a.Key, "rcptguard admin session v1")
		a.csrfKey = deriveKey(a.Key, "rcptguard admin csrf v1")
		// The dummy hash for unknown users has the cost of the real ones, so that an
		// unknown name takes as long as a wrong password.
		cost := bcrypt.DefaultCost
		for _, h := range a.Users {
			if c, err := bcrypt.Cost([]byte(h)); err == nil {
				cost = c
				break
			}
		}
		h, err := bcrypt.GenerateFromPassword([]byte("rcptguard: no such user"), cost)
		if err != nil {
			panic("web: bcrypt: " + err.Error())
		}
		a.dummyHash = h
		a.limiter = newLoginLimiter(MaxLoginFailures, LoginWindow, func(name string) bool {
			_, ok := a.Users[name]
			return ok
		})
	})
}

func deriveKey(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// session is a signed-in administrator.
type session struct {
	User    string
	Expires int64 // Unix seconds
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) session {
	s, _ := ctx.Value(sessionKey{}).(session)
	return s
}

func (a *Admin) sessionMAC(user string, expires int64) []byte {
	m := hmac.New(sha256.New, a.sessionKey)
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatInt(expires, 10)))
	m.Write([]byte{0})
	m.Write([]byte(a.Users[user])) // a new password ends the old sessions
	return m.Sum(nil)
}

func (a *Admin) encodeSession(s session) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s.User)) + "." + strconv.FormatInt(s.Expires, 10) + "." +
		base64.RawURLEncoding.EncodeToString(a.sessionMAC(s.User, s.Expires))
}

// parseSession verifies a session cookie's value.
func (a *Admin) parseSession(v string) (session, bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 || strings.ContainsAny(v, "\r\n") {
		return session{}, false // base64 would skip line breaks: one session, one value
	}
	u, err1 := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	mac, err3 := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || strconv.FormatInt(exp, 10) != parts[1] {
		return session{}, false // the expiry only as minted: no sign, no leading zeros
	}
	user := string(u)
	if _, ok := a.Users[user]; !ok {
		return session{}, false
	}
	if !hmac.Equal(mac, a.sessionMAC(user, exp)) || !a.now().Before(time.Unix(exp, 0)) {
		return session{}, false
	}
	return session{User: user, Expires: exp}, true
}

func (a *Admin) csrfFor(s session) string {
	m := hmac.New(sha256.New, a.csrfKey)
	m.Write([]byte(s.User))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatInt(s.Expires, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (a *Admin) csrfOK(s session, tok string) bool {
	return tok != "" && hmac.Equal([]byte(tok), []byte(a.csrfFor(s)))
}

func (a *Admin) setSessionCookie(w http.ResponseWriter, value string, expires time.Time, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     adminCookie,
		Value:    value,
		Path:     "/admin/",
		Expires:  expires,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   a.SecureCookies,
		SameSite: http.SameSiteStrictMode,
	})
}

// requireSession passes requests with a valid session on, with the session in the
// context; others are sent to the sign-in form (GET, HEAD) or refused (403).
func (a *Admin) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(adminCookie); err == nil {
			if s, ok := a.parseSession(c.Value); ok {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
				return
			}
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		a.problem(w, r, http.StatusForbidden, "Not signed in",
			"This needs a signed-in administrator. Nothing was changed.")
	})
}

// checkCSRF reports whether the POST carries the session's CSRF token; if not, it has
// written the 403 page.
func (a *Admin) checkCSRF(w http.ResponseWriter, r *http.Request) bool {
	if !a.csrfOK(sessionFrom(r.Context()), r.PostFormValue("csrf")) {
		a.problem(w, r, http.StatusForbidden, "This request was refused",
			"The form was incomplete or did not come from these pages. Nothing was changed.")
		return false
	}
	return true
}

func (a *Admin) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if !a.checkCSRF(w, r) {
		return
	}
	a.setSessionCookie(w, "", time.Unix(0, 0), -1)
	a.Logger.Info("admin signed out", "user", sessionFrom(r.Context()).User, "remote", clientIP(r))
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

// render writes an admin page: data gets the common fields (CSS, the signed-in user,
// the CSRF token for the sign-out form, the current section).
func (a *Admin) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	data["CSS"] = pageCSS
	if s := sessionFrom(r.Context()); s.User != "" {
		data["User"] = s.User
		data["CSRF"] = a.csrfFor(s)
	}
	writePage(w, r, status, adminPages, name, data, a.Logger.With("part", "admin page"))
}

func (a *Admin) problem(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	a.render(w, r, status, "admin_problem.html", map[string]any{"Title": title, "Text": text})
}

func (a *Admin) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.Logger.Error("admin page: "+what, "err", err, "user", sessionFrom(r.Context()).User)
	a.problem(w, r, http.StatusInternalServerError, "Something went wrong",
		"The page could not be shown ("+what+": "+err.Error()+"). Nothing was changed.")
}
