package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// minute is how the text output shows times (always UTC).
const minute = "2006-01-02 15:04"

func quarantineList(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	var (
		state  = fs.String("state", "held", "list messages in `STATE`: held, released-as-addressed, released-corrected, discarded, expired or all")
		search = fs.String("search", "", "only messages whose sender, subject or a recipient contains `TEXT` (ignoring case)")
		limit  = fs.Int("limit", quarantine.DefaultListLimit, fmt.Sprintf("at most `N` messages (up to %d)", quarantine.MaxListLimit))
		asJSON = fs.Bool("json", false, "print one JSON object per message")
	)
	if _, code, stop := q.parse(fs, args, 0); stop {
		return code
	}
	f := quarantine.Filter{Search: *search, Limit: *limit}
	if !strings.EqualFold(strings.TrimSpace(*state), "all") {
		st, err := quarantine.ParseState(*state)
		if err != nil {
			return fail(q.env, "--state: %q is not held, released-as-addressed, released-corrected, discarded, expired or all", *state)
		}
		f.State = st
	}
	if *limit <= 0 || *limit > quarantine.MaxListLimit {
		return fail(q.env, "--limit: %d is not between 1 and %d", *limit, quarantine.MaxListLimit)
	}
	if code, stop := q.open(); stop {
		return code
	}
	defer q.close()
	ms, err := q.store.List(ctx, f)
	if err != nil {
		return fail(q.env, "%v", err)
	}
	out := bufio.NewWriter(q.env.Stdout)
	defer out.Flush()
	if *asJSON {
		enc := json.NewEncoder(out)
		for _, m := range ms {
			enc.Encode(messageJSONOf(m))
		}
		return ExitOK
	}
	if len(ms) == 0 {
		fmt.Fprintln(out, "no messages")
		return ExitOK
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED (UTC)\tSENDER\tFLAGGED -> INTENDED\tSTATE\tDELIVERY\tEXPIRES (UTC)")
	for _, m := range ms {
		expires := "-"
		if m.State == quarantine.Held {
			expires = m.ExpiresAt.UTC().Format(minute)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Received.UTC().Format(minute), senderText(m.Sender),
			flaggedText(m), m.State, deliveryText(m), expires)
	}
	tw.Flush()
	if len(ms) == *limit {
		fmt.Fprintf(q.env.Stderr, "rcptguard: showing the newest %d; there may be more (--limit)\n", *limit)
	}
	return ExitOK
}

func quarantineShow(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	var (
		raw    = fs.Bool("raw", false, "write the raw message, exactly as received, and nothing else")
		asJSON = fs.Bool("json", false, "print the message as one JSON object")
	)
	pos, code, stop := q.parse(fs, args, 1)
	if stop {
		return code
	}
	if *raw && *asJSON {
		return fail(q.env, "quarantine show: --raw and --json do not go together")
	}
	if code, stop := q.open(); stop {
		return code
	}
	defer q.close()
	id := pos[0]
	if *raw {
		b, err := q.store.Raw(ctx, id)
		if err != nil {
			return q.failMessage(id, err)
		}
		if _, err := q.env.Stdout.Write(b); err != nil {
			return fail(q.env, "%v", err)
		}
		return ExitOK
	}
	m, err := q.store.Get(ctx, id)
	if err != nil {
		return q.failMessage(id, err)
	}
	events, err := q.store.Audit(ctx, id)
	if err != nil && !isNotFound(err) {
		return fail(q.env, "%v", err)
	}
	out := bufio.NewWriter(q.env.Stdout)
	defer out.Flush()
	if *asJSON {
		v := showJSON{messageJSON: messageJSONOf(m), Events: []eventJSON{}}
		for _, e := range events {
			v.Events = append(v.Events, eventJSON{At: e.At.UTC().Format(time.RFC3339), From: e.From.String(), To: e.To.String(),
				Actor: e.Actor, Remote: e.Remote, Note: e.Note})
		}
		json.NewEncoder(out).Encode(v)
		return ExitOK
	}
	writeMessage(out, m, events)
	return ExitOK
}

func writeMessage(out *bufio.Writer, m quarantine.Message, events []quarantine.Event) {
	p := printable
	field := func(name, format string, args ...any) {
		fmt.Fprintf(out, "%-12s %s\n", name+":", fmt.Sprintf(format, args...))
	}
	field("ID", "%s", m.ID)
	field("State", "%s", m.State)
	field("Received", "%s UTC by %s from %s", m.Received.UTC().Format(time.DateTime), orDash(m.Adapter), orDash(p(m.ClientAddr)))
	if m.QueueID != "" {
		field("Queue ID", "%s", p(m.QueueID))
	}
	sender := senderText(m.Sender)
	if m.AuthUser != "" {
		sender += " (authenticated as " + p(m.AuthUser) + ")"
	}
	field("Sender", "%s", sender)
	field("Subject", "%s", p(m.Subject))
	field("Size", "%d bytes", m.Size)
	if m.State == quarantine.Held {
		field("Expires", "%s UTC", m.ExpiresAt.UTC().Format(time.DateTime))
	}
	fmt.Fprintln(out, "Recipients:")
	for _, r := range m.Recipients {
		fmt.Fprintf(out, "  %s  %s", p(r.Address), r.Verdict)
		if len(r.Intended) > 0 {
			fmt.Fprintf(out, "  intended %s", p(strings.Join(r.Intended, ", ")))
		}
		if len(r.Techniques) > 0 {
			fmt.Fprintf(out, "  techniques %s", p(strings.Join(r.Techniques, ", ")))
		}
		if r.Situation != "" {
			fmt.Fprintf(out, "  (%s)", p(r.Situation))
		}
		fmt.Fprintln(out)
		if r.Reason != "" {
			fmt.Fprintf(out, "      %s\n", p(r.Reason))
		}
	}
	if len(m.ReleaseTo) > 0 {
		field("Release to", "%s", p(strings.Join(m.ReleaseTo, ", ")))
	}
	d := deliveryName(m.Delivery)
	if m.Delivery != quarantine.DeliveryNone {
		d += fmt.Sprintf(", %d attempts", m.Attempts)
		switch {
		case m.Delivery == quarantine.DeliverySent:
			d += fmt.Sprintf(", at %s UTC: %s", m.DeliveredAt.UTC().Format(time.DateTime), p(m.DeliveryReply))
		case m.Delivery == quarantine.DeliveryPending && !m.NextAttempt.IsZero():
			d += fmt.Sprintf(", next at %s UTC", m.NextAttempt.UTC().Format(time.DateTime))
		}
		if m.LastError != "" {
			d += ", last error: " + p(m.LastError)
		}
	}
	field("Delivery", "%s", d)
	n := noticeName(m.Notice)
	if m.NoticeError != "" {
		n += ": " + p(m.NoticeError)
	}
	if !m.ReminderSent.IsZero() {
		n += fmt.Sprintf("; reminder sent %s UTC", m.ReminderSent.UTC().Format(time.DateTime))
	}
	field("Notice", "%s", n)
	fmt.Fprintln(out, "Events:")
	for _, e := range events {
		fmt.Fprintf(out, "  %s UTC  %s -> %s  by %s", e.At.UTC().Format(time.DateTime), e.From, e.To, orDash(p(e.Actor)))
		if e.Remote != "" {
			fmt.Fprintf(out, " from %s", p(e.Remote))
		}
		if e.Note != "" {
			fmt.Fprintf(out, "  %s", p(e.Note))
		}
		fmt.Fprintln(out)
	}
}

// messageJSON is a message in `list --json` and `show --json`. Times are RFC 3339 in UTC,
// null when unset; delivery and notice are "none" when there is none.
type messageJSON struct {
	ID            string          `json:"id"`
	Received      string          `json:"received"`
	Adapter       string          `json:"adapter"`
	Sender        string          `json:"sender"`
	AuthUser      string          `json:"auth_user"`
	ClientAddr    string          `json:"client_addr"`
	QueueID       string          `json:"queue_id"`
	Subject       string          `json:"subject"`
	Size          int64           `json:"size"`
	State         string          `json:"state"`
	ExpiresAt     *string         `json:"expires_at"`
	Recipients    []recipientJSON `json:"recipients"`
	ReleaseTo     []string        `json:"release_to"`
	Delivery      string          `json:"delivery"`
	Attempts      int             `json:"attempts"`
	LastError     string          `json:"last_error"`
	NextAttempt   *string         `json:"next_attempt"`
	DeliveredAt   *string         `json:"delivered_at"`
	DeliveryReply string          `json:"delivery_reply"`
	Notice        string          `json:"notice"`
	NoticeError   string          `json:"notice_error"`
	ReminderSent  *string         `json:"reminder_sent"`
}

type recipientJSON struct {
	Address    string   `json:"address"`
	Flagged    bool     `json:"flagged"`
	Verdict    string   `json:"verdict"`
	Intended   []string `json:"intended"`
	Techniques []string `json:"techniques"`
	Reason     string   `json:"reason"`
	Situation  string   `json:"situation"`
}

type eventJSON struct {
	At     string `json:"at"`
	From   string `json:"from"`
	To     string `json:"to"`
	Actor  string `json:"actor"`
	Remote string `json:"remote"`
	Note   string `json:"note"`
}

// showJSON is `show --json`: the message and its audit events, oldest first.
type showJSON struct {
	messageJSON
	Events []eventJSON `json:"events"`
}

func messageJSONOf(m quarantine.Message) messageJSON {
	v := messageJSON{
		ID: m.ID, Received: m.Received.UTC().Format(time.RFC3339), Adapter: m.Adapter, Sender: m.Sender,
		AuthUser: m.AuthUser, ClientAddr: m.ClientAddr, QueueID: m.QueueID, Subject: m.Subject, Size: m.Size,
		State: m.State.String(), ExpiresAt: jsonTime(m.ExpiresAt), Recipients: []recipientJSON{},
		ReleaseTo: nonNil(m.ReleaseTo), Delivery: deliveryName(m.Delivery), Attempts: m.Attempts,
		LastError: m.LastError, NextAttempt: jsonTime(m.NextAttempt), DeliveredAt: jsonTime(m.DeliveredAt),
		DeliveryReply: m.DeliveryReply, Notice: noticeName(m.Notice), NoticeError: m.NoticeError,
		ReminderSent: jsonTime(m.ReminderSent),
	}
	for _, r := range m.Recipients {
		v.Recipients = append(v.Recipients, recipientJSON{Address: r.Address, Flagged: r.Flagged(), Verdict: r.Verdict.String(),
			Intended: nonNil(r.Intended), Techniques: nonNil(r.Techniques), Reason: r.Reason, Situation: r.Situation})
	}
	return v
}

func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// flaggedText is "bob@army.ml -> army.mil, ..." for the flagged recipients.
func flaggedText(m quarantine.Message) string {
	var parts []string
	for _, r := range m.Recipients {
		if !r.Flagged() {
			continue
		}
		s := printable(r.Address)
		if len(r.Intended) > 0 {
			s += " -> " + printable(r.Intended[0])
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// deliveryText is the delivery with the start of its last error.
func deliveryText(m quarantine.Message) string {
	d := deliveryName(m.Delivery)
	if m.Delivery == quarantine.DeliveryNone {
		return "-"
	}
	if m.LastError != "" && m.Delivery != quarantine.DeliverySent {
		e := []rune(printable(m.LastError))
		if len(e) > 40 {
			e = append(e[:39], '…')
		}
		d += ": " + string(e)
	}
	return d
}

func deliveryName(d quarantine.Delivery) string {
	if d == quarantine.DeliveryNone {
		return "none"
	}
	return string(d)
}

func noticeName(n quarantine.Notice) string {
	if n == quarantine.NoticeNone {
		return "none"
	}
	return string(n)
}

func senderText(s string) string {
	if s == "" {
		return "<>"
	}
	return printable(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printable is appendPrintable for a string; tabs are escaped too, so they cannot break
// the table.
func printable(s string) string { return string(appendPrintable(nil, s)) }

func isNotFound(err error) bool { return errors.Is(err, quarantine.ErrNotFound) }
