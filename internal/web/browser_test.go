package web

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestBrowser drives the page in a real headless Chromium: no JavaScript on the page,
// the inline style allowed by the CSP hash, and the correct button records the choice.
func TestBrowser(t *testing.T) {
	bctx := testenv.Browser(t)
	dir := testenv.ScreenshotDir(t)

	m := sampleMessage("Orders for Monday")
	m.Content = []string{"credentials", "personal"} // what content rules found in it
	f := newFixtureWith(t, m)
	srv := httptest.NewServer(f.h)
	defer srv.Close()

	err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/v/"+f.viewTok),
		chromedp.WaitVisible(chromedp.CSS("main")),
	)
	if err != nil {
		t.Fatalf("open page: %v", err)
	}
	summary := run(t, bctx, chromedp.Text(chromedp.CSS("main")))
	buttonBG := run(t, bctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("button.primary")).backgroundColor`))
	before := run(t, bctx, chromedp.FullScreenshot(100))
	for _, s := range []string{"Orders for Monday", "bob@arrny.mil", "looks like army.mil", "carol@example.net",
		"orders.pdf", "It seems to carry a password, key or token and personal data", "Send as addressed", "Send to army.mil instead", "Discard the message"} {
		if !strings.Contains(summary, s) {
			t.Errorf("page text lacks %q:\n%s", s, summary)
		}
	}
	if buttonBG != "rgb(26, 95, 180)" {
		t.Errorf("primary button background %q: inline style blocked by the CSP?", buttonBG)
	}
	writeShot(t, filepath.Join(dir, "validation-before.png"), before)

	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Send to army.mil instead"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "Sent to army.mil instead")]`)),
	)
	if err != nil {
		t.Fatalf("click: %v", err)
	}
	done := run(t, bctx, chromedp.Text(chromedp.CSS("main")))
	after := run(t, bctx, chromedp.FullScreenshot(100))
	writeShot(t, filepath.Join(dir, "validation-after.png"), after)
	if !strings.Contains(done, "changed to army.mil") {
		t.Errorf("confirmation text:\n%s", done)
	}
	if s := f.state(t); s != quarantine.ReleasedCorrected {
		t.Errorf("state %v, want released-corrected", s)
	}
	if calls := f.releaser.Calls(); len(calls) != 1 || calls[0] != (call{f.id, held.Correct}) {
		t.Errorf("releaser calls %+v", calls)
	}
}

func writeShot(t *testing.T, path string, png []byte) {
	t.Helper()
	testenv.SaveScreenshot(t, filepath.Dir(path), filepath.Base(path), png)
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
