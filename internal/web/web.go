package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/token"
)

//go:embed templates
var files embed.FS

// The pages, their style and the Content-Security-Policy are made on first use, not at
// start: a command of the binary that serves no page (permute, scan...) does not pay for
// them.
var (
	pageCSS = sync.OnceValue(func() template.CSS { return template.CSS(mustRead("templates/style.css")) })
	pages   = sync.OnceValue(func() *template.Template {
		return template.Must(template.ParseFS(files, "templates/*.html"))
	})
	// csp allows no scripts at all and only the one inline style block, by its hash.
	csp = sync.OnceValue(func() string {
		sum := sha256.Sum256([]byte(pageCSS()))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	})
)

func mustRead(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Validation serves the validation pages. Set its fields, then call Handler.
type Validation struct {
	// Store is read for the pages; nothing is written to it here.
	Store  quarantine.Reader
	Signer *token.Signer
	// Decider carries out the choice (records it and has the message re-injected);
	// required: the page has no other way to change a held message.
	Decider held.Decider
	// Now is the clock for display and message expiry; nil means time.Now. Token
	// expiry uses Signer.Now.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
	// ExpiryReturns, if set, says whether a message nobody decided about goes back to its
	// sender at expiry (quarantine.on_expiry: return) rather than being deleted; it is
	// asked on every page, so that a reload counts at once.
	ExpiryReturns func() bool

	once    sync.Once
	csrfKey []byte
}

// Handler returns the handler for the routes GET and POST /v/{token}.
func (v *Validation) Handler() http.Handler {
	if v.Decider == nil {
		panic("web: Validation needs a Decider")
	}
	v.init()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v/{token}", v.view)
	mux.HandleFunc("POST /v/{token}", v.choose)
	return securityHeaders(mux)
}

func (v *Validation) init() {
	v.once.Do(func() {
		if v.Logger == nil {
			v.Logger = slog.New(slog.DiscardHandler)
		}
		// The CSRF key is a MAC under the signing key of a claim no real message can
		// have (quarantine IDs are URL-safe base64), so it is secret, stable across
		// restarts and nodes, and rotates with the signing key.
		seed := v.Signer.Sign(token.Claims{
			MessageID: "\x00rcptguard/web/csrf-key/v1",
			Action:    token.View,
			Expires:   time.Unix(0, 0),
		})
		sum := sha256.Sum256([]byte("rcptguard web csrf v1\x00" + seed))
		v.csrfKey = sum[:]
	})
}

func (v *Validation) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp())
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// csrfToken returns a new CSRF token for a form posting choice for viewTok.
func (v *Validation) csrfToken(viewTok string, choice held.Choice) string {
	var nonce [16]byte
	rand.Read(nonce[:])
	n := base64.RawURLEncoding.EncodeToString(nonce[:])
	return n + "." + base64.RawURLEncoding.EncodeToString(v.csrfMAC(viewTok, choice, n))
}

func (v *Validation) csrfMAC(viewTok string, choice held.Choice, nonce string) []byte {
	m := hmac.New(sha256.New, v.csrfKey)
	m.Write([]byte(viewTok))
	m.Write([]byte{0})
	m.Write([]byte(choice))
	m.Write([]byte{0})
	m.Write([]byte(nonce))
	return m.Sum(nil)
}

func (v *Validation) csrfValid(viewTok string, choice held.Choice, tok string) bool {
	n, mac, ok := strings.Cut(tok, ".")
	if !ok || len(n) != 22 {
		return false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(mac)
	if err != nil {
		return false
	}
	return hmac.Equal(got, v.csrfMAC(viewTok, choice, n))
}

// load verifies the view token and returns its message; on failure it has written
// the error page and returns ok false.
func (v *Validation) load(w http.ResponseWriter, r *http.Request) (tok string, m quarantine.Message, ok bool) {
	tok = r.PathValue("token")
	c, err := v.Signer.Parse(tok)
	if err != nil {
		v.tokenProblem(w, r, err)
		return "", m, false
	}
	if c.Action != token.View {
		v.problem(w, r, http.StatusBadRequest, "This link is not valid",
			"This link is not a link to a validation page.", "Open the link from the notice email instead.")
		return "", m, false
	}
	m, err = v.Store.Get(r.Context(), c.MessageID)
	if errors.Is(err, quarantine.ErrNotFound) {
		v.problem(w, r, http.StatusNotFound, "This message is no longer here",
			"The held message this link is for has been removed from the quarantine.", "")
		return "", m, false
	}
	if err != nil {
		v.internal(w, r, "get message", err)
		return "", m, false
	}
	if _, err := v.Signer.Verify(tok, m.ID, m.Sender, token.View); err != nil {
		v.tokenProblem(w, r, err)
		return "", m, false
	}
	return tok, m, true
}

func (v *Validation) tokenProblem(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, token.ErrExpired):
		v.problem(w, r, http.StatusGone, "This link has expired",
			"The link in your notice is too old to use. The held message may already have been discarded.",
			"If you still need to send the message, send it again.")
	case errors.Is(err, token.ErrMalformed):
		v.problem(w, r, http.StatusBadRequest, "This link is not valid",
			"This link is incomplete or damaged.", "Open the link from the notice email again, or copy all of it.")
	default: // forged, wrong message, wrong sender
		v.problem(w, r, http.StatusForbidden, "This link is not valid",
			"This link was not issued for this message, or it has been altered.", "Open the link from the notice email again, or copy all of it.")
	}
}

type recipientView struct {
	Address   string
	Flagged   bool
	LooksLike string
}

type choiceView struct {
	Value        held.Choice
	Label, Class string
	CSRF         string
}

const dateLayout = "Mon, 2 Jan 2006 15:04 MST"

func (v *Validation) view(w http.ResponseWriter, r *http.Request) {
	tok, m, ok := v.load(w, r)
	if !ok {
		return
	}
	if m.State != quarantine.Held {
		v.handled(w, r, m, http.StatusOK)
		return
	}
	if !v.now().Before(m.ExpiresAt) {
		v.messageExpired(w, r)
		return
	}
	var recips []recipientView
	var nflagged []string
	for _, rc := range m.Recipients {
		rv := recipientView{Address: rc.Address, Flagged: rc.Flagged()}
		if rv.Flagged {
			nflagged = append(nflagged, rc.Address)
			if len(rc.Intended) > 0 {
				rv.LooksLike = strings.Join(rc.Intended, ", ")
			}
		}
		recips = append(recips, rv)
	}
	choices := []choiceView{{Value: held.Release, Label: "Send as addressed", Class: ""}}
	if d := held.Suggested(m); d != "" {
		choices = append(choices, choiceView{Value: held.Correct, Label: "Send to " + d + " instead", Class: "primary"})
	}
	choices = append(choices, choiceView{Value: held.Discard, Label: "Discard the message", Class: "danger"})
	for i := range choices {
		choices[i].CSRF = v.csrfToken(tok, choices[i].Value)
	}
	v.render(w, r, http.StatusOK, "summary.html", map[string]any{
		"Title":       "Check your message before it is sent",
		"CSS":         pageCSS(),
		"M":           m,
		"Date":        m.Received.UTC().Format(dateLayout),
		"Expires":     m.ExpiresAt.UTC().Format(dateLayout),
		"Returned":    v.ExpiryReturns != nil && v.ExpiryReturns(),
		"Recipients":  recips,
		"Flagged":     nflagged,
		"Attachments": v.attachments(r.Context(), m.ID),
		"Content":     contentLine(m),
		"Choices":     choices,
		"Action":      "/v/" + tok,
	})
}

func (v *Validation) messageExpired(w http.ResponseWriter, r *http.Request) {
	v.problem(w, r, http.StatusGone, "This message has expired",
		"The message was held too long without a decision and is being discarded.",
		"If you still need to send it, send it again.")
}

func (v *Validation) choose(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		v.problem(w, r, http.StatusForbidden, "This request was refused",
			"The choice did not come from the validation page itself.", "Open the link from the notice email and choose there.")
		return
	}
	tok, m, ok := v.load(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	choice := held.Choice(r.PostFormValue("choice"))
	if !v.csrfValid(tok, choice, r.PostFormValue("csrf")) {
		v.problem(w, r, http.StatusForbidden, "This request was refused",
			"The form was incomplete or did not come from the validation page. Nothing was changed.",
			"Open the link from the notice email again and choose there.")
		return
	}
	to := choice.State()
	if to == quarantine.None { // cannot pass the CSRF check; kept as a guard
		v.problem(w, r, http.StatusBadRequest, "This choice is not available", "Nothing was changed.", "")
		return
	}
	if choice == held.Correct && held.Suggested(m) == "" {
		v.problem(w, r, http.StatusBadRequest, "This choice is not available",
			"There is no suggested domain for this message. Nothing was changed.", "")
		return
	}
	if m.State == quarantine.Held && !v.now().Before(m.ExpiresAt) {
		v.messageExpired(w, r)
		return
	}
	err := v.Decider.Decide(context.WithoutCancel(r.Context()), m.ID, choice, m.Sender, clientIP(r))
	switch {
	case errors.Is(err, quarantine.ErrConflict):
		if cur, gerr := v.Store.Get(r.Context(), m.ID); gerr == nil {
			m = cur
		}
		v.handled(w, r, m, http.StatusConflict)
		return
	case errors.Is(err, quarantine.ErrNotFound):
		v.problem(w, r, http.StatusNotFound, "This message is no longer here",
			"The held message this link is for has been removed from the quarantine.", "")
		return
	case err != nil:
		v.internal(w, r, "decide", err)
		return
	}
	v.Logger.Info("sender choice recorded", "id", m.ID, "choice", string(choice), "state", to.String(), "remote", clientIP(r))
	title, text := outcome(to, m)
	v.render(w, r, http.StatusOK, "done.html", map[string]any{
		"Title": title, "Text": text, "Subject": m.Subject, "CSS": pageCSS(),
	})
}

// outcome describes a final state in plain words.
func outcome(s quarantine.State, m quarantine.Message) (title, text string) {
	switch s {
	case quarantine.ReleasedAsAddressed:
		return "Sent as addressed", "The message is being sent to the recipients exactly as you addressed it."
	case quarantine.ReleasedCorrected:
		return "Sent to " + held.Suggested(m) + " instead",
			"The message is being sent with the suspicious addresses changed to " + held.Suggested(m) + "."
	case quarantine.Discarded:
		return "Discarded", "The message was discarded and will not be sent."
	case quarantine.Expired:
		return "Expired", "The message was held too long without a decision and was discarded."
	}
	return s.String(), ""
}

// handled writes the "already handled" page: what was chosen and when.
func (v *Validation) handled(w http.ResponseWriter, r *http.Request, m quarantine.Message, status int) {
	what, _ := outcome(m.State, m)
	text := "This message was already handled: " + strings.ToLower(what[:1]) + what[1:] + "."
	if evs, err := v.Store.Audit(r.Context(), m.ID); err == nil {
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].From == quarantine.Held {
				text = "This message was already handled on " + evs[i].At.UTC().Format(dateLayout) +
					": " + strings.ToLower(what[:1]) + what[1:] + "."
				break
			}
		}
	}
	v.problem(w, r, status, "Already handled", text, "Nothing was changed. Each message can be decided only once.")
}

func (v *Validation) problem(w http.ResponseWriter, r *http.Request, status int, title, text, hint string) {
	v.render(w, r, status, "problem.html", map[string]any{"Title": title, "Text": text, "Hint": hint, "CSS": pageCSS()})
}

func (v *Validation) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	v.Logger.Error("validation page: "+what, "err", err)
	v.problem(w, r, http.StatusInternalServerError, "Something went wrong",
		"The page could not be shown. Nothing was changed.", "Please try again in a few minutes.")
}

func (v *Validation) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	writePage(w, r, status, pages(), name, data, v.Logger.With("part", "validation page"))
}

// writePage renders template name of set with data into a buffer, then writes it with
// status (no body for HEAD); a template that fails is logged and answered with 500, so
// that no half page goes out.
func writePage(w http.ResponseWriter, r *http.Request, status int, set *template.Template, name string, data any, log *slog.Logger) {
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, data); err != nil {
		log.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// clientIP is the host part of the connection's remote address. Forwarded headers
// are not trusted here; a proxy in front must set RemoteAddr itself.
func clientIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// contentLine says what sensitive content a held message seems to carry (content rules,
// docs/content.md), or that it was too large to be checked; "" without content rules.
func contentLine(m quarantine.Message) string {
	switch {
	case len(m.Content) > 0:
		s := "It seems to carry " + content.Describe(m.Content) + ": take particular care where it goes."
		if m.ContentSkipped {
			s += " The rest of it was too large to be checked."
		}
		return s
	case m.ContentSkipped:
		return "It was too large to be checked for sensitive content."
	}
	return ""
}
