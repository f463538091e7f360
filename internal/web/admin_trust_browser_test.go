package web

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestAdminTrustBrowser drives the trusted domains page in headless Chromium: a proposal
// trusted in one click, a protected lookalike trusted only after the second
// confirmation, a trust withdrawn, and the trust audit log, without JavaScript and on a
// phone-sized window.
func TestAdminTrustBrowser(t *testing.T) {
	bctx := testenv.Browser(t)
	dir := testenv.ScreenshotDir(t)

	f := newAdminFixture(t)
	f.withTrust(t)
	f.confirmBy(t, "fabrikarn.com", "a@example.org", "b@example.org", "c@example.org")
	srv := httptest.NewServer(f.h)
	defer srv.Close()

	err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="user"]`), adminUser),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), adminPass),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "Messages: held")]`)),
		chromedp.Click(chromedp.Search(`//nav//a[normalize-space()="Trusted domains"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space()="Proposed by senders"]`)),
	)
	if err != nil {
		t.Fatalf("open the trusted domains page: %v", err)
	}
	page := run(t, bctx, chromedp.Text(chromedp.CSS("main")))
	for _, s := range []string{"fabrikarn.com", "fabrikam.com", "No domain is trusted"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q:\n%s", s, page)
		}
	}
	if w := run(t, bctx, chromedp.Evaluate[[]float64](`[window.innerWidth, document.documentElement.scrollWidth]`)); w[1] > w[0] {
		t.Errorf("page is %v px wide in a %v px window", w[1], w[0])
	}
	writeShot(t, filepath.Join(dir, "admin-trust-proposal.png"), run(t, bctx, chromedp.FullScreenshot(100)))

	// One click trusts the proposal.
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Trust fabrikarn.com"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Remove fabrikarn.com"]`)),
	)
	if err != nil {
		t.Fatalf("trust the proposal: %v", err)
	}
	// A protected lookalike asks a second time, saying why.
	err = chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS(`#add ~ form input[name="domain"]`), "army.ml"),
		chromedp.SendKeys(chromedp.CSS(`#add ~ form input[name="note"]`), "the Malian army"),
		chromedp.Click(chromedp.Search(`//form//button[normalize-space()="Trust"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Trust army.ml anyway"]`)),
	)
	if err != nil {
		t.Fatalf("trust army.ml: %v", err)
	}
	confirm := run(t, bctx, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(confirm, "army.mil, which is protected") || !strings.Contains(confirm, "was not trusted") {
		t.Errorf("confirmation page:\n%s", confirm)
	}
	if l, _ := f.store.TrustedDomains(context.Background()); len(l) != 1 {
		t.Fatalf("army.ml trusted before the second confirmation: %+v", l)
	}
	writeShot(t, filepath.Join(dir, "admin-trust-confirm.png"), run(t, bctx, chromedp.FullScreenshot(100)))
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Trust army.ml anyway"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Remove army.ml"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Remove fabrikarn.com"]`)),
		chromedp.WaitNotPresent(chromedp.Search(`//button[normalize-space()="Remove fabrikarn.com"]`)),
	)
	if err != nil {
		t.Fatalf("confirm army.ml, remove fabrikarn.com: %v", err)
	}
	page = run(t, bctx, chromedp.Text(chromedp.CSS("main")))
	for _, s := range []string{"trusted despite a warning", "the Malian army", "withdrawn", "proposed: confirmed by 3 senders", "admin:root"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q:\n%s", s, page)
		}
	}
	l, _ := f.store.TrustedDomains(context.Background())
	if len(l) != 1 || l[0].Domain != "army.ml" || !l[0].Forced {
		t.Errorf("trusted at the end: %+v", l)
	}
	writeShot(t, filepath.Join(dir, "admin-trust.png"), run(t, bctx, chromedp.FullScreenshot(100)))
}
