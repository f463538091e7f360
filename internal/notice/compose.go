package notice

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// Notice is one notice (or reminder) to the sender of a held message.
type Notice struct {
	To, From string             // bare addresses; To as chosen by Recipient
	Message  quarantine.Message // the held message (its Raw content is never used)
	Link     string             // the validation page URL with its token (http or https)
	Reminder bool               // the last notice, the day before the message expires
	Org      string             // the organisation's name, shown in the notice
	// Returned: at expiry the message goes back to the sender unsent, rather than being
	// deleted (quarantine.on_expiry: return).
	Returned bool
}

// MaxSubjectRunes bounds how much of the held message's subject the notice's subject
// quotes; a longer one is cut and ends in "...".
const MaxSubjectRunes = 60

//go:embed templates/*
var templateFS embed.FS

var (
	// Parsed on first use, not at start: most commands of the binary send no notice.
	textTmpl = sync.OnceValue(func() *texttemplate.Template {
		return texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/notice.txt"))
	})
	htmlTmpl = sync.OnceValue(func() *htmltemplate.Template {
		return htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/notice.html"))
	})
)

// view is what the templates see; every string in it is already cleaned of control
// characters.
type view struct {
	Reminder  bool
	Org       string
	Subject   string
	Sender    string
	Received  string
	Expires   string
	Returned  bool
	Link      string
	Held      []heldView
	Unflagged int
	// Carries says what sensitive content the message seems to carry (content rules);
	// NotChecked that it was too large to be checked. Both empty without content rules.
	Carries    string
	NotChecked bool
}

type heldView struct {
	Address    string
	Reason     string
	Intended   string
	Techniques string
}

// Compose renders n as an RFC 5322 message with CRLF line ends: a multipart/alternative
// of text/plain and text/html (both UTF-8, quoted-printable, so no line exceeds 998
// octets). Every value that reaches a header is cleaned of CR, LF and other control
// characters, and To and From must be single plain addresses, so nothing in a held
// message (subject, addresses, reasons) can add a header field.
func Compose(n Notice, now time.Time) ([]byte, error) {
	to, err := plainAddress(n.To)
	if err != nil {
		return nil, fmt.Errorf("notice: To: %w", err)
	}
	from, err := plainAddress(n.From)
	if err != nil {
		return nil, fmt.Errorf("notice: From: %w", err)
	}
	u, err := url.Parse(n.Link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsFunc(n.Link, isSpaceOrControl) {
		return nil, errors.New("notice: Link must be an absolute http(s) URL")
	}
	v := makeView(n, u.String())

	var txt, html bytes.Buffer
	if err := textTmpl().Execute(&txt, v); err != nil {
		return nil, fmt.Errorf("notice: text: %w", err)
	}
	if err := htmlTmpl().Execute(&html, v); err != nil {
		return nil, fmt.Errorf("notice: html: %w", err)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range []struct {
		ctype string
		data  []byte
	}{{"text/plain; charset=utf-8", txt.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", p.ctype)
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(crlf(p.data)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}

	return assemble(from, to, Subject(n.Message.Subject, n.Reminder), now,
		"multipart/alternative; boundary=\""+mw.Boundary()+"\"", body.Bytes(),
		"X-Rcptguard-Notice", clean(n.Message.ID)), nil
}

// assemble writes a composed message: the header fields every message of rcptguard's has
// (From, To, Date, a new Message-ID, Subject, and those that keep auto-responders quiet),
// the extra ones given as name, value pairs, the Content-Type, then the body.
func assemble(from, to, subject string, now time.Time, contentType string, body []byte, extra ...string) []byte {
	_, fromDomain, _ := strings.Cut(from, "@")
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", to)
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+randomID()+"@"+fromDomain+">")
	hdr("Subject", subject)
	hdr("MIME-Version", "1.0")
	hdr("Auto-Submitted", "auto-generated")
	hdr("X-Auto-Response-Suppress", "All")
	for i := 0; i+1 < len(extra); i += 2 {
		hdr(extra[i], extra[i+1])
	}
	hdr("Content-Type", contentType)
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// Subject is the notice's Subject field value: short, plain, saying what to do, quoting
// the held message's subject (cleaned, cut to MaxSubjectRunes) and encoded with RFC 2047
// Q-encoding when it is not ASCII.
func Subject(held string, reminder bool) string {
	s := clean(held)
	if utf8.RuneCountInString(s) > MaxSubjectRunes {
		s = strings.TrimSpace(string([]rune(s)[:MaxSubjectRunes-3])) + "..."
	}
	subj := "Check the recipients of your message"
	if s != "" {
		subj += " \"" + s + "\""
	}
	if reminder {
		subj = "Reminder: " + subj
	}
	enc := mime.QEncoding.Encode("utf-8", subj)
	// Fold between encoded words so that no header line grows long.
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

func makeView(n Notice, link string) view {
	m := n.Message
	v := view{
		Reminder: n.Reminder,
		Org:      clean(n.Org),
		Subject:  clean(m.Subject),
		Sender:   clean(m.Sender),
		Link:     link,
	}
	if !m.Received.IsZero() {
		v.Received = m.Received.UTC().Format("Monday 2 January 2006, 15:04 MST")
	}
	v.Returned = n.Returned
	if len(m.Content) > 0 {
		v.Carries = clean(content.Describe(m.Content))
	}
	v.NotChecked = m.ContentSkipped
	if !m.ExpiresAt.IsZero() {
		v.Expires = m.ExpiresAt.UTC().Format("Monday 2 January 2006, 15:04 MST")
	}
	for _, r := range m.Recipients {
		if !r.Flagged() {
			v.Unflagged++
			continue
		}
		v.Held = append(v.Held, heldView{
			Address:    clean(r.Address),
			Reason:     clean(r.Reason),
			Intended:   cleanJoin(r.Intended),
			Techniques: cleanJoin(r.Techniques),
		})
	}
	return v
}

// plainAddress checks that s is one bare address (no display name, no list, no control
// characters) and returns it.
func plainAddress(s string) (string, error) {
	if s == "" || strings.ContainsFunc(s, isSpaceOrControl) {
		return "", errors.New("empty or contains spaces or control characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	if a.Name != "" || a.Address != s {
		return "", errors.New("must be a bare address")
	}
	return s, nil
}

// clean replaces CR, LF and every other control character with a space and trims the
// result, so that a value can neither start a new header line nor break a text line.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if isControl(r) || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s))
}

func cleanJoin(ss []string) string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = clean(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

func isSpaceOrControl(r rune) bool { return r == ' ' || isControl(r) }

// crlf turns LF line ends into CRLF.
func crlf(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
