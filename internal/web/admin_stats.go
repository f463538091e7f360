package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// statsDays is how many days the statistics page covers, today included.
const statsDays = 30

// techniqueLabels name the engine's techniques (engine.Technique.String) as kinds of
// mistake.
var techniqueLabels = map[string]string{
	"suffix-typo":     "wrong top-level domain (army.ml for army.mil)",
	"appended-suffix": "domain with a suffix added (army.mil.ml)",
	"homoglyph":       "letter from another script (Cyrillic а)",
	"visual":          "letters that look alike (rn for m, 0 for o)",
	"doppelganger":    "dot dropped or added (usibm.com)",
	"hyphenation":     "hyphen dropped or added (tonline.de)",
	"omission":        "letter left out (gmai.com)",
	"repetition":      "letter doubled (gmaill.com)",
	"transposition":   "letters swapped (gmial.com)",
	"insertion":       "neighbouring key added (gmaikl.com)",
	"replacement":     "neighbouring key instead (gmaol.com)",
	"vowel-swap":      "wrong vowel (gmeil.com)",
	"bitsquat":        "one bit flipped (gmaid.com)",
	"plural":          "plural (fabrikams.com)",
	"addition":        "letter added",
}

// chart is a server-rendered SVG bar chart; every number is preformatted.
type chart struct {
	W, H           int
	X0, Y0, X1, Y1 string // the axes' ends: (X0,Y1) top left, (X1,Y0) bottom right
	Bars           []chartBar
	Labels         []chartLabel
	Total, Max     int
	Label          string
}

type chartBar struct {
	X, Y, W, H, Title string
	N                 int
	Day               string
}

type chartLabel struct {
	X, Y, Anchor, Text string
}

func ff(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// dayChart draws one bar per day.
func dayChart(days []quarantine.DayCount) chart {
	const (
		w, h                     = 640, 240
		left, right, top, bottom = 34.0, 6.0, 12.0, 26.0
		plotW, plotH             = w - left - right, h - top - bottom
		gap                      = 0.2 // of a bar's slot
		labelEvery               = 7
		labelFormat, full        = "2 Jan", "Mon 2 Jan 2006"
	)
	c := chart{W: w, H: h, X0: ff(left), X1: ff(w - right), Y0: ff(top + plotH), Y1: ff(top)}
	for _, d := range days {
		c.Total += d.N
		c.Max = max(c.Max, d.N)
	}
	scale := max(c.Max, 1)
	slot := plotW / float64(max(len(days), 1))
	for i, d := range days {
		bh := plotH * float64(d.N) / float64(scale)
		x := left + float64(i)*slot + slot*gap/2
		title := d.Day.Format(full) + ": " + strconv.Itoa(d.N) + " held"
		c.Bars = append(c.Bars, chartBar{X: ff(x), Y: ff(top + plotH - bh), W: ff(slot * (1 - gap)), H: ff(bh),
			Title: title, N: d.N, Day: d.Day.Format(full)})
		if (len(days)-1-i)%labelEvery == 0 {
			c.Labels = append(c.Labels, chartLabel{X: ff(x + slot*(1-gap)/2), Y: ff(h - 8), Anchor: "middle",
				Text: d.Day.Format(labelFormat)})
		}
	}
	c.Labels = append(c.Labels,
		chartLabel{X: ff(left - 4), Y: ff(top + plotH), Anchor: "end", Text: "0"},
		chartLabel{X: ff(left - 4), Y: ff(top + 8), Anchor: "end", Text: strconv.Itoa(c.Max)})
	c.Label = "Messages held per day, last " + strconv.Itoa(len(days)) + " days: " + strconv.Itoa(c.Total) + " in all"
	return c
}

type countRow struct {
	Key, Label string
	N, Max     int
}

func countRows(cs []quarantine.Count, labels map[string]string) []countRow {
	m := 0
	for _, c := range cs {
		m = max(m, c.N)
	}
	out := make([]countRow, 0, len(cs))
	for _, c := range cs {
		out = append(out, countRow{Key: c.Key, Label: labels[c.Key], N: c.N, Max: m})
	}
	return out
}

func (a *Admin) stats(w http.ResponseWriter, r *http.Request) {
	if a.Stats == nil {
		a.problem(w, r, http.StatusServiceUnavailable, "Not available", "Statistics are not available here.")
		return
	}
	today := a.now().UTC().Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(statsDays - 1))
	st, err := a.Stats.Stats(r.Context(), since)
	if err != nil {
		a.internal(w, r, "statistics", err)
		return
	}
	a.render(w, r, http.StatusOK, "admin_stats.html", map[string]any{
		"Title": "Statistics", "Nav": "stats", "Since": since.Format("2 January 2006"),
		"Chart":      dayChart(st.HeldPerDay),
		"Techniques": countRows(st.ByTechnique, techniqueLabels),
		"Domains":    countRows(st.TopDomains, nil),
		"States":     countRows(st.ByState, nil),
	})
}
