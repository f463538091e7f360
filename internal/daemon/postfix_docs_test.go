package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// docBlocks reads the fenced blocks of docs/postfix.md whose info string is lang, with
// continuation lines joined to the line before when join is set.
func docBlocks(t *testing.T, lang string, join bool) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "postfix.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks [][]string
	var cur []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"+lang):
			in, cur = true, nil
		case in && strings.HasPrefix(line, "```"):
			in = false
			blocks = append(blocks, cur)
		case in && join && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(cur) > 0:
			cur[len(cur)-1] += " " + strings.TrimSpace(line)
		case in && strings.TrimSpace(line) != "":
			cur = append(cur, line)
		}
	}
	return blocks
}

// TestPostfixDocsSettingsWork is the whole story, end to end, with the settings of
// docs/postfix.md on a real Postfix, on the policy+FILTER path and on the milter path:
// mail to army.mil is delivered; mail to army.ml is accepted and held; the sender's notice
// arrives at the sink; a GET of every link in it (a link scanner) changes nothing; a real
// headless Chromium opens the link, sees the summary and chooses "send to army.mil
// instead"; the message arrives addressed to army.mil, exactly once; a second POST of the
// same choice says "already handled" and sends nothing.
func TestPostfixDocsSettingsWork(t *testing.T) {
	testenv.RequirePostfix(t)
	mains := docBlocks(t, "main.cf", true)
	masters := docBlocks(t, "master.cf", false)
	if len(mains) != 2 || len(masters) != 1 {
		t.Fatalf("docs/postfix.md has %d main.cf and %d master.cf blocks, want 2 and 1", len(mains), len(masters))
	}
	for i, block := range mains {
		name := []string{"policy", "milter"}[i]
		t.Run(name, func(t *testing.T) {
			reinject := strconv.Itoa(testenv.FreePort(t))
			cfg := "protect: [army.mil, .mil]\nown_domains: [contoso.com]\ndata_dir: data\n" +
				"listen:\n  policy: 127.0.0.1:0\n  milter: 127.0.0.1:0\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: 127.0.0.1:0\n" +
				"quarantine:\n  reinject: 127.0.0.1:" + reinject + "\nnotice:\n  from: rcptguard@contoso.com\n"
			d, _ := startDaemon(t, cfg)
			var lines []string
			for _, l := range block {
				l = strings.ReplaceAll(l, "127.0.0.1:10040", d.Addr("policy"))
				l = strings.ReplaceAll(l, "127.0.0.1:10041", d.Addr("milter"))
				lines = append(lines, l)
			}
			var master []string
			for _, l := range masters[0] {
				master = append(master, strings.ReplaceAll(l, "127.0.0.1:10027", "127.0.0.1:"+reinject))
			}
			sink := testenv.StartSink(t)
			pf := testenv.StartPostfix(t, testenv.Options{RelayHost: sink.Addr(), ExtraMain: lines, ExtraMaster: master})
			story(t, d, sink, pf.SMTPAddr(), name, pf)
		})
	}
}

// TestRelayHoldAndRelease is the same story on the SMTP relay path, without Postfix: the
// relay's upstream is the sink, and released mail goes there too.
func TestRelayHoldAndRelease(t *testing.T) {
	sink := testenv.StartSink(t)
	cfg := "protect: [army.mil, .mil]\nown_domains: [contoso.com]\ndata_dir: data\n" +
		"listen:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n  relay: 127.0.0.1:0\n" +
		"relay:\n  upstream: " + sink.Addr() + "\n  hostname: relay.test\nnotice:\n  from: rcptguard@contoso.com\n"
	d, _ := startDaemon(t, cfg)
	story(t, d, sink, d.Addr("relay"), "relay", nil)
}

func story(t *testing.T, d *Daemon, sink *testenv.Sink, smtpAddr, path string, pf *testenv.Postfix) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	logs := func() string {
		if pf != nil {
			return pf.Log()
		}
		return ""
	}
	good := []byte("From: a@contoso.com\r\nTo: alice@army.mil\r\nSubject: test\r\n\r\nhello\r\n")
	res, err := testenv.SMTPSend(smtpAddr, "a@contoso.com", []string{"alice@army.mil"}, good)
	if err != nil || !res.Delivered() {
		t.Fatalf("army.mil: %+v %v\n%s", res, err, logs())
	}
	if _, err := sink.WaitFor(ctx, 1); err != nil {
		t.Fatalf("army.mil not delivered: %v\n%s", err, logs())
	}

	subject := "Travel plans " + path
	bad := []byte("From: Alice <a@contoso.com>\r\nTo: Bob <bob@army.ml>\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + path + "@contoso.com>\r\n\r\nThe secret itinerary.\r\n")
	res, err = testenv.SMTPSend(smtpAddr, "a@contoso.com", []string{"bob@army.ml"}, bad)
	if err != nil || !res.Delivered() {
		t.Fatalf("army.ml was not accepted for holding: %+v %v\n%s", res, err, logs())
	}
	// The notice reaches the sender (through the re-injection service and the sink).
	got, err := sink.WaitFor(ctx, 2)
	if err != nil {
		t.Fatalf("no notice: %v\n%s", err, logs())
	}
	note := got[1]
	if note.From != "" || len(note.Rcpts) != 1 || note.Rcpts[0] != "a@contoso.com" {
		t.Fatalf("second message at the sink is not the notice to the sender: %q -> %q\n%s", note.From, note.Rcpts, note.Data)
	}
	links := noticeLinks(t, note.Data)
	if len(links) == 0 {
		t.Fatalf("no link in the notice:\n%s", note.Data)
	}
	held1, err := d.quarantine.List(ctx, quarantine.Filter{State: quarantine.Held})
	if err != nil || len(held1) != 1 || held1[0].Subject != subject {
		t.Fatalf("quarantine: %+v %v", held1, err)
	}
	id := held1[0].ID
	// Held with Postfix's queue ID, so that an administrator finds it in the mail log (on
	// the policy path the intake learns it from the policy service).
	if pf != nil {
		logged := map[string]string{"policy": ": filter: END-OF-MESSAGE", "milter": ": milter-discard"}[path]
		if q := held1[0].QueueID; q == "" || !strings.Contains(pf.Log(), q+logged) {
			t.Errorf("held with queue ID %q, not the one in Postfix's log", q)
		}
	}

	// A link scanner opens every link: nothing changes.
	var page string
	for _, l := range links {
		resp, err := http.Get(l)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page = string(b)
	}
	if m, _ := d.quarantine.Get(ctx, id); m.State != quarantine.Held {
		t.Fatalf("a GET changed the message to %v", m.State)
	}
	csrf := formToken(t, page, "correct")

	// The sender, in a real browser.
	b := testenv.Browser(t)
	dir := testenv.ScreenshotDir(t)
	if err := chromedp.Do(b, chromedp.Navigate(links[0]), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	summary, err := chromedp.Run(b, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(b, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{subject, "bob@army.ml", "army.mil", "Send as addressed", "Send to army.mil instead", "Discard"} {
		if !strings.Contains(summary, want) {
			t.Errorf("validation page lacks %q:\n%s", want, summary)
		}
	}
	testenv.SaveScreenshot(t, dir, "e2e-"+path+"-validation.png", shot)
	err = chromedp.Do(b,
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Send to army.mil instead"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "Sent to army.mil instead")]`)),
	)
	if err != nil {
		t.Fatalf("choose: %v", err)
	}
	after, err := chromedp.Run(b, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	testenv.SaveScreenshot(t, dir, "e2e-"+path+"-done.png", after)

	// The message arrives, corrected, once.
	got, err = sink.WaitFor(ctx, 3)
	if err != nil {
		t.Fatalf("released message not delivered: %v\n%s", err, logs())
	}
	rel := got[2]
	if strings.Join(rel.Rcpts, ",") != "bob@army.mil" || !strings.Contains(string(rel.Data), "The secret itinerary.") ||
		!strings.Contains(string(rel.Data), "To: Bob <bob@army.mil>") || rel.Header(held.ReleasedHeader) == "" {
		t.Fatalf("released message: %q\n%s", rel.Rcpts, rel.Data)
	}
	waitDelivery(t, ctx, d, id)

	// The same choice again: already handled, nothing sent.
	vals := url.Values{"choice": {"correct"}, "csrf": {csrf}}
	resp, err := http.PostForm(links[0], vals)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "Already handled") {
		t.Fatalf("second POST: %d\n%s", resp.StatusCode, body)
	}
	if pf != nil {
		if err := pf.WaitQueueEmpty(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sink.Messages()); n != 3 {
		t.Fatalf("%d messages at the sink, want 3 (army.mil, the notice, the released one once)", n)
	}
	metrics := getBody(t, "http://"+d.Addr("http")+"/metrics")
	for _, ev := range []string{"held", "notice_sent", "released_corrected", "reinjected"} {
		if want := `rcptguard_quarantine_events_total{event="` + ev + `"} 1`; !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, m := range sink.Messages() {
		for _, r := range m.Rcpts {
			if strings.HasSuffix(r, "@army.ml") {
				t.Fatalf("something reached army.ml: %s", m.Data)
			}
		}
	}
}

// waitDelivery waits until the quarantine records the re-injection of id as sent.
func waitDelivery(t *testing.T, ctx context.Context, d *Daemon, id string) {
	t.Helper()
	for {
		m, err := d.quarantine.Get(ctx, id)
		if err == nil && m.Delivery == quarantine.DeliverySent {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("delivery of %s not recorded: %+v %v", id, m, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// noticeLinks returns the validation links in a notice's parts, decoded.
func noticeLinks(t *testing.T, raw []byte) []string {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	seen := map[string]bool{}
	var out []string
	re := regexp.MustCompile(`http://[^\s"<>]+/v/[A-Za-z0-9_-]+`)
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		for _, l := range re.FindAllString(string(b), -1) {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

// TestPostfixTrialRecipe runs the recipe of docs/postfix.md, "A private Postfix to try
// it", as a new user would: its `sh trial` blocks with bash (in a folder of the test's
// own instead of /tmp/rcptguard-trial, on free ports), with rcptguard serving the
// recipe's trial.yaml, then its swaks command, whose answer must be rcptguard's refusal.
func TestPostfixTrialRecipe(t *testing.T) {
	testenv.RequirePostfix(t)
	testenv.RequireTool(t, "swaks")
	blocks := docBlocks(t, "sh trial", false)
	yamls := docBlocks(t, "yaml trial.yaml", false)
	if len(blocks) != 3 || len(yamls) != 1 {
		t.Fatalf("docs/postfix.md has %d `sh trial` blocks and %d `yaml trial.yaml` blocks, want 3 (set up, swaks, stop) and 1",
			len(blocks), len(yamls))
	}
	cfg := strings.Join(yamls[0], "\n") + "\ndata_dir: data\n" +
		"listen:\n  policy: 127.0.0.1:0\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n"
	d, _ := startDaemon(t, cfg)

	// A folder the postfix user can reach (the test's TempDir is 0700 up the tree).
	dir, err := os.MkdirTemp("", "rcptguard-trial-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	smtpd := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	script := func(block []string) string {
		s := strings.Join(block, "\n") + "\n"
		s = strings.ReplaceAll(s, "/tmp/rcptguard-trial", dir)
		s = strings.ReplaceAll(s, "127.0.0.1:10040", d.Addr("policy"))
		return strings.ReplaceAll(s, "127.0.0.1:10028", smtpd)
	}
	for _, want := range []string{"/tmp/rcptguard-trial", "127.0.0.1:10040", "127.0.0.1:10028"} {
		if !strings.Contains(strings.Join(blocks[0], "\n"), want) {
			t.Fatalf("the recipe's set-up block no longer names %s; the test replaces it", want)
		}
	}
	bash := func(name, s string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "bash", "-e", "-c", "T="+dir+"\n"+s).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
		return string(out), err
	}
	maillog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "log", "maillog"))
		return string(b)
	}
	t.Cleanup(func() {
		pid := masterPID(dir)
		if out, err := bash("stop block", script(blocks[2])); err != nil && pid != 0 {
			t.Errorf("%v\n%s", err, out)
		}
		waitMasterGone(t, pid)
		os.RemoveAll(dir)
	})
	if out, err := bash("set-up block", script(blocks[0])); err != nil {
		diag, _ := exec.Command("script", "-qec", "postfix -c "+filepath.Join(dir, "etc")+" check", "/dev/null").CombinedOutput()
		t.Fatalf("%v\n%s\n--- postfix check on a terminal ---\n%s\n--- maillog ---\n%s", err, out, diag, maillog())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := net.Dial("tcp", smtpd)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the trial Postfix does not listen on %s: %v\n%s", smtpd, err, maillog())
		case <-time.After(20 * time.Millisecond):
		}
	}
	out, _ := bash("swaks block", script(blocks[1])) // swaks exits non-zero on a refusal
	// The reply to the end of the data: the first reply line after swaks's " -> ." line.
	var final string
	dot := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "-> ." {
			dot = true
		} else if dot && strings.HasPrefix(l, "<") {
			final = l
			break
		}
	}
	if !strings.HasPrefix(final, "<** 550 5.7.1 ") || !strings.Contains(final, "Did you mean army.mil?") {
		t.Fatalf("swaks's reply to the end of the data is %q, want 550 5.7.1 ... Did you mean army.mil?\n%s\n--- maillog ---\n%s", final, out, maillog())
	}
}

// masterPID is the process ID of the Postfix master in the instance under dir, or 0.
func masterPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "queue", "pid", "master.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// waitMasterGone waits until process pid has exited (0: nothing to wait for).
func waitMasterGone(t *testing.T, pid int) {
	t.Helper()
	if pid == 0 {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Errorf("the trial Postfix master (pid %d) still runs after postfix stop", pid)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPostfixPolicyAndMilterTogether checks docs/postfix.md's section "Policy service and
// milter together" on a real Postfix: with both main.cf blocks at once, a recipient is
// decided by both and a message to hold is held once, by the milter; with the
// recommended lines, SMTP mail is decided by the policy service alone (and held by the
// intake) and sendmail(1) mail by the milter alone.
func TestPostfixPolicyAndMilterTogether(t *testing.T) {
	testenv.RequirePostfix(t)
	mains := docBlocks(t, "main.cf", true)
	masters := docBlocks(t, "master.cf", false)
	recommended := docBlocks(t, "main-cf recommended", true)
	if len(mains) != 2 || len(masters) != 1 || len(recommended) != 1 {
		t.Fatalf("docs/postfix.md has %d main.cf, %d master.cf and %d `main-cf recommended` blocks, want 2, 1 and 1",
			len(mains), len(masters), len(recommended))
	}
	for _, tc := range []struct {
		name   string
		blocks [][]string
	}{{"both", mains}, {"recommended", recommended}} {
		t.Run(tc.name, func(t *testing.T) {
			reinject := strconv.Itoa(testenv.FreePort(t))
			cfg := "protect: [army.mil, .mil]\nown_domains: [contoso.com]\ndata_dir: data\n" +
				"listen:\n  policy: 127.0.0.1:0\n  milter: 127.0.0.1:0\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: 127.0.0.1:0\n" +
				"quarantine:\n  reinject: 127.0.0.1:" + reinject + "\nnotice:\n  from: rcptguard@contoso.com\n"
			d, _ := startDaemon(t, cfg)
			var lines []string
			for _, block := range tc.blocks {
				for _, l := range block {
					l = strings.ReplaceAll(l, "127.0.0.1:10040", d.Addr("policy"))
					lines = append(lines, strings.ReplaceAll(l, "127.0.0.1:10041", d.Addr("milter")))
				}
			}
			var master []string
			for _, l := range masters[0] {
				master = append(master, strings.ReplaceAll(l, "127.0.0.1:10027", "127.0.0.1:"+reinject))
			}
			sink := testenv.StartSink(t)
			pf := testenv.StartPostfix(t, testenv.Options{RelayHost: sink.Addr(), ExtraMain: lines, ExtraMaster: master})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			bad := []byte("From: a@contoso.com\r\nTo: bob@army.ml\r\nSubject: by smtp\r\n\r\nhello\r\n")
			res, err := testenv.SMTPSend(pf.SMTPAddr(), "a@contoso.com", []string{"bob@army.ml"}, bad)
			if err != nil || !res.Delivered() {
				t.Fatalf("army.ml: %+v %v\n%s", res, err, pf.Log())
			}
			if _, err := sink.WaitFor(ctx, 1); err != nil { // the notice
				t.Fatalf("no notice: %v\n%s", err, pf.Log())
			}
			if err := pf.WaitQueueEmpty(ctx); err != nil {
				t.Fatal(err)
			}
			held, err := d.quarantine.List(ctx, quarantine.Filter{State: quarantine.Held})
			if err != nil || len(held) != 1 {
				t.Fatalf("held %d messages (%v), want 1: %+v\n%s", len(held), err, held, pf.Log())
			}
			if n := len(sink.Messages()); n != 1 {
				t.Errorf("%d messages at the sink, want the one notice", n)
			}
			q := held[0].QueueID
			// learnedOnce sends a message that passes and checks that the history counts
			// it once, though both doors may have seen it (same queue ID).
			learnedOnce := func(subject string) {
				t.Helper()
				before := len(sink.Messages())
				ok := []byte("From: a@contoso.com\r\nTo: dave@fabrikam.com\r\nSubject: " + subject + "\r\n\r\nhello\r\n")
				if res, err := testenv.SMTPSend(pf.SMTPAddr(), "a@contoso.com", []string{"dave@fabrikam.com"}, ok); err != nil || !res.Delivered() {
					t.Fatalf("fabrikam.com: %+v %v\n%s", res, err, pf.Log())
				}
				if _, err := sink.WaitFor(ctx, before+1); err != nil {
					t.Fatal(err)
				}
				d.learn.sync() // both doors answered before Postfix said 250
				st, found, err := d.history.Domain(ctx, "fabrikam.com")
				if err != nil || !found || st.Count != 1 {
					t.Errorf("history of fabrikam.com after one message: %+v, found %v, %v; want a count of 1", st, found, err)
				}
			}
			metrics := getBody(t, "http://"+d.Addr("http")+"/metrics")
			holds := func(adapter string) bool {
				return regexp.MustCompile(`(?m)^rcptguard_guard_decisions_total\{adapter="` + adapter + `",[^}]*verdict="hold"[^}]*\} 1$`).MatchString(metrics)
			}
			decided := func(adapter string) bool { // any decision of any verdict
				return regexp.MustCompile(`(?m)^rcptguard_guard_decisions_total\{adapter="` + adapter + `",[^}]*\} [1-9]`).MatchString(metrics)
			}
			if tc.name == "both" {
				// The policy service answered FILTER at the end of the data, then the milter
				// (which Postfix runs in cleanup, after smtpd's end-of-data check) held the
				// message and had it discarded: the FILTER never ran, the intake never saw it.
				if held[0].Adapter != "milter" || q == "" || !strings.Contains(pf.Log(), q+": filter: END-OF-MESSAGE") ||
					!strings.Contains(pf.Log(), q+": milter-discard") {
					t.Errorf("held by %q with queue ID %q; want the milter, after the policy service's FILTER\n%s", held[0].Adapter, q, pf.Log())
				}
				if !holds("policy") || !holds("milter") {
					t.Errorf("metrics lack one hold decision by the policy service and one by the milter:\n%s", metrics)
				}
				if decided("intake") {
					t.Errorf("the intake decided about a message the milter had discarded")
				}
				learnedOnce("both doors")
				return
			}
			// Recommended: over SMTP only the policy service decides, the intake holds.
			if held[0].Adapter == "milter" || !strings.Contains(pf.Log(), q+": filter: END-OF-MESSAGE") || strings.Contains(pf.Log(), "milter-discard") {
				t.Errorf("held by %q with queue ID %q; want the intake, after the policy service's FILTER\n%s", held[0].Adapter, q, pf.Log())
			}
			if !holds("policy") || decided("milter") {
				t.Errorf("over SMTP: want one hold decision by the policy service and none by the milter:\n%s", metrics)
			}
			// The intake held it with the policy service's hand-over, asking the guard nothing.
			if !strings.Contains(metrics, `rcptguard_intake_handovers_total{result="found"} 1`) || decided("intake") {
				t.Errorf("over SMTP: want the intake to find the hand-over and decide nothing itself:\n%s", metrics)
			}
			// sendmail(1): the milter alone.
			viaSendmail := []byte("From: a@contoso.com\r\nTo: carol@army.ml\r\nSubject: by sendmail\r\n\r\nhello\r\n")
			if err := pf.Sendmail(t, "a@contoso.com", []string{"carol@army.ml"}, viaSendmail); err != nil {
				t.Fatal(err)
			}
			if _, err := sink.WaitFor(ctx, 2); err != nil { // its notice
				t.Fatalf("no notice for the sendmail(1) message: %v\n%s", err, pf.Log())
			}
			held, err = d.quarantine.List(ctx, quarantine.Filter{State: quarantine.Held})
			if err != nil || len(held) != 2 {
				t.Fatalf("held %d messages (%v), want 2\n%s", len(held), err, pf.Log())
			}
			metrics = getBody(t, "http://"+d.Addr("http")+"/metrics")
			if !holds("policy") || !holds("milter") {
				t.Errorf("after sendmail(1): want one hold decision by each:\n%s", metrics)
			}
			learnedOnce("policy service only")
		})
	}
}
