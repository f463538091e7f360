package notice

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"slices"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/watch"
)

// WatchReport is the mail of `rcptguard squat --watch --notify ADDR`: what changed about
// the watched domains (lookalikes, known correspondents) since the last run.
type WatchReport struct {
	To, From string // bare addresses: the --notify address, notice.from
	Org      string // the organisation's name, in the subject
	Since    time.Time
	Changes  []watch.Change
	// Earlier are the changes of earlier runs whose mail failed (watch.Store.OwedMail),
	// each with its run's time; they follow this run's, under a heading of their own.
	Earlier []watch.Change
}

// maxEarlier bounds the earlier changes a mail lists one by one; the rest are counted.
const maxEarlier = 1000

// ComposeWatch renders r as a plain-text message (UTF-8, quoted-printable, CRLF line
// ends): one line per change (watch.Line), the known correspondents that may have changed
// hands first. Names read from DNS are cleaned by watch.Line, so nothing in them can add
// a header field or a line.
func ComposeWatch(r WatchReport, now time.Time) ([]byte, error) {
	to, err := plainAddress(r.To)
	if err != nil {
		return nil, fmt.Errorf("notice: watch report: To: %w", err)
	}
	from, err := plainAddress(r.From)
	if err != nil {
		return nil, fmt.Errorf("notice: watch report: From: %w", err)
	}
	changes := slices.Clone(r.Changes)
	slices.SortStableFunc(changes, func(a, b watch.Change) int {
		return cmp.Compare(b2n(b.Owner), b2n(a.Owner))
	})
	owners := 0
	for _, c := range changes {
		owners += b2n(c.Owner)
	}
	for _, c := range r.Earlier {
		owners += b2n(c.Owner)
	}
	since := "the last run"
	if !r.Since.IsZero() {
		since = "the run of " + r.Since.UTC().Format("Monday 2 January 2006, 15:04 MST")
	}
	var txt bytes.Buffer
	if len(changes) == 0 {
		fmt.Fprintf(&txt, "No watched domain changed since %s.\n", since)
	} else {
		fmt.Fprintf(&txt, "%s to watched domains since %s:\n\n", plural(len(changes), "change"), since)
		for _, c := range changes {
			txt.WriteString("  " + watch.Line(c) + "\n")
		}
	}
	if len(r.Earlier) > 0 {
		fmt.Fprintf(&txt, "\nNot mailed before (the mail of the runs that found them failed), %s:\n\n", plural(len(r.Earlier), "change"))
		for i, c := range r.Earlier {
			if i == maxEarlier {
				fmt.Fprintf(&txt, "  ... and %d more, in the reports of those runs.\n", len(r.Earlier)-maxEarlier)
				break
			}
			txt.WriteString("  " + c.At.UTC().Format("2 Jan 15:04 MST") + ": " + watch.Line(c) + "\n")
		}
	}
	if len(changes)+len(r.Earlier) > 0 {
		txt.WriteString("\nA lookalike that accepts mail can receive what is sent to it by mistake.\n")
		if owners > 0 {
			txt.WriteString("A known correspondent that may have changed hands is flagged when mailed\n" +
				"(policy changed_owner); check with its owner by another channel.\n")
		}
	}
	txt.WriteString("\n-- \nrcptguard squat --watch\n")
	var body bytes.Buffer
	qp := quotedprintable.NewWriter(&body)
	if _, err := qp.Write(crlf(txt.Bytes())); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return assemble(from, to, watchSubject(clean(r.Org), len(changes)+len(r.Earlier), owners), now,
		"text/plain; charset=utf-8", body.Bytes(), "Content-Transfer-Encoding", "quoted-printable"), nil
}

// SendWatch composes r and sends it from the null sender (a report never bounces back).
func (s *Sender) SendWatch(ctx context.Context, r WatchReport, now time.Time) error {
	raw, err := ComposeWatch(r, now)
	if err != nil {
		return err
	}
	return s.Send(ctx, "", r.To, raw)
}

func watchSubject(org string, changes, owners int) string {
	subj := "Watched lookalike domains: " + plural(changes, "change")
	if owners > 0 {
		subj += ", " + plural(owners, "known correspondent") + " may have changed hands"
	}
	if org != "" {
		subj = org + ": " + subj
	}
	// Fold between encoded words so that no header line grows long.
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", subj), "?= =?", "?=\r\n =?")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func b2n(b bool) int {
	if b {
		return 1
	}
	return 0
}
