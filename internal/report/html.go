package report

import (
	"fmt"
	"html/template"
)

// Bar is one bar of a chart, its geometry worked out in Go so that the template only
// places it.
type Bar struct {
	Label, Value string
	X, Y, W, H   float64
	Class        string
}

// Chart is an inline SVG bar chart (template "chart").
type Chart struct {
	Title      string
	Width      int
	Height     int
	Bars       []Bar
	Horizontal bool
}

// Count is one named count of a chart.
type Count struct {
	Name string
	N    int64
}

// ChartWidth is the width of every chart, in pixels.
const ChartWidth = 720

// Columns is a vertical bar chart of counts in order (days or weeks); the first and the
// last are labelled under the axis.
func Columns(title string, cs []Count) Chart {
	const h, top = 160.0, 10.0
	c := Chart{Title: title, Width: ChartWidth, Height: int(h + 40)}
	var most int64 = 1
	for _, d := range cs {
		most = max(most, d.N)
	}
	step := float64(ChartWidth) / float64(len(cs))
	for i, d := range cs {
		bh := float64(d.N) / float64(most) * (h - top)
		b := Bar{Value: fmt.Sprintf("%s: %d", d.Name, d.N), X: float64(i) * step, Y: h - bh, W: max(step*0.8, 1), H: bh}
		switch {
		case i == 0:
			b.Label, b.Class = d.Name, "start"
		case i == len(cs)-1:
			b.Label, b.Class = d.Name, "end"
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// Rows is a horizontal bar chart of named counts.
func Rows(title string, cs []Count) Chart {
	const rowH, labelW = 22.0, 240.0
	c := Chart{Title: title, Width: ChartWidth, Height: int(rowH*float64(len(cs)) + 10), Horizontal: true}
	var most int64 = 1
	for _, d := range cs {
		most = max(most, d.N)
	}
	for i, d := range cs {
		c.Bars = append(c.Bars, Bar{Label: d.Name, Value: fmt.Sprint(d.N),
			X: labelW, Y: float64(i) * rowH, W: max(float64(d.N)/float64(most)*(ChartWidth-labelW-60), 1), H: rowH - 6})
	}
	return c
}

// Page parses a report page: page starts with {{template "head"}} (the doctype and the
// head's first lines, up to its <title>), may use {{template "style"}} inside its <style>
// element (the shared look: fonts, sections, tables, bars) and {{template "chart" .}} for a
// Chart.
// The page must stay self-contained: no script, no external resource.
func Page(name string, funcs template.FuncMap, page string) *template.Template {
	return template.Must(template.Must(template.New(name).Funcs(funcs).Parse(shared)).Parse(page))
}

const shared = `{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{end}}{{define "style"}}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2127;margin:0;background:#f6f7f9}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 12px}
h2{font-size:18px;margin:28px 0 8px}
.summary p{margin:4px 0}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:16px;margin:16px 0;overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff2;vertical-align:top}
th{background:#f0f2f5}
td.n{text-align:right;font-variant-numeric:tabular-nums}
svg text{font:12px system-ui,sans-serif;fill:#1d2127}
rect.b{fill:#3b6fb6}
{{end}}{{define "chart"}}<section>
<h2>{{.Title}}</h2>
<svg role="img" aria-label="{{.Title}}" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
{{if .Horizontal}}{{range .Bars}}<text x="0" y="{{.Y}}" dy="13">{{.Label}}</text><rect class="b" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Label}}: {{.Value}}</title></rect><text x="{{.X}}" dx="{{.W}}" y="{{.Y}}" dy="13"> {{.Value}}</text>
{{end}}{{else}}{{range .Bars}}<rect class="b" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Value}}</title></rect>{{if .Label}}<text x="{{if eq .Class "end"}}{{.X}}" dx="{{.W}}{{else}}{{.X}}{{end}}" y="190" text-anchor="{{.Class}}">{{.Label}}</text>{{end}}
{{end}}{{end}}</svg>
</section>{{end}}`
