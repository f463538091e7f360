package squat

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/setup"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, factsReport(t)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"rcptguard squat: 7 lookalikes of 1 domain looked up in DNS.\n",
		"4 registered lookalikes can receive mail",
		"Catch-all farm: farm.example receives the mail of 3 lookalikes.",
		"aarmy.mil  army.mil  substitution  no (null MX)",
		"yes (address, no MX)",
		"amy.mil (of army.mil): SERVFAIL from 127.0.0.1:53",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the text lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteCSVAndJSON(t *testing.T) {
	r := factsReport(t)
	var b bytes.Buffer
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+5 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("rows %q", rows)
	}
	if got := strings.Join(rows[4], "|"); got != "army.mil|arny.mil|arny.mil|substitution|registered|true|false|mx1.farm.example mx2.farm.example|ns1.farm.example|||farm.example" {
		t.Errorf("row %s", got)
	}
	b.Reset()
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != Schema || len(doc["lookalikes"].([]any)) != 5 || len(doc["farms"].([]any)) != 1 {
		t.Errorf("json %s", b.String())
	}
	first := doc["lookalikes"].([]any)[0].(map[string]any)
	if first["domain"] != "armv.mil" || first["mx"].([]any)[0].(map[string]any)["host"] != "mx1.farm.example" {
		t.Errorf("first lookalike %v", first)
	}
}

// The exported block list is a config that loads, and it blocks exactly the lookalikes
// that can receive mail.
func TestBlockListLoads(t *testing.T) {
	data, err := BlockList(factsReport(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "block.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	var got []string
	for _, e := range cfg.Block {
		got = append(got, e.String())
	}
	if strings.Join(got, " ") != "armv.mil army.com army.ml arny.mil" {
		t.Errorf("block %v\n%s", got, data)
	}
	g, err := setup.Guard(cfg, setup.Extra{})
	if err != nil {
		t.Fatal(err)
	}
	if d := g.Check("someone@army.ml"); d.Verdict.String() != "reject" {
		t.Errorf("army.ml: %s %s", d.Verdict, d.Reason)
	}
	empty, err := BlockList(Report{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Parse(empty, "empty.yaml"); err != nil {
		t.Errorf("the empty block list does not load: %v\n%s", err, empty)
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	r := factsReport(t)
	r.Lookalikes[0].NS = []string{"<b>ns</b>.example"}
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "src=", "href=", "http://", "https://", "@import", "url(", "<b>ns"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, want := range []string{"Who holds lookalikes of our domains", "Catch-all farms", "farm.example", "&lt;b&gt;ns", "no (null MX)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`<svg `).FindAllString(page, -1)); n != 2 {
		t.Errorf("%d inline SVG charts, want 2", n)
	}
}

// TestHTMLRendersInChromiumWithoutJavaScript opens the page from a file in a real headless
// Chromium with JavaScript off and saves a screenshot.
func TestHTMLRendersInChromiumWithoutJavaScript(t *testing.T) {
	bctx := testenv.Browser(t)
	path := filepath.Join(t.TempDir(), "squat.html")
	var b bytes.Buffer
	if err := WriteHTML(&b, factsReport(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	text := testenv.OpenWithoutJavaScript(t, bctx, path, 1100, 900, "main")
	for _, want := range []string{"Who holds lookalikes of our domains", "arny.mil", "Catch-all farms", "Registered lookalikes"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page lacks %q:\n%s", want, text)
		}
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	testenv.SaveScreenshot(t, testenv.ScreenshotDir(t), "squat-report.png", png)
}
