package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/trust"
)

// Truster is the organisation-wide trust, for the trusted domains page; *trust.Service
// is one.
//
//	GET  /admin/trust   the trusted domains (with a remove button each), the form to
//	                    trust a domain (?domain= fills it in), the proposals and the
//	                    trust audit log
//	POST /admin/trust   form fields "action" (add or remove), "domain", "note", "force"
//	                    ("yes": the second confirmation for a lookalike of a protected
//	                    or blocked domain) and "csrf"; 303 back to the page
type Truster interface {
	Add(ctx context.Context, domain, actor, remote, note string, force bool) (trust.Assessment, error)
	Remove(ctx context.Context, domain, actor, remote, note string) error
	List(ctx context.Context) ([]quarantine.Trusted, error)
	Proposals(ctx context.Context, limit int) ([]trust.Proposal, error)
	Events(ctx context.Context, limit, offset int) ([]quarantine.TrustEvent, error)
}

const (
	maxTrustNote   = 500
	trustEventsLen = 50
	proposalsLen   = 100
)

type trustedRow struct{ Domain, At, Actor, Remote, Note string }

type proposalRow struct {
	Domain, Intended, First, Last, Note string
	Senders                             int
}

type trustEventRow struct{ At, Domain, Action, Actor, Remote, Note string }

func (a *Admin) trustPage(w http.ResponseWriter, r *http.Request) {
	if a.Trust == nil {
		a.problem(w, r, http.StatusServiceUnavailable, "Not available", "Trusted domains are not available here.")
		return
	}
	ctx := r.Context()
	list, err := a.Trust.List(ctx)
	if err != nil {
		a.internal(w, r, "trusted domains", err)
		return
	}
	props, err := a.Trust.Proposals(ctx, proposalsLen)
	if err != nil {
		a.internal(w, r, "proposals", err)
		return
	}
	evs, err := a.Trust.Events(ctx, trustEventsLen, 0)
	if err != nil {
		a.internal(w, r, "trust audit log", err)
		return
	}
	rows := make([]trustedRow, 0, len(list))
	for _, t := range list {
		note := t.Note
		if t.Forced {
			note = strings.TrimSpace("(trusted despite a warning) " + note)
		}
		rows = append(rows, trustedRow{Domain: t.Domain, At: fmtTime(t.At), Actor: t.Actor, Remote: t.Remote, Note: note})
	}
	prows := make([]proposalRow, 0, len(props))
	for _, p := range props {
		prows = append(prows, proposalRow{Domain: p.Domain, Senders: p.Senders, First: fmtTime(p.First), Last: fmtTime(p.Last),
			Intended: strings.Join(p.Assessment.Intended, ", "),
			Note:     "proposed: confirmed by " + strconv.Itoa(p.Senders) + " senders"})
	}
	erows := make([]trustEventRow, 0, len(evs))
	for _, e := range evs {
		action := "trusted"
		if e.Action == quarantine.TrustRemoved {
			action = "withdrawn"
		} else if e.Forced {
			action = "trusted despite a warning"
		}
		erows = append(erows, trustEventRow{At: fmtTime(e.At), Domain: e.Domain, Action: action, Actor: e.Actor,
			Remote: e.Remote, Note: e.Note})
	}
	prefill := strings.TrimSpace(r.URL.Query().Get("domain"))
	if len(prefill) > 253 {
		prefill = ""
	}
	a.render(w, r, http.StatusOK, "admin_trust.html", map[string]any{
		"Title": "Trusted domains", "Nav": "trust", "Trusted": rows, "Proposals": prows, "TrustEvents": erows,
		"Domain": prefill,
	})
}

func (a *Admin) trustAct(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if !a.checkCSRF(w, r) {
		return
	}
	if a.Trust == nil {
		a.problem(w, r, http.StatusServiceUnavailable, "Not available", "Trusted domains are not available here. Nothing was changed.")
		return
	}
	user := sessionFrom(r.Context()).User
	actor, remote := "admin:"+user, clientIP(r)
	domain := strings.TrimSpace(r.PostFormValue("domain"))
	note := strings.TrimSpace(r.PostFormValue("note"))
	if len(note) > maxTrustNote {
		a.trustProblem(w, r, http.StatusBadRequest, "Note too long",
			"The note may have at most "+strconv.Itoa(maxTrustNote)+" characters. Nothing was changed.")
		return
	}
	action := r.PostFormValue("action")
	var err error
	switch action {
	case "add":
		var as trust.Assessment
		as, err = a.Trust.Add(r.Context(), domain, actor, remote, note, r.PostFormValue("force") == "yes")
		var re *trust.RefusedError
		if errors.As(err, &re) {
			a.Logger.Info("admin trust: confirmation asked", "domain", domain, "user", user, "remote", remote)
			a.render(w, r, http.StatusConflict, "admin_trust_confirm.html", map[string]any{
				"Title": "Trust " + as.Domain.Display + "?", "Nav": "trust", "Domain": as.Domain.Display,
				"Why": as.Why, "Reason": as.Reason, "Note": note})
			return
		}
		if err == nil {
			a.Logger.Info("admin trusted a domain", "domain", as.Domain.ASCII, "forced", as.Dangerous, "user", user, "remote", remote)
		}
	case "remove":
		err = a.Trust.Remove(r.Context(), domain, actor, remote, note)
		if err == nil {
			a.Logger.Info("admin withdrew the trust of a domain", "domain", domain, "user", user, "remote", remote)
		}
	default:
		a.trustProblem(w, r, http.StatusBadRequest, "Unknown action", "There is no such action. Nothing was changed.")
		return
	}
	switch {
	case errors.Is(err, trust.ErrBadDomain):
		a.trustProblem(w, r, http.StatusBadRequest, "Not a domain name", err.Error()+". Nothing was changed.")
	case errors.Is(err, quarantine.ErrAlreadyTrusted):
		a.trustProblem(w, r, http.StatusConflict, "Already trusted", domain+" is trusted already. Nothing was changed.")
	case errors.Is(err, quarantine.ErrNotTrusted):
		a.trustProblem(w, r, http.StatusConflict, "Not trusted", domain+" is not trusted (someone may have withdrawn it already). Nothing was changed.")
	case err != nil:
		a.internal(w, r, "trust "+action, err)
	default:
		http.Redirect(w, r, "/admin/trust", http.StatusSeeOther)
	}
}

func (a *Admin) trustProblem(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	a.render(w, r, status, "admin_problem.html", map[string]any{"Title": title, "Text": text,
		"Back": "/admin/trust", "BackText": "Back to the trusted domains"})
}

// trustLink is the trusted domains page with the form filled in with domain.
func trustLink(domain string) string {
	return "/admin/trust?" + url.Values{"domain": {domain}}.Encode() + "#add"
}
