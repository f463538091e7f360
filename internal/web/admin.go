package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/ratelimit"
	"github.com/rcptguard/rcptguard/internal/session"
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
//	GET  /admin/trust        the trusted domains, proposals and trust audit log
//	POST /admin/trust        trust a domain or withdraw it (see Truster)
//
// Every route but the sign-in form needs a session: without one, a GET is redirected
// to the sign-in form (303) and any other method gets 403.
//
// Sessions are kept on the server (package session, in Sessions): the cookie holds only
// a random 256-bit token, the store its hash. A session ends when the user signs out
// (it is deleted from the store, so a copy of the cookie opens nothing, on any node
// sharing the store), when it has not been used for SessionIdle, when it is SessionMax
// old, when the user is removed from Users, and when the user's password hash in Users
// is no longer the one at sign-in (restoring the old hash does not bring it back). A
// session that cannot be checked because the store fails is refused like a missing one.
//
// Every POST needs a CSRF token bound to the session (an HMAC of the session's token
// under a key derived from Admin.Key), and cross-origin POSTs are refused whatever they
// carry (http.CrossOriginProtection).
//
// Sign-in is limited to MaxLoginFailures failed attempts per client address (IPv6: per
// /64) and per user name within LoginWindow; beyond, the attempt gets 429 before the
// password is checked. An unknown user name costs the same bcrypt comparison as a known
// one.

const (
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
	// Store is read for the pages; nothing is written to it here.
	Store quarantine.Reader
	// Stats feeds the statistics and audit pages; nil shows them as unavailable.
	Stats StatsSource
	// Decider carries out the administrators' choices; nil shows no action forms.
	Decider held.Decider
	// Trust is the organisation-wide trust of domains; nil shows the page as unavailable.
	Trust Truster
	// Users maps user names to bcrypt hashes of their passwords.
	Users map[string]string
	// UsersNow, when set, is asked instead of Users on every sign-in and request, so that
	// a reload that changes admin.users takes effect at once: a changed or removed
	// password hash ends that user's sessions.
	UsersNow func() map[string]string
	// Key is the secret for the CSRF MACs, at least 16 bytes (32 random bytes
	// recommended); nodes sharing Sessions need the same one.
	Key []byte
	// Attempts, if set, is where failed sign-ins are counted instead of this process's
	// memory: the database the nodes share (session.Postgres), so that a guesser cannot
	// spread attempts over them.
	Attempts ratelimit.Attempts
	// Sessions keeps the sessions; required.
	Sessions session.Store
	// SessionIdle ends a session unused for that long, SessionMax any session that
	// old; 0 means session.DefaultIdle and session.DefaultMax.
	SessionIdle, SessionMax time.Duration
	// StoreError, if set, is called for each failed operation of Sessions (a metric).
	StoreError func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
	// SecureCookies marks the session cookie Secure: set it when the pages are served
	// over HTTPS (directly or by a proxy in front).
	SecureCookies bool

	once      sync.Once
	sessions  *session.Manager
	csrfKey   []byte
	dummyHash []byte
	limiter   *ratelimit.Limiter
}

var adminPages = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(files, "templates/admin*.html"))
})

// Handler returns the handler for the routes under /admin/. It panics if Key is
// shorter than 16 bytes or Sessions is nil.
func (a *Admin) Handler() http.Handler {
	if len(a.Key) < 16 {
		panic("web: Admin.Key must be at least 16 bytes")
	}
	if a.Sessions == nil {
		panic("web: Admin.Sessions is required")
	}
	a.init()
	authed := http.NewServeMux()
	authed.HandleFunc("GET /admin/{$}", a.queue)
	authed.HandleFunc("GET /admin/m/{id}", a.message)
	authed.HandleFunc("POST /admin/m/{id}/act", a.act)
	authed.HandleFunc("GET /admin/stats", a.stats)
	authed.HandleFunc("GET /admin/audit", a.audit)
	authed.HandleFunc("GET /admin/trust", a.trustPage)
	authed.HandleFunc("POST /admin/trust", a.trustAct)
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
		a.sessions = &session.Manager{Store: a.Sessions, Idle: a.SessionIdle, Max: a.SessionMax, Now: a.now}
		a.csrfKey = deriveKey(a.Key, "rcptguard admin csrf v2")
		// The dummy hash for unknown users has the cost of the real ones, so that an
		// unknown name takes as long as a wrong password.
		cost := bcrypt.DefaultCost
		for _, h := range a.users() {
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
		a.limiter = ratelimit.New(MaxLoginFailures, LoginWindow, func(name string) bool {
			_, ok := a.users()[name]
			return ok
		})
		if a.Attempts != nil {
			a.limiter.Share("admin", a.Attempts)
		}
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

// adminSession is a signed-in administrator: the user and the session's token.
type adminSession struct {
	User, Token string
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) adminSession {
	s, _ := ctx.Value(sessionKey{}).(adminSession)
	return s
}

// passHash looks up a user's password hash for session.Manager.Check.
func (a *Admin) passHash(user string) (string, bool) {
	h, ok := a.users()[user]
	return h, ok
}

// users is the user names and password hashes in use now.
func (a *Admin) users() map[string]string {
	if a.UsersNow != nil {
		return a.UsersNow()
	}
	return a.Users
}

// storeFailed logs and counts a failure of the session store.
func (a *Admin) storeFailed(r *http.Request, what string, err error) {
	a.Logger.Error("admin sessions: "+what, "err", err, "remote", clientIP(r))
	if a.StoreError != nil {
		a.StoreError()
	}
}

// currentSession checks the request's session cookie. A store failure is logged and
// counted, and the request is treated as signed out.
func (a *Admin) currentSession(r *http.Request) (adminSession, bool) {
	c, err := r.Cookie(adminCookie)
	if err != nil {
		return adminSession{}, false
	}
	s, err := a.sessions.Check(r.Context(), c.Value, a.passHash)
	if err != nil {
		if !errors.Is(err, session.ErrNoSession) {
			a.storeFailed(r, "check", err)
		}
		return adminSession{}, false
	}
	return adminSession{User: s.User, Token: c.Value}, true
}

func (a *Admin) csrfFor(s adminSession) string {
	m := hmac.New(sha256.New, a.csrfKey)
	m.Write([]byte(s.Token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (a *Admin) csrfOK(s adminSession, tok string) bool {
	return tok != "" && s.Token != "" && hmac.Equal([]byte(tok), []byte(a.csrfFor(s)))
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
		if s, ok := a.currentSession(r); ok {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
			return
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
	s := sessionFrom(r.Context())
	if err := a.sessions.End(r.Context(), s.Token); err != nil {
		a.storeFailed(r, "sign out", err)
		a.problem(w, r, http.StatusServiceUnavailable, "Not signed out",
			"The session could not be ended on the server. Try again in a moment.")
		return
	}
	a.setSessionCookie(w, "", time.Unix(0, 0), -1)
	a.Logger.Info("admin signed out", "user", s.User, "remote", clientIP(r))
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

// render writes an admin page: data gets the common fields (CSS, the signed-in user,
// the CSRF token for the sign-out form, the current section).
func (a *Admin) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	data["CSS"] = pageCSS()
	if s := sessionFrom(r.Context()); s.User != "" {
		data["User"] = s.User
		data["CSRF"] = a.csrfFor(s)
	}
	writePage(w, r, status, adminPages(), name, data, a.Logger.With("part", "admin page"))
}

func (a *Admin) problem(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	a.render(w, r, status, "admin_problem.html", map[string]any{"Title": title, "Text": text})
}

func (a *Admin) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.Logger.Error("admin page: "+what, "err", err, "user", sessionFrom(r.Context()).User)
	a.problem(w, r, http.StatusInternalServerError, "Something went wrong",
		"The page could not be shown ("+what+": "+err.Error()+"). Nothing was changed.")
}
