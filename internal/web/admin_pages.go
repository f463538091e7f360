package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

const (
	shortDate      = "2006-01-02 15:04 UTC"
	maxSearch      = 200
	maxHeaderBytes = 64 << 10
	auditPageSize  = 100
)

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(shortDate)
}

// offsetParam reads a non-negative offset from the query.
func offsetParam(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("offset"))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, 1<<30)
}

type flagView struct{ Address, Intended string }

type queueRow struct {
	Link, Received, Sender, Subject string
	Flagged                         []flagView
	State, Delivery, LastError      string
	Expires                         string
}

type option struct {
	Value, Label string
	Selected     bool
}

func flaggedViews(m quarantine.Message) []flagView {
	var out []flagView
	for _, rc := range m.Recipients {
		if rc.Suspect() {
			out = append(out, flagView{rc.Address, strings.Join(rc.Intended, ", ")})
		}
	}
	return out
}

func deliveryText(m quarantine.Message) string {
	if m.Delivery == quarantine.DeliveryNone {
		return "—"
	}
	return string(m.Delivery)
}

func (a *Admin) queue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	stateName := strings.ToLower(q.Get("state"))
	state := quarantine.Held
	switch stateName {
	case "", "held":
		stateName = "held"
	case "all":
		state = quarantine.None
	default:
		st, err := quarantine.ParseState(stateName)
		if err != nil {
			a.problem(w, r, http.StatusBadRequest, "Unknown state", "There is no state called “"+stateName+"”.")
			return
		}
		state = st
	}
	search := strings.TrimSpace(q.Get("q"))
	if len(search) > maxSearch {
		search = search[:maxSearch]
	}
	offset := offsetParam(r)
	msgs, err := a.Store.List(r.Context(), quarantine.Filter{State: state, Search: search,
		Limit: adminPageSize + 1, Offset: offset})
	if err != nil {
		a.internal(w, r, "list messages", err)
		return
	}
	more := len(msgs) > adminPageSize
	if more {
		msgs = msgs[:adminPageSize]
	}
	rows := make([]queueRow, 0, len(msgs))
	for _, m := range msgs {
		subject := m.Subject
		if subject == "" {
			subject = "(no subject)"
		}
		sender := m.Sender
		if sender == "" {
			sender = "<>"
		}
		rows = append(rows, queueRow{
			Link: "/admin/m/" + m.ID, Received: fmtTime(m.Received), Sender: sender, Subject: subject,
			Flagged: flaggedViews(m), State: m.State.String(), Delivery: deliveryText(m),
			LastError: m.LastError, Expires: fmtTime(m.ExpiresAt),
		})
	}
	states := []option{{Value: "all", Label: "all states"}}
	for s := quarantine.Held; s <= quarantine.Expired; s++ {
		states = append(states, option{Value: s.String(), Label: s.String()})
	}
	for i := range states {
		states[i].Selected = states[i].Value == stateName
	}
	page := func(off int) string {
		v := url.Values{"state": {stateName}}
		if search != "" {
			v.Set("q", search)
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		return "/admin/?" + v.Encode()
	}
	data := map[string]any{
		"Title": "Queue", "Nav": "queue", "States": states, "Search": search, "Rows": rows,
		"Heading": "Messages: " + stateName, "Prev": "", "Next": "",
	}
	if state == quarantine.None {
		data["Heading"] = "Messages: all states"
	}
	if offset > 0 {
		data["Prev"] = page(max(offset-adminPageSize, 0))
	}
	if more {
		data["Next"] = page(offset + adminPageSize)
	}
	a.render(w, r, http.StatusOK, "admin_queue.html", data)
}

type field struct{ Label, Value string }

type recipientRow struct {
	Address, Verdict, Reason, Intended, Techniques, Situation string
	Flagged                                                   bool
	TrustLink                                                 string // to trust its domain; "" when not offered
}

type eventRow struct {
	At, Link, MessageID, From, To, Actor, Remote, Note string
}

type actionView struct {
	Choice, Label, Class, Hint string
}

func eventRows(evs []quarantine.Event, link bool) []eventRow {
	out := make([]eventRow, 0, len(evs))
	for _, e := range evs {
		row := eventRow{At: fmtTime(e.At), MessageID: e.MessageID, From: e.From.String(), To: e.To.String(),
			Actor: e.Actor, Remote: e.Remote, Note: e.Note}
		if link {
			row.Link = "/admin/m/" + e.MessageID
		}
		out = append(out, row)
	}
	return out
}

// headerSection is the header section of a raw message (up to the first empty line),
// at most maxHeaderBytes of it, as valid UTF-8 with CRLF turned into LF.
func headerSection(raw []byte) (string, bool) {
	// The header section ends at the first empty line (a CR before its LF does not
	// count), as net/mail reads it; without one, all of it is header.
	end := len(raw)
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			break
		}
		if line := raw[i : i+j]; len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			end = max(i-1, 0) // without the line end before the empty line
			if i > 1 && raw[i-2] == '\r' {
				end = i - 2
			}
			break
		}
		i += j + 1
	}
	truncated := end > maxHeaderBytes
	end = min(end, maxHeaderBytes)
	h := strings.ReplaceAll(string(raw[:end]), "\r\n", "\n")
	return strings.ToValidUTF8(h, "\uFFFD"), truncated
}

func (a *Admin) message(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m, err := a.Store.Get(r.Context(), id)
	if errors.Is(err, quarantine.ErrNotFound) {
		a.messageGone(w, r, id)
		return
	}
	if err != nil {
		a.internal(w, r, "get message", err)
		return
	}
	data := map[string]any{"Title": "Message " + m.ID, "Nav": "queue", "Action": "/admin/m/" + m.ID + "/act",
		"Headers": "", "HeadersTruncated": false, "RawError": "", "Attachments": []string(nil), "Events": []eventRow(nil),
		"Actions": []actionView(nil)}
	subject := m.Subject
	if subject == "" {
		subject = "(no subject)"
	}
	data["Subject"] = subject
	sender := m.Sender
	if sender == "" {
		sender = "<> (null sender)"
	}
	env := []field{
		{"Sender", sender}, {"Received", fmtTime(m.Received)}, {"State", m.State.String()},
		{"Expires", fmtTime(m.ExpiresAt)}, {"Held by", m.Adapter}, {"Client", m.ClientAddr},
		{"Authenticated user", m.AuthUser}, {"Queue ID", m.QueueID}, {"Size", strconv.FormatInt(m.Size, 10) + " bytes"},
		{"ID", m.ID}, {"Content", contentLine(m)},
	}
	data["Envelope"] = nonEmpty(env)
	attempts := ""
	if m.Attempts > 0 {
		attempts = strconv.Itoa(m.Attempts)
	}
	delivery := []field{
		{"Release to", strings.Join(m.ReleaseTo, ", ")}, {"Delivery", string(m.Delivery)},
		{"Attempts", attempts},
		{"Next attempt", fmtTime(m.NextAttempt)}, {"Delivered", fmtTime(m.DeliveredAt)},
		{"Reply", m.DeliveryReply}, {"Last error", m.LastError},
		{"Notice", string(m.Notice)}, {"Notice error", m.NoticeError}, {"Reminder sent", fmtTime(m.ReminderSent)},
	}
	data["Delivery"] = nonEmpty(delivery)
	var recips []recipientRow
	for _, rc := range m.Recipients {
		recips = append(recips, recipientRow{Address: rc.Address, Verdict: rc.Verdict.String(), Reason: rc.Reason,
			Intended: strings.Join(rc.Intended, ", "), Techniques: strings.Join(rc.Techniques, ", "),
			Situation: rc.Situation, Flagged: rc.Suspect()})
		if i := strings.LastIndexByte(rc.Address, '@'); a.Trust != nil && rc.Flagged() && i >= 0 {
			recips[len(recips)-1].TrustLink = trustLink(rc.Address[i+1:])
		}
	}
	data["Recipients"] = recips
	if raw, err := a.Store.Raw(r.Context(), m.ID); err == nil {
		data["Headers"], data["HeadersTruncated"] = headerSection(raw)
		data["Attachments"] = attachmentNames(raw)
	} else {
		a.Logger.Warn("admin page: raw content", "id", m.ID, "err", err)
		data["RawError"] = "The raw content could not be read."
	}
	if evs, err := a.Store.Audit(r.Context(), m.ID); err == nil {
		data["Events"] = eventRows(evs, false)
	} else if !errors.Is(err, quarantine.ErrNotFound) {
		a.internal(w, r, "audit log", err)
		return
	}
	if a.Decider != nil {
		var acts []actionView
		if m.State == quarantine.Held {
			acts = append(acts, actionView{string(held.Release), "Release as addressed", "", "Send it to the recipients exactly as addressed."})
			if d := held.Suggested(m); d != "" {
				acts = append(acts, actionView{string(held.Correct), "Release to " + d + " instead", "primary",
					"Send it with the flagged recipients' domains changed to " + d + "."})
			}
			acts = append(acts, actionView{string(held.Discard), "Discard", "danger", "Do not send it."})
		}
		if m.Delivery == quarantine.DeliveryFailed || m.Delivery == quarantine.DeliveryUnknown {
			hint := "Hand it to the mail server again."
			if m.Delivery == quarantine.DeliveryUnknown {
				hint = "rcptguard stopped during delivery: check the mail log first, so that it is not sent twice."
			}
			acts = append(acts, actionView{"retry", "Retry delivery", "", hint})
		}
		data["Actions"] = acts
	}
	a.render(w, r, http.StatusOK, "admin_message.html", data)
}

func nonEmpty(fs []field) []field {
	var out []field
	for _, f := range fs {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// messageGone is the 404 page for a message that is not (or no longer) stored; its
// audit events may remain.
func (a *Admin) messageGone(w http.ResponseWriter, r *http.Request, id string) {
	evs, _ := a.Store.Audit(r.Context(), id)
	a.render(w, r, http.StatusNotFound, "admin_problem.html", map[string]any{
		"Title":  "Message not found",
		"Text":   "There is no message " + id + " in the quarantine: it never existed or has been purged.",
		"Events": eventRows(evs, false),
	})
}

func (a *Admin) act(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if !a.checkCSRF(w, r) {
		return
	}
	id := r.PathValue("id")
	if a.Decider == nil {
		a.problem(w, r, http.StatusServiceUnavailable, "Not available", "Actions are not available here. Nothing was changed.")
		return
	}
	user := sessionFrom(r.Context()).User
	actor, remote := "admin:"+user, clientIP(r)
	choice := r.PostFormValue("choice")
	var err error
	switch held.Choice(choice) {
	case held.Release, held.Correct, held.Discard:
		err = a.Decider.Decide(r.Context(), id, held.Choice(choice), actor, remote)
	case "retry":
		err = a.Decider.Retry(r.Context(), id, actor, remote)
	default:
		a.problem(w, r, http.StatusBadRequest, "Unknown action", "There is no such action. Nothing was changed.")
		return
	}
	switch {
	case errors.Is(err, quarantine.ErrConflict), errors.Is(err, quarantine.ErrInvalidTransition):
		text := "Someone else already acted on this message, or this action no longer applies. Nothing was changed."
		if m, gerr := a.Store.Get(r.Context(), id); gerr == nil {
			now := m.State.String()
			if m.Delivery != quarantine.DeliveryNone {
				now += ", delivery " + string(m.Delivery)
			}
			text = "This message was already handled: it is now " + now + ". Nothing was changed."
		}
		a.Logger.Info("admin action refused: already handled", "id", id, "choice", choice, "user", user, "err", err)
		a.render(w, r, http.StatusConflict, "admin_problem.html", map[string]any{
			"Title": "Already handled", "Text": text, "Back": "/admin/m/" + id})
		return
	case errors.Is(err, quarantine.ErrNotFound):
		a.messageGone(w, r, id)
		return
	case err != nil:
		a.internal(w, r, choice, err)
		return
	}
	a.Logger.Info("admin action", "id", id, "choice", choice, "user", user, "remote", remote)
	http.Redirect(w, r, "/admin/m/"+id, http.StatusSeeOther)
}

func (a *Admin) audit(w http.ResponseWriter, r *http.Request) {
	if a.Stats == nil {
		a.problem(w, r, http.StatusServiceUnavailable, "Not available", "The audit log is not available here.")
		return
	}
	offset := offsetParam(r)
	evs, err := a.Stats.RecentEvents(r.Context(), auditPageSize+1, offset)
	if err != nil {
		a.internal(w, r, "audit log", err)
		return
	}
	more := len(evs) > auditPageSize
	if more {
		evs = evs[:auditPageSize]
	}
	data := map[string]any{"Title": "Audit log", "Nav": "audit", "Events": eventRows(evs, true), "EventLinks": true, "Prev": "", "Next": ""}
	if offset > 0 {
		data["Prev"] = "/admin/audit?offset=" + strconv.Itoa(max(offset-auditPageSize, 0))
	}
	if more {
		data["Next"] = "/admin/audit?offset=" + strconv.Itoa(offset+auditPageSize)
	}
	a.render(w, r, http.StatusOK, "admin_audit.html", data)
}
