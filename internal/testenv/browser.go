package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// Browser starts a headless Chromium sized like a phone and returns a chromedp context
// for it, ended with the test. Without Chromium the test is skipped, or fails under CI.
func Browser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		skipOrFatal(t, ChromiumPath+" is missing; run scripts/install-test-deps.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(412, 915),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(bcancel)
	return bctx
}

// ScreenshotDir is the folder screenshots go to: $RCPTGUARD_SCREENSHOTS, or a temporary
// folder. It is logged so that a person can find the pictures.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("RCPTGUARD_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "rcptguard-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// SaveScreenshot writes a PNG into dir, failing the test if png is not one.
func SaveScreenshot(t testing.TB, dir, name string, png []byte) {
	t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("%s: not a PNG (%d bytes)", name, len(png))
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// OpenWithoutJavaScript opens the local file path in the browser with JavaScript switched
// off, in a viewport of width by height pixels, waits until the element sel is visible and
// returns its text: how a self-contained report must read without scripts.
func OpenWithoutJavaScript(t testing.TB, bctx context.Context, path string, width, height int64, sel string) string {
	t.Helper()
	noJS := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	if err := chromedp.Do(bctx, noJS, chromedp.EmulateViewport(width, height),
		chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	text, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return text
}
