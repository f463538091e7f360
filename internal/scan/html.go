package scan

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/report"
)

// WriteHTML writes the report as one self-contained HTML page for people who do not read
// terminals: no script, no external resource (styles inline, charts as inline SVG), so it
// can be mailed to management and opened anywhere, JavaScript on or off.
func WriteHTML(w io.Writer, r Report) error {
	return htmlPage().Execute(w, htmlView(r))
}

type pageView struct {
	R        Report
	Summary  []string
	Charts   []report.Chart
	Outcomes []report.Bar // one stacked bar: where the flagged mail went
	Total    int64
}

func htmlView(r Report) pageView {
	v := pageView{R: r, Summary: summaryLines(r)}
	if days := calendar(r.PerDay, 24*time.Hour, time.DateOnly); len(days) > 0 && len(days) <= maxColumns {
		v.Charts = append(v.Charts, report.Columns("Flagged messages per day", counts(days)))
	} else if len(r.PerWeek) > 0 {
		v.Charts = append(v.Charts, report.Columns("Flagged messages per week", counts(r.PerWeek)))
	}
	var tech []report.Count
	for _, g := range r.Prediction.ByTechnique {
		tech = append(tech, report.Count{Name: g.Name, N: int64(g.Total.Hold + g.Total.Warn + g.Total.Reject + 0.5)})
	}
	if len(tech) > 0 {
		v.Charts = append(v.Charts, report.Rows("Flagged messages by technique", tech))
	}
	var top []report.Count
	for _, d := range r.Domains[:min(len(r.Domains), 10)] {
		top = append(top, report.Count{Name: d.Domain, N: d.Messages})
	}
	if len(top) > 0 {
		v.Charts = append(v.Charts, report.Rows("Top lookalike domains (messages)", top))
	}
	var o Outcomes
	for _, d := range r.Domains {
		o.Sent += d.Outcomes.Sent
		o.Bounced += d.Outcomes.Bounced
		o.Deferred += d.Outcomes.Deferred
		o.Expired += d.Outcomes.Expired
		o.Unknown += d.Outcomes.Unknown
	}
	v.Total = o.Sent + o.Bounced + o.Deferred + o.Expired + o.Unknown
	if v.Total > 0 {
		x := 0.0
		for _, p := range []struct {
			name, class string
			n           int64
		}{{"left the organisation", "sent", o.Sent}, {"bounced", "bounced", o.Bounced}, {"deferred", "deferred", o.Deferred},
			{"expired", "expired", o.Expired}, {"unknown", "unknown", o.Unknown}} {
			if p.n == 0 {
				continue
			}
			w := float64(p.n) / float64(v.Total) * report.ChartWidth
			v.Outcomes = append(v.Outcomes, report.Bar{Label: p.name, Value: fmt.Sprint(p.n), X: x, W: w, H: 28, Class: p.class})
			x += w
		}
	}
	return v
}

// maxColumns is the most days a per-day chart shows (about a year); a longer period is
// drawn per week.
const maxColumns = 400

// calendar is cs (dated counts in order, Period in the given layout) with every step
// between the first and the last, the empty ones at zero, so that the chart's axis is time;
// nil when a period does not parse or there are more than maxColumns steps.
func calendar(cs []DayCount, step time.Duration, layout string) []DayCount {
	if len(cs) == 0 {
		return nil
	}
	first, err1 := time.Parse(layout, cs[0].Period)
	last, err2 := time.Parse(layout, cs[len(cs)-1].Period)
	if err1 != nil || err2 != nil || last.Sub(first)/step >= maxColumns {
		return nil
	}
	out := make([]DayCount, 0, last.Sub(first)/step+1)
	i := 0
	for t := first; !t.After(last); t = t.Add(step) {
		d := DayCount{Period: t.Format(layout)}
		if i < len(cs) && cs[i].Period == d.Period {
			d.Messages = cs[i].Messages
			i++
		}
		out = append(out, d)
	}
	return out
}

// summaryLines are the report's first sentences, as the text report says them.
func summaryLines(r Report) []string {
	var b strings.Builder
	WriteText(&b, Report{Schema: r.Schema, Period: r.Period, Totals: r.Totals, Sources: r.Sources,
		Senders: r.Senders, Prediction: r.Prediction, Redacted: r.Redacted, Domains: nil, Content: r.Content})
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// counts are dated counts for a chart.
func counts(cs []DayCount) []report.Count {
	out := make([]report.Count, len(cs))
	for i, c := range cs {
		out[i] = report.Count{Name: c.Period, N: c.Messages}
	}
	return out
}

// htmlPage is parsed on first use, not at start, like the binary's other templates.
var htmlPage = sync.OnceValue(func() *template.Template {
	return report.Page("scan", template.FuncMap{
		"join":    strings.Join,
		"day":     dayText,
		"f":       func(x float64) string { return fmt.Sprintf("%.1f", x) },
		"rows":    func(ms []MessageRow) []MessageRow { return ms[:min(len(ms), MaxMessageRows)] },
		"more":    func(ms []MessageRow) int { return len(ms) - MaxMessageRows },
		"maxRows": func() int { return MaxMessageRows },
		"content": contentText,
	}, `{{template "head"}}<title>rcptguard scan report</title>
<style>
{{template "style"}}
rect.sent{fill:#c0392b} rect.bounced{fill:#7f8c8d} rect.deferred{fill:#e6a23c} rect.expired{fill:#8e44ad} rect.unknown{fill:#bdc3c7}
.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
.legit{color:#2e7d32}
</style>
</head>
<body>
<main>
<h1>What went to lookalike domains</h1>
<div class="summary">{{range .Summary}}<p>{{.}}</p>{{end}}</div>
{{if .Outcomes}}<section>
<h2>Where the flagged mail went</h2>
<svg role="img" aria-label="Where the flagged mail went" width="720" height="30" viewBox="0 0 720 30">
{{range .Outcomes}}<rect class="{{.Class}}" x="{{.X}}" y="0" width="{{.W}}" height="{{.H}}"><title>{{.Label}}: {{.Value}}</title></rect>{{end}}
</svg>
<p class="legend">{{range .Outcomes}}<span><span class="sw" style="background:{{if eq .Class "sent"}}#c0392b{{else if eq .Class "bounced"}}#7f8c8d{{else if eq .Class "deferred"}}#e6a23c{{else if eq .Class "expired"}}#8e44ad{{else}}#bdc3c7{{end}}"></span>{{.Label}} {{.Value}}</span>{{end}}</p>
</section>{{end}}
{{range .Charts}}{{template "chart" .}}{{end}}
{{with .R}}{{if .Domains}}<section>
<h2>Lookalike domains</h2>
<table>
<tr><th>Domain</th><th>Looks like</th><th>Verdict</th><th>Techniques</th><th>Messages</th><th>Senders</th><th>Left</th><th>Bounced</th><th>Deferred</th><th>First</th><th>Last</th></tr>
{{range .Domains}}<tr><td>{{.Domain}}{{if .ProbablyLegitimate}} <span class="legit" title="{{.AllowLine}}">probably legitimate</span>{{end}}</td><td>{{join .Intended ", "}}</td><td>{{.Verdict}}</td><td>{{join .Techniques ", "}}</td><td class="n">{{.Messages}}</td><td class="n">{{.Senders}}</td><td class="n">{{.Outcomes.Sent}}</td><td class="n">{{.Outcomes.Bounced}}</td><td class="n">{{.Outcomes.Deferred}}</td><td>{{day .FirstSeen}}</td><td>{{day .LastSeen}}</td></tr>
{{end}}</table>
<h2>Why</h2>
<table>{{range .Domains}}<tr><td>{{.Domain}}</td><td>{{.Reason}}</td></tr>{{end}}</table>
</section>
{{with .Content}}{{if .Messages}}<section>
<h2>Flagged messages and their content</h2>
<table><tr><th>Date</th><th>Message</th><th>Sender</th><th>Domain</th><th>Verdict</th><th>Content</th></tr>
{{range rows .Messages}}<tr><td>{{day .Time}}</td><td>{{.Message}}</td><td>{{.Sender}}</td><td>{{.Domain}}</td><td>{{.Verdict}}</td><td>{{content .}}</td></tr>
{{end}}</table>
{{if gt (len .Messages) maxRows}}<p>{{more .Messages}} more: the JSON report lists them all.</p>{{end}}
</section>{{end}}{{end}}
<section>
<h2>Senders</h2>
<table><tr><th>Sender</th><th>Messages to lookalikes</th><th>Domains</th></tr>
{{range .Senders}}<tr><td>{{.Sender}}</td><td class="n">{{.Messages}}</td><td class="n">{{.Domains}}</td></tr>{{end}}
</table>
</section>
<section>
<h2>If enforcement were on</h2>
<table><tr><th></th><th>Held</th><th>Warned</th><th>Rejected</th></tr>
<tr><td>Over the period</td><td class="n">{{f .Prediction.Total.Hold}}</td><td class="n">{{f .Prediction.Total.Warn}}</td><td class="n">{{f .Prediction.Total.Reject}}</td></tr>
<tr><td>Per day</td><td class="n">{{f .Prediction.PerDay.Hold}}</td><td class="n">{{f .Prediction.PerDay.Warn}}</td><td class="n">{{f .Prediction.PerDay.Reject}}</td></tr>
<tr><td>Per 1,000 messages</td><td class="n">{{f .Prediction.Per1000.Hold}}</td><td class="n">{{f .Prediction.Per1000.Warn}}</td><td class="n">{{f .Prediction.Per1000.Reject}}</td></tr>
{{range .Prediction.BySituation}}<tr><td>situation {{.Name}}</td><td class="n">{{f .Total.Hold}}</td><td class="n">{{f .Total.Warn}}</td><td class="n">{{f .Total.Reject}}</td></tr>{{end}}
</table>
</section>{{end}}
{{if .Problems.Total}}<section>
<h2>Skipped</h2>
<p>{{.Problems.Total}} {{if eq .Problems.Total 1}}piece{{else}}pieces{{end}} of the sources could not be read; the rest was scanned.</p>
<table>{{range .Problems.First}}<tr><td>{{.Source}}:{{.Line}}</td><td>{{.Text}}</td></tr>{{end}}</table>
</section>{{end}}{{end}}
<p style="color:#777;font-size:12px">Made by rcptguard scan ({{.R.Schema}}). Addresses and counts only; no message content{{if .R.Content}} (only the names of the categories the flagged messages carry){{end}}.</p>
</main>
</body>
</html>
`)
})
