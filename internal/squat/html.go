package squat

import (
	"html/template"
	"io"
	"strings"
	"sync"

	"github.com/rcptguard/rcptguard/internal/report"
)

// WriteHTML writes the report as one self-contained HTML page: no script, no external
// resource (styles inline, charts as inline SVG), so it can be mailed and opened anywhere,
// JavaScript on or off.
func WriteHTML(w io.Writer, r Report) error {
	v := htmlView{R: r, Summary: Summary(r)}
	var per []report.Count
	for _, d := range r.Domains {
		per = append(per, report.Count{Name: d.Display, N: d.CanReceive})
	}
	if len(per) > 0 {
		v.Charts = append(v.Charts, report.Rows("Lookalikes that can receive mail, per domain", per))
	}
	var fs []report.Count
	for _, f := range r.Farms[:min(len(r.Farms), 10)] {
		fs = append(fs, report.Count{Name: f.Host, N: int64(f.Lookalikes)})
	}
	if len(fs) > 0 {
		v.Charts = append(v.Charts, report.Rows("Catch-all farms (lookalikes served)", fs))
	}
	return htmlPage().Execute(w, v)
}

type htmlView struct {
	R       Report
	Summary []string
	Charts  []report.Chart
}

// htmlPage is parsed on first use, not at start: every command of the binary would pay
// for it otherwise.
var htmlPage = sync.OnceValue(func() *template.Template {
	return report.Page("squat", template.FuncMap{
		"mail":         MailText,
		"changesTitle": ChangesTitle,
		"mx":           func(ms []MX) string { return mxText(ms, ", ") },
		"join":         strings.Join,
	}, `{{template "head"}}<title>rcptguard squat report</title>
<style>
{{template "style"}}
tr.mail td:first-child{font-weight:600;color:#c0392b}
</style>
</head>
<body>
<main>
<h1>Who holds lookalikes of our domains</h1>
<div class="summary">{{range .Summary}}<p>{{.}}</p>{{end}}</div>
{{range .Charts}}{{template "chart" .}}{{end}}
{{with .R}}<section>
<h2>Domains</h2>
<table>
<tr><th>Domain</th><th>Why</th><th>Lookalikes</th><th>Registered</th><th>Can receive mail</th><th>Unknown</th></tr>
{{range .Domains}}<tr><td>{{.Display}}</td><td>{{.Why}}</td><td class="n">{{.Generated}}</td><td class="n">{{.Registered}}</td><td class="n">{{.CanReceive}}</td><td class="n">{{.Unknown}}</td></tr>
{{end}}</table>
</section>
{{if .Lookalikes}}<section>
<h2>Registered lookalikes</h2>
<table>
<tr><th>Lookalike</th><th>Of</th><th>Technique</th><th>Mail</th><th>Farm</th><th>MX</th><th>NS</th></tr>
{{range .Lookalikes}}<tr{{if .CanReceive}} class="mail"{{end}}><td>{{.Display}}{{if ne .Display .Domain}} ({{.Domain}}){{end}}</td><td>{{.Of}}</td><td>{{.Technique}}</td><td>{{mail .}}</td><td>{{.Farm}}</td><td>{{mx .MX}}</td><td>{{join .NS ", "}}</td></tr>
{{end}}</table>
</section>{{end}}
{{if .Farms}}<section>
<h2>Catch-all farms</h2>
<p>Mail hosts that receive the mail of {{.FarmMin}} lookalikes or more; shared mail hosts (Google Workspace, Microsoft 365, mail gateways) are never counted.</p>
<table><tr><th>Farm</th><th>Lookalikes</th><th>MX hosts</th><th>Lookalikes served</th></tr>
{{range .Farms}}<tr><td>{{.Host}}</td><td class="n">{{.Lookalikes}}</td><td>{{join .MXHosts ", "}}</td><td>{{join .Domains ", "}}</td></tr>{{end}}
</table>
</section>{{end}}
{{with .Changes}}<section>
<h2>{{changesTitle .}}</h2>
{{if .Items}}<table>{{range .Items}}<tr{{if .Owner}} class="mail"{{end}}><td>{{.Text}}</td></tr>{{end}}</table>{{end}}
</section>{{end}}
{{if .Unknown.Total}}<section>
<h2>Could not be looked up ({{.Unknown.Total}})</h2>
<table>{{range .Unknown.First}}<tr><td>{{.Domain}}</td><td>{{.Of}}</td><td>{{.Error}}</td></tr>{{end}}</table>
</section>{{end}}{{end}}
<p style="color:#777;font-size:12px">Made by rcptguard squat ({{.R.Schema}}). DNS answers only; nothing was sent to the lookalikes.</p>
</main>
</body>
</html>
`)
})
