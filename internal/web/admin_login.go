package web

import (
	"net/http"
	"strconv"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/ratelimit"
)

// maxUserName is the longest user name signed in with.
const maxUserName = ratelimit.MaxUserName

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
	ipKey, userKey := ratelimit.ClientKeyOf(ip), ratelimit.UserKey(user)
	wait, ok, err := a.limiter.BeginContext(r.Context(), ipKey, userKey, now)
	if err != nil {
		// Fail closed: an attempt that cannot be counted is not tried.
		a.storeFailed(r, "count a sign-in attempt", err)
		a.render(w, r, http.StatusServiceUnavailable, "admin_login.html", map[string]any{
			"Title": "Sign in", "Error": "Signing in is not possible right now. Try again in a moment.", "Name": user,
		})
		return
	}
	if !ok {
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
	hash, known := a.users()[user]
	if !known || len(user) > maxUserName {
		known, hash = false, string(a.dummyHash)
	}
	err = bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass))
	if err != nil || !known {
		a.Logger.Warn("admin sign-in failed", "user", user, "remote", ip)
		a.render(w, r, http.StatusUnauthorized, "admin_login.html", map[string]any{
			"Title": "Sign in", "Error": "Wrong user name or password.", "Name": user,
		})
		return
	}
	if err := a.limiter.SucceededContext(r.Context(), ipKey, userKey, now); err != nil {
		a.storeFailed(r, "forgive a sign-in attempt", err) // it stays counted: no harm
	}
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
