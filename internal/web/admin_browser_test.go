package web

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestAdminBrowser signs in through the real form in headless Chromium (phone-sized),
// opens the queue and a held message, and the statistics: the pages work without
// JavaScript under the strict CSP (the inline style applies, the SVG chart renders).
func TestAdminBrowser(t *testing.T) {
	bctx := testenv.Browser(t)
	dir := testenv.ScreenshotDir(t)

	f := newAdminFixture(t)
	f.clk.Advance(-2 * 24 * time.Hour)
	f.hold(t, sampleMessage("Invoice 4711"), rawMessage)
	f.clk.Advance(2 * 24 * time.Hour)
	srv := httptest.NewServer(f.h)
	defer srv.Close()

	// Any admin page sends a browser without a session to the sign-in form.
	err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/admin/stats"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="user"]`), adminUser),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), adminPass),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "Messages: held")]`)),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	queue := run(t, bctx, chromedp.Text(chromedp.CSS("main")))
	for _, s := range []string{"Orders for Monday", "Invoice 4711", "bob@arrny.mil", "looks like army.mil", "held"} {
		if !strings.Contains(queue, s) {
			t.Errorf("queue lacks %q:\n%s", s, queue)
		}
	}
	// The inline style block applies under the CSP: the admin layout is the wide one.
	if w := run(t, bctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("main")).maxWidth`)); w != "1152px" {
		t.Errorf("main max-width %q: inline style blocked by the CSP?", w)
	}
	if w := run(t, bctx, chromedp.Evaluate[[]float64](`[window.innerWidth, document.documentElement.scrollWidth]`)); w[1] > w[0] {
		t.Errorf("queue is %v px wide in a %v px window", w[1], w[0])
	}
	writeShot(t, filepath.Join(dir, "admin-queue.png"), run(t, bctx, chromedp.FullScreenshot(100)))

	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.Search(`//a[normalize-space()="Orders for Monday"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Headers"]`)),
	)
	if err != nil {
		t.Fatalf("open message: %v", err)
	}
	msg := run(t, bctx, chromedp.Text(chromedp.CSS("main")))
	for _, s := range []string{"alice@example.org", "Release to army.mil instead", "Discard", "Subject: Orders", "orders.pdf", "rn-m"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message page lacks %q:\n%s", s, msg)
		}
	}
	writeShot(t, filepath.Join(dir, "admin-message.png"), run(t, bctx, chromedp.FullScreenshot(100)))

	// Release to the suggested domain through the form: back on the message, released.
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Release to army.mil instead"]`)),
		chromedp.WaitVisible(chromedp.Search(`//dd[normalize-space()="released-corrected"]`)),
	)
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if calls := f.decider.Calls(); len(calls) != 1 || calls[0].choice != "correct" || calls[0].actor != "admin:root" {
		t.Errorf("decider calls %+v", calls)
	}

	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.Search(`//a[normalize-space()="Statistics"]`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`)),
	)
	if err != nil {
		t.Fatalf("open statistics: %v", err)
	}
	bars := run(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect.bar").length`))
	if bars != 30 {
		t.Errorf("%d bars, want 30", bars)
	}
	// Nothing is wider than the screen (headless Chromium's narrowest window is 500 px).
	widths := run(t, bctx, chromedp.Evaluate[[]float64](`[window.innerWidth, document.documentElement.scrollWidth,
		document.querySelector("svg.chart").getBoundingClientRect().width]`))
	if len(widths) != 3 || widths[1] > widths[0] || widths[2] > widths[0] || widths[2] < 200 {
		t.Errorf("window, page and chart widths %v: the page does not fit a phone", widths)
	}
	writeShot(t, filepath.Join(dir, "admin-stats.png"), run(t, bctx, chromedp.FullScreenshot(100)))
}
