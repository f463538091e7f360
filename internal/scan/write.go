package scan

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rcptguard/rcptguard/internal/report"
)

// WriteJSON writes the report as one JSON document (schema in docs/scan.md).
func WriteJSON(w io.Writer, r Report) error {
	return report.WriteJSON(w, r)
}

// CSVHeader is the CSV report's header: one row per flagged recipient domain.
var CSVHeader = []string{"domain", "verdict", "situation", "intended", "techniques", "messages", "records",
	"senders", "top_senders", "first_seen", "last_seen", "sent", "bounced", "deferred", "expired", "unknown",
	"probably_legitimate", "allow_line", "reason"}

// WriteCSV writes one row per flagged recipient domain, after CSVHeader. Cells that a
// spreadsheet would run as a formula are prefixed with a quote.
//
// With content checks on (r.Content set), a last column "content" gives the categories of
// each domain's classified messages, as "credentials (2) personal (1)".
func WriteCSV(w io.Writer, r Report) error {
	c := csv.NewWriter(w)
	header := CSVHeader
	if r.Content != nil {
		header = append(slices.Clone(CSVHeader), "content")
	}
	c.Write(header)
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
		if r.Content != nil {
			row = append(row, categoriesText(d.Content))
		}
		for i, v := range row {
			row[i] = report.Cell(v)
		}
		c.Write(row)
	}
	c.Flush()
	return c.Error()
}

// MessagesCSVHeader is the header of the messages CSV (`scan --format csv-messages`): one
// row per classified flagged message.
var MessagesCSVHeader = []string{"time", "message", "source", "sender", "domain", "verdict", "content", "content_skipped", "not_read"}

// WriteMessagesCSV writes one row per flagged message whose content was classified (with
// content checks on), after MessagesCSVHeader: its categories space-separated.
func WriteMessagesCSV(w io.Writer, r Report) error {
	c := csv.NewWriter(w)
	c.Write(MessagesCSVHeader)
	if r.Content != nil {
		for _, m := range r.Content.Messages {
			row := []string{timeText(m.Time), m.Message, m.Source, m.Sender, m.Domain, m.Verdict,
				strings.Join(m.Content, " "), strconv.FormatBool(m.Skipped), m.NotRead}
			for i, v := range row {
				row[i] = report.Cell(v)
			}
			c.Write(row)
		}
	}
	c.Flush()
	return c.Error()
}

// WriteText writes the report for a terminal: a summary, then tables.
func WriteText(w io.Writer, r Report) error {
	ew := &report.ErrWriter{W: w}
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	t := r.Totals
	p("rcptguard scan: %d messages (%d recipients) read from %s", t.Messages, t.Records, report.Plural(len(r.Sources), "source"))
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
	if c := r.Content; c != nil {
		p("Content of the flagged messages of mail archives: %s read", report.Plural(int(c.Checked), "message"))
		if len(c.Categories) == 0 {
			p(", none carries a sensitive category")
		}
		for _, cc := range c.Categories {
			p("; %s %d", cc.Category, cc.Messages)
		}
		if c.Skipped > 0 {
			p("; %d over the classifier's limits, not checked", c.Skipped)
		}
		p("; the content rules raise the verdict of %d.\n", c.Escalated)
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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", report.Clean(d.Domain), report.Clean(strings.Join(d.Intended, ",")),
				d.Verdict, strings.Join(d.Techniques, ","), d.Messages, d.Senders, d.Outcomes.Sent, d.Outcomes.Bounced,
				d.Outcomes.Deferred, d.Outcomes.Expired, d.Outcomes.Unknown, dayText(d.FirstSeen), dayText(d.LastSeen))
		}
		tw.Flush()
		p("\nWhy\n")
		for _, d := range r.Domains {
			var top []string
			for _, s := range d.TopSenders {
				top = append(top, fmt.Sprintf("%s (%d)", report.Clean(s.Sender), s.Messages))
			}
			p("  %s: %s Top senders: %s.\n", report.Clean(d.Domain), report.Clean(d.Reason), strings.Join(top, ", "))
		}

		if c := r.Content; c != nil && len(c.Messages) > 0 {
			p("\nFlagged messages and their content\n")
			tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tMESSAGE\tSENDER\tDOMAIN\tVERDICT\tCONTENT")
			for _, m := range c.Messages[:min(len(c.Messages), MaxMessageRows)] {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", dayText(m.Time), report.Clean(m.Message), report.Clean(m.Sender),
					report.Clean(m.Domain), m.Verdict, contentText(m))
			}
			tw.Flush()
			if n := len(c.Messages) - MaxMessageRows; n > 0 {
				p("  ... and %d more (the JSON report lists them all)\n", n)
			}
		}

		p("\nSenders\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SENDER\tMESSAGES\tDOMAINS")
		for _, s := range r.Senders {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", report.Clean(s.Sender), s.Messages, s.Domains)
		}
		tw.Flush()

		if len(r.PerWeek) > 0 {
			p("\nFlagged messages per week\n")
			for _, c := range r.PerWeek {
				p("  %s  %d\n", c.Period, c.Messages)
			}
			// Days only for a short period: the JSON report has them all.
			if r.Period.Days <= 31 {
				p("\nFlagged messages per day\n")
				for _, c := range r.PerDay {
					p("  %s  %d\n", c.Period, c.Messages)
				}
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
			p("  %s  %s (%.0f%%), %s", report.Clean(d.Domain), report.Plural(int(d.Messages), "message"), share, d.Verdict)
			if d.ProbablyLegitimate {
				p("; probably legitimate (%d senders since %s): to allow it, add to the config  %s", d.Senders, dayText(d.FirstSeen), d.AllowLine)
			}
			p("\n")
		}
	}

	p("\nSources\n")
	for _, s := range r.Sources {
		p("  %s: ", report.Clean(s.Name))
		if s.Error != "" {
			p("ERROR %s\n", report.Clean(s.Error))
			continue
		}
		p("%s", s.Format)
		if s.Compression != "" {
			p(" (%s)", s.Compression)
		}
		p(", %d records, %d skipped\n", s.Records, s.Problems)
	}
	if r.Problems.Total > 0 {
		p("\nSkipped: %s of input\n", report.Plural(int(r.Problems.Total), "piece"))
		for _, pr := range r.Problems.First {
			p("  %s:%d: %s\n", report.Clean(pr.Source), pr.Line, report.Clean(pr.Text))
		}
		if n := r.Problems.Total - int64(len(r.Problems.First)); n > 0 {
			p("  ... and %d more\n", n)
		}
	}
	return ew.Err
}

// MaxMessageRows is how many flagged messages the text and HTML reports list with their
// content (those carrying a category first); the JSON report lists them all.
const MaxMessageRows = 100

// contentText is a message's categories for a table: "credentials,personal", "-" for
// none, or "not checked (why)".
func contentText(m MessageRow) string {
	switch {
	case m.Skipped:
		return "not checked (" + report.Clean(m.NotRead) + ")"
	case len(m.Content) == 0:
		return "-"
	}
	return strings.Join(m.Content, ",")
}

// categoriesText is "credentials (2) personal (1)".
func categoriesText(cs []CategoryCount) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Category+" ("+itoa(c.Messages)+")")
	}
	return strings.Join(out, " ")
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
