package scan

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// WriteJSON writes the report as one JSON document (schema in docs/scan.md).
func WriteJSON(w io.Writer, r Report) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// CSVHeader is the CSV report's header: one row per flagged recipient domain.
var CSVHeader = []string{"domain", "verdict", "situation", "intended", "techniques", "messages", "records",
	"senders", "top_senders", "first_seen", "last_seen", "sent", "bounced", "deferred", "expired", "unknown",
	"probably_legitimate", "allow_line", "reason"}

// WriteCSV writes one row per flagged recipient domain, after CSVHeader. Cells that a
// spreadsheet would run as a formula are prefixed with a quote.
func WriteCSV(w io.Writer, r Report) error {
	c := csv.NewWriter(w)
	c.Write(CSVHeader)
	for _, d := range r.Domains {
		var top []string
		for _, s := range d.TopSenders {
			top = append(top, s.Sender+" ("+strconv.FormatInt(s.Messages, 10)+")")
		}
		row := []string{d.Domain, d.Verdict, d.Situation, strings.Join(d.Intended, " "), strings.Join(d.Techniques, " "),
			itoa(d.Messages), itoa(d.Records), strconv.Itoa(d.Senders), strings.Join(top, " "),
			timeText(d.FirstSeen), timeText(d.LastSeen), itoa(d.Outcomes.Sent), itoa(d.Outcomes.Bounced),
			itoa(d.Outcomes.Deferred), itoa(d.Outcomes.Expired), itoa(d.Outcomes.Unknown),
			strconv.FormatBool(d.ProbablyLegitimate), d.AllowLine, d.Reason}
		for i, v := range row {
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				row[i] = "'" + v
			}
		}
		c.Write(row)
	}
	c.Flush()
	return c.Error()
}

// WriteText writes the report for a terminal: a summary, then tables.
func WriteText(w io.Writer, r Report) error {
	ew := &errWriter{w: w}
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	t := r.Totals
	p("rcptguard scan: %d messages (%d recipients) read from %d sources", t.Messages, t.Records, len(r.Sources))
	if r.Period.First != nil {
		p(", %s to %s (%d days)", r.Period.First.Format("2006-01-02"), r.Period.Last.Format("2006-01-02"), r.Period.Days)
	}
	p(".\n")
	if t.FlaggedDomains == 0 {
		p("Nothing went to a lookalike domain: %d distinct recipient domains checked.\n", t.DomainsChecked)
	} else {
		p("%d messages (%d recipients) went to %d lookalike domains, from %d senders; %d recipients were accepted by the remote server: that mail left the organisation.\n",
			t.FlaggedMessages, t.FlaggedRecords, t.FlaggedDomains, len(r.Senders), t.LeftOrg)
		pr := r.Prediction
		mode := ""
		if pr.Monitor {
			mode = " (the policy is in monitor mode: enforcing it)"
		}
		p("Enforcing the current policy%s would have held %g, warned about %g and rejected %g messages", mode, pr.Total.Hold, pr.Total.Warn, pr.Total.Reject)
		if r.Period.Days > 0 {
			p(": per day %g held, %g warned, %g rejected", pr.PerDay.Hold, pr.PerDay.Warn, pr.PerDay.Reject)
		}
		if t.Messages > 0 {
			p("; per 1,000 messages %g held, %g warned, %g rejected", pr.Per1000.Hold, pr.Per1000.Warn, pr.Per1000.Reject)
		}
		p(".\n")
	}
	if t.OutsidePeriod+t.Undated > 0 {
		p("Left out: %d recipients outside the period, %d undated.\n", t.OutsidePeriod, t.Undated)
	}
	if r.Redacted {
		p("Senders' local parts are replaced by a keyed hash.\n")
	}

	if len(r.Domains) > 0 {
		p("\nLookalike domains\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DOMAIN\tINTENDED\tVERDICT\tTECHNIQUES\tMESSAGES\tSENDERS\tLEFT\tBOUNCED\tDEFERRED\tEXPIRED\tUNKNOWN\tFIRST\tLAST")
		for _, d := range r.Domains {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", clean(d.Domain), clean(strings.Join(d.Intended, ",")),
				d.Verdict, strings.Join(d.Techniques, ","), d.Messages, d.Senders, d.Outcomes.Sent, d.Outcomes.Bounced,
				d.Outcomes.Deferred, d.Outcomes.Expired, d.Outcomes.Unknown, dayText(d.FirstSeen), dayText(d.LastSeen))
		}
		tw.Flush()
		p("\nWhy\n")
		for _, d := range r.Domains {
			var top []string
			for _, s := range d.TopSenders {
				top = append(top, fmt.Sprintf("%s (%d)", clean(s.Sender), s.Messages))
			}
			p("  %s: %s Top senders: %s.\n", clean(d.Domain), clean(d.Reason), strings.Join(top, ", "))
		}

		p("\nSenders\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SENDER\tMESSAGES\tDOMAINS")
		for _, s := range r.Senders {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", clean(s.Sender), s.Messages, s.Domains)
		}
		tw.Flush()

		if len(r.PerWeek) > 0 {
			p("\nFlagged messages per week\n")
			for _, c := range r.PerWeek {
				p("  %s  %d\n", c.Period, c.Messages)
			}
			p("\nFlagged messages per day\n")
			for _, c := range r.PerDay {
				p("  %s  %d\n", c.Period, c.Messages)
			}
		}

		p("\nPrediction for enforcement, by situation and technique (messages: held / warned / rejected)\n")
		for _, g := range r.Prediction.BySituation {
			p("  situation %-14s %g / %g / %g\n", g.Name, g.Total.Hold, g.Total.Warn, g.Total.Reject)
		}
		for _, g := range r.Prediction.ByTechnique {
			p("  technique %-14s %g / %g / %g\n", g.Name, g.Total.Hold, g.Total.Warn, g.Total.Reject)
		}
		p("\nDomains driving it\n")
		for _, d := range r.Prediction.Drivers {
			share := 0.0
			if t.FlaggedMessages > 0 {
				share = float64(d.Messages) * 100 / float64(t.FlaggedMessages)
			}
			p("  %s  %d messages (%.0f%%), %s", clean(d.Domain), d.Messages, share, d.Verdict)
			if d.ProbablyLegitimate {
				p("; probably legitimate (%d senders since %s): to allow it, add to the config  %s", d.Senders, dayText(d.FirstSeen), d.AllowLine)
			}
			p("\n")
		}
	}

	p("\nSources\n")
	for _, s := range r.Sources {
		p("  %s: ", clean(s.Name))
		if s.Error != "" {
			p("ERROR %s\n", clean(s.Error))
			continue
		}
		p("%s", s.Format)
		if s.Compression != "" {
			p(" (%s)", s.Compression)
		}
		p(", %d records, %d skipped\n", s.Records, s.Problems)
	}
	if r.Problems.Total > 0 {
		p("\nSkipped: %d pieces of input\n", r.Problems.Total)
		for _, pr := range r.Problems.First {
			p("  %s:%d: %s\n", clean(pr.Source), pr.Line, clean(pr.Text))
		}
		if n := r.Problems.Total - int64(len(r.Problems.First)); n > 0 {
			p("  ... and %d more\n", n)
		}
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

// clean escapes what could garble a terminal: control characters and invalid UTF-8.
func clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' || r == unicode.ReplacementChar }) < 0 {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

func dayText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format("2006-01-02")
}
