package squat

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rcptguard/rcptguard/internal/report"
)

// WriteJSON writes the report as one JSON document (schema in docs/squat.md).
func WriteJSON(w io.Writer, r Report) error {
	return report.WriteJSON(w, r)
}

// CSVHeader is the CSV report's header: one row per registered lookalike.
var CSVHeader = []string{"of", "domain", "display", "technique", "status", "can_receive_mail", "null_mx", "mx", "ns",
	"a", "aaaa", "farm"}

// WriteCSV writes one row per registered lookalike, after CSVHeader; lists are
// space-separated. Cells that a spreadsheet would run as a formula get a quote in front.
func WriteCSV(w io.Writer, r Report) error {
	c := csv.NewWriter(w)
	c.Write(CSVHeader)
	for _, l := range r.Lookalikes {
		row := []string{l.Of, l.Domain, l.Display, l.Technique, l.Status, strconv.FormatBool(l.CanReceive),
			strconv.FormatBool(l.NullMX), mxText(l.MX, " "), strings.Join(l.NS, " "), addrText(l.A), addrText(l.AAAA), l.Farm}
		for i, v := range row {
			row[i] = report.Cell(v)
		}
		c.Write(row)
	}
	c.Flush()
	return c.Error()
}

// Summary are the report's first sentences, for the text and HTML reports.
func Summary(r Report) []string {
	t := r.Totals
	out := []string{fmt.Sprintf("rcptguard squat: %s of %s looked up in DNS.", report.Plural(int(t.Generated), "lookalike"),
		report.Plural(t.Domains, "domain"))}
	if t.CanReceive == 0 {
		out = append(out, fmt.Sprintf("No registered lookalike can receive mail: %d registered, %d not registered, %d could not be looked up.",
			t.Registered, t.NotRegistered, t.Unknown))
	} else {
		out = append(out, fmt.Sprintf("%s can receive mail: mail mistyped to them is delivered to someone else. %d registered, %d not registered, %d could not be looked up.",
			report.Plural(int(t.CanReceive), "registered lookalike"), t.Registered, t.NotRegistered, t.Unknown))
	}
	for _, f := range r.Farms {
		out = append(out, fmt.Sprintf("Catch-all farm: %s receives the mail of %d lookalikes.", report.Clean(f.Host), f.Lookalikes))
	}
	if t.Unknown > 0 {
		out = append(out, "What could not be looked up is neither registered nor free: run again, or ask another resolver.")
	}
	return out
}

// WriteText writes the report for a terminal: the summary, then tables.
func WriteText(w io.Writer, r Report) error {
	ew := &report.ErrWriter{W: w}
	p := func(format string, a ...any) { fmt.Fprintf(ew, format, a...) }
	for _, l := range Summary(r) {
		p("%s\n", l)
	}
	p("\nDomains\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tWHY\tLOOKALIKES\tREGISTERED\tCAN RECEIVE MAIL\tUNKNOWN")
	for _, d := range r.Domains {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", name(d.Display, d.Domain), d.Why, d.Generated, d.Registered, d.CanReceive, d.Unknown)
	}
	tw.Flush()
	if len(r.Lookalikes) > 0 {
		p("\nRegistered lookalikes\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LOOKALIKE\tOF\tTECHNIQUE\tMAIL\tFARM\tMX\tNS")
		for _, l := range r.Lookalikes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name(l.Display, l.Domain), l.Of, l.Technique, MailText(l),
				dash(report.Clean(l.Farm)), dash(report.Clean(mxText(l.MX, ","))), dash(report.Clean(strings.Join(l.NS, ","))))
		}
		tw.Flush()
	}
	if len(r.Farms) > 0 {
		p("\nCatch-all farms (mail hosts serving %d lookalikes or more)\n", r.FarmMin)
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FARM\tLOOKALIKES\tMX HOSTS")
		for _, f := range r.Farms {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", report.Clean(f.Host), f.Lookalikes, report.Clean(strings.Join(f.MXHosts, ",")))
		}
		tw.Flush()
	}
	if c := r.Changes; c != nil {
		p("\n%s\n", ChangesTitle(*c))
		for _, it := range c.Items {
			p("  %s\n", report.Clean(it.Text))
		}
	}
	if r.Unknown.Total > 0 {
		p("\nCould not be looked up (%d)\n", r.Unknown.Total)
		for _, f := range r.Unknown.First {
			p("  %s (of %s): %s\n", f.Domain, f.Of, report.Clean(f.Error))
		}
		if n := r.Unknown.Total - int64(len(r.Unknown.First)); n > 0 {
			p("  ... and %d more\n", n)
		}
	}
	return ew.Err
}

// ChangesTitle heads the changes of a --watch run.
func ChangesTitle(c Changes) string {
	switch {
	case c.Since == nil:
		return "Changes: none yet (the first watch run: what it found is the baseline)"
	case len(c.Items) == 0:
		return "No change since the last run (" + c.Since.UTC().Format("2006-01-02 15:04 UTC") + ")"
	}
	return fmt.Sprintf("Changed since the last run (%s): %d", c.Since.UTC().Format("2006-01-02 15:04 UTC"), len(c.Items))
}

// MailText says whether a registered lookalike can receive mail, and how.
func MailText(l Lookalike) string {
	switch {
	case l.NullMX:
		return "no (null MX)"
	case l.CanReceive && len(l.MX) == 0:
		return "yes (address, no MX)"
	case l.CanReceive:
		return "yes"
	}
	return "no (no MX, no address)"
}

// name is "gmаil.com (xn--gmil-63d.com)" for a name whose display differs.
func name(display, ascii string) string {
	if display == ascii || display == "" {
		return ascii
	}
	return report.Clean(display) + " (" + ascii + ")"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mxText(mx []MX, sep string) string {
	hs := make([]string, len(mx))
	for i, m := range mx {
		hs[i] = m.Host
	}
	return strings.Join(hs, sep)
}

func addrText(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}
