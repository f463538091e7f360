package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/scan"
)

// TestScanContentOfAnMbox: testdata/scan-content.mbox holds a message to a warned
// lookalike with a password in a base64 attachment, one to the same lookalike inviting
// to lunch, and one with a password to an ordinary domain. With content checks on (by
// --content on, or by content.enabled in the config) the report names credentials for
// the first only, holds it in the prediction, and does not read the third.
func TestScanContentOfAnMbox(t *testing.T) {
	mbox := filepath.Join("testdata", "scan-content.mbox")
	cfg := filepath.Join(t.TempDir(), "content.yaml")
	if err := os.WriteFile(cfg, []byte("content:\n  enabled: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--content", "on"}, {"--config", cfg}} {
		r := run(t, nil, append(append([]string{"scan", "--format", "json"}, args...), mbox)...)
		if r.code != ExitFlagged || r.stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		var rep scan.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		c := rep.Content
		if c == nil || c.Checked != 2 || c.Escalated != 1 || len(c.Categories) != 1 || c.Categories[0] != (scan.CategoryCount{Category: "credentials", Messages: 1}) || len(c.Messages) != 2 {
			t.Fatalf("%v: content %+v", args, c)
		}
		got := map[string]string{}
		for _, m := range c.Messages {
			got[m.Message] = m.Verdict + " " + strings.Join(m.Content, ",")
		}
		if got["<access@contoso.com>"] != "hold credentials" || got["<lunch@contoso.com>"] != "warn " {
			t.Errorf("%v: messages %q", args, got)
		}
		if p := rep.Prediction.Total; p.Hold != 1 || p.Warn != 1 {
			t.Errorf("%v: prediction %+v", args, p)
		}
	}
	r := run(t, nil, "scan", "--format", "json", "--content", "off", "--config", cfg, mbox)
	if r.code != ExitFlagged || strings.Contains(r.stdout, `"content"`) || !strings.Contains(r.stdout, `"warn": 2`) {
		t.Errorf("--content off: exit %d\n%s", r.code, r.stdout)
	}
	r = run(t, nil, "scan", "--content", "on", mbox)
	if !strings.Contains(r.stdout, "Content of the flagged messages of mail archives: 2 messages read; credentials 1; the content rules raise the verdict of 1.") ||
		!strings.Contains(r.stdout, "Flagged messages and their content") || !strings.Contains(r.stdout, "<access@contoso.com>  alice@contoso.com  xn--ypal-43d9g.com  hold     credentials") {
		t.Errorf("text:\n%s", r.stdout)
	}
	r = run(t, nil, "scan", "--format", "csv", "--content", "on", mbox)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[0], ",reason,content") || !strings.HasSuffix(lines[1], ",credentials (1)") {
		t.Errorf("csv:\n%s", r.stdout)
	}
	r = run(t, nil, "scan", "--format", "csv-messages", "--content", "on", mbox)
	if want := "time,message,source,sender,domain,verdict,content,content_skipped,not_read\n" +
		"2026-03-02T09:00:00Z,<access@contoso.com>," + mbox + ",alice@contoso.com,xn--ypal-43d9g.com,hold,credentials,false,\n" +
		"2026-03-03T12:00:00Z,<lunch@contoso.com>," + mbox + ",alice@contoso.com,xn--ypal-43d9g.com,warn,,false,\n"; r.stdout != want {
		t.Errorf("csv-messages:\n%s\nwant\n%s", r.stdout, want)
	}
	if r = run(t, nil, "scan", "--format", "csv-messages", mbox); r.code != ExitUsage || !strings.Contains(r.stderr, "needs --content on") {
		t.Errorf("csv-messages without content: exit %d %q", r.code, r.stderr)
	}
	r = run(t, nil, "scan", "--format", "html", "--content", "on", mbox)
	if !strings.Contains(r.stdout, "<h2>Flagged messages and their content</h2>") || !strings.Contains(r.stdout, "<td>hold</td><td>credentials</td>") {
		t.Errorf("html lacks the content table")
	}
	if r = run(t, nil, "scan", "--content", "yes", mbox); r.code != ExitUsage || !strings.Contains(r.stderr, "auto, on or off") {
		t.Errorf("--content yes: exit %d %q", r.code, r.stderr)
	}
}
