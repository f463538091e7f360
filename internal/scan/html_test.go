package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// htmlReport is a report of some flagged mail over a few days.
func htmlReport(t *testing.T) Report {
	t.Helper()
	ta := NewTally(testGuard(t), at(0, 0).AddDate(0, 0, -30), at(30, 0))
	for i := range 12 {
		ta.Add(Record{Time: at(i%5, i), Sender: "alice@corp.example", Recipient: "bob@gmai.com", Outcome: Sent, Message: "Q" + string(rune('a'+i)), Source: "log"})
	}
	ta.Add(
		Record{Time: at(2, 0), Sender: "<bob&co>@corp.example", Recipient: "x@gmial.com", Outcome: Bounced, Message: "B1", Source: "log"},
		Record{Time: at(3, 0), Sender: "carol@corp.example", Recipient: "y@outlok.com", Outcome: Deferred, Message: "C1", Source: "log"},
		Record{Time: at(3, 0), Sender: "carol@corp.example", Recipient: "z@example.org", Outcome: Sent, Message: "C2", Source: "log"},
	)
	return Build(ta, []SourceResult{{Name: "log", Format: "test", Records: 15}}, Options{})
}

// TestHTMLIsSelfContained: the page has no script and no external resource, escapes what
// the mail brought (a sender with markup), and carries its charts as inline SVG.
func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, htmlReport(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "src=", "href=", "http://", "https://", "@import", "url(", "<bob&co>"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, want := range []string{"gmai.com", "gmail.com", "gmial.com", "&lt;bob&amp;co&gt;@corp.example", "Flagged messages per day",
		"Where the flagged mail went", "left the organisation 12", "If enforcement were on"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`<svg `).FindAllString(page, -1)); n < 3 {
		t.Errorf("%d inline SVG charts, want at least 3", n)
	}
}

// TestHTMLRendersInChromiumWithoutJavaScript opens the page from a file in a real headless
// Chromium with JavaScript switched off and saves a screenshot (docs/scan.md shows it).
func TestHTMLRendersInChromiumWithoutJavaScript(t *testing.T) {
	bctx := testenv.Browser(t)
	path := filepath.Join(t.TempDir(), "report.html")
	var b bytes.Buffer
	if err := WriteHTML(&b, htmlReport(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	text := testenv.OpenWithoutJavaScript(t, bctx, path, 1100, 900, "main")
	for _, want := range []string{"What went to lookalike domains", "gmai.com", "Lookalike domains", "If enforcement were on"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page lacks %q:\n%s", want, text)
		}
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	testenv.SaveScreenshot(t, testenv.ScreenshotDir(t), "scan-report.png", png)
}

// TestPerDayChartHasATimeAxis: days without flagged mail are drawn as empty columns, and a
// period too long for one column a day is drawn per week.
func TestPerDayChartHasATimeAxis(t *testing.T) {
	got := calendar([]DayCount{{"2026-01-30", 2}, {"2026-02-02", 1}}, 24*time.Hour, time.DateOnly)
	want := []DayCount{{"2026-01-30", 2}, {"2026-01-31", 0}, {"2026-02-01", 0}, {"2026-02-02", 1}}
	if !slices.Equal(got, want) {
		t.Errorf("calendar = %v, want %v", got, want)
	}
	long := []DayCount{{"2020-01-01", 1}, {"2026-01-01", 1}}
	if got := calendar(long, 24*time.Hour, time.DateOnly); got != nil {
		t.Errorf("six years a column a day: %d columns", len(got))
	}
	v := htmlView(Report{PerDay: long, PerWeek: []DayCount{{"2020-W01", 1}, {"2026-W01", 1}}})
	if len(v.Charts) != 1 || v.Charts[0].Title != "Flagged messages per week" {
		t.Errorf("charts of six years: %+v", v.Charts)
	}
}
