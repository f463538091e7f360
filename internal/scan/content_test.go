package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func testClassifier(t testing.TB, maxMessage int64) *content.Classifier {
	t.Helper()
	c := config.Default().Content
	if maxMessage > 0 {
		c.MaxMessage = maxMessage
	}
	cl, err := content.New(c.ClassifierConfig())
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// classifyAll is a hook that classifies every message and counts them.
func classifyAll(t testing.TB, n *int) *contentHook {
	return &contentHook{cl: testClassifier(t, 0), flagged: func([]Record) bool { *n++; return true }}
}

// TestArchiveReadersGiveTheSameRecordsWithContent: reading the bodies to classify them
// changes no record and no problem of the archive readers' test data (broken From_
// lines, a header line that is not a field, Maildir++ folders), and every record of a
// message carries its content.
func TestArchiveReadersGiveTheSameRecordsWithContent(t *testing.T) {
	mbox, err := os.ReadFile("testdata/mbox-broken.mbox")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		read func(ch *contentHook, emit func(Record), skip func(Problem)) error
	}{
		{"mbox", func(ch *contentHook, emit func(Record), skip func(Problem)) error {
			var r Reader = mboxReader{}
			if ch != nil {
				r = mboxReader{}.withContent(ch)
			}
			return r.Read(bytes.NewReader(mbox), "testdata/mbox-broken.mbox", emit, skip)
		}},
		{"maildir", func(ch *contentHook, emit func(Record), skip func(Problem)) error {
			return readMaildir("testdata/maildir", ch, emit, skip)
		}},
		{"eml folder", func(ch *contentHook, emit func(Record), skip func(Problem)) error {
			return readEMLDir("testdata/eml-folder", ch, emit, skip)
		}},
	} {
		plain, with := &collector{}, &collector{}
		if err := c.read(nil, plain.emit, plain.skip); err != nil {
			t.Fatal(err)
		}
		n := 0
		var missing []string
		emit := func(r Record) {
			if r.Content == nil {
				missing = append(missing, recLine(r))
			}
			with.emit(r)
		}
		if err := c.read(classifyAll(t, &n), emit, with.skip); err != nil {
			t.Fatal(err)
		}
		if strings.Join(plain.recs, "\n") != strings.Join(with.recs, "\n") || strings.Join(plain.probs, "\n") != strings.Join(with.probs, "\n") {
			t.Errorf("%s: with content:\n%s\n%s\nwithout:\n%s\n%s", c.name, strings.Join(with.recs, "\n"), strings.Join(with.probs, "\n"),
				strings.Join(plain.recs, "\n"), strings.Join(plain.probs, "\n"))
		}
		if n == 0 || len(missing) > 0 {
			t.Errorf("%s: %d messages classified; records without content: %q", c.name, n, missing)
		}
	}
}

const passwordBody = "Hello,\r\n\r\nPassword: Tr0ub4dor&3x\r\n"

// message is one stored message to rcpt with body.
func message(id, rcpt, body string) string {
	return "From: Alice <alice@corp.example>\r\nTo: " + rcpt + "\r\nDate: Wed, 04 Mar 2026 10:00:00 +0000\r\nMessage-ID: <" + id +
		">\r\nSubject: s\r\n\r\n" + body
}

// TestContentOfFlaggedArchiveMessages: in an mbox, a Maildir and a folder of .eml files,
// each flagged message is classified (a password is credentials, a lunch invitation
// nothing), a message to no lookalike is not read, and the report counts them.
func TestContentOfFlaggedArchiveMessages(t *testing.T) {
	msgs := map[string]string{
		"pw":    message("pw@corp.example", "bob@gmai.com", passwordBody),
		"lunch": message("lunch@corp.example", "carol@gmai.com", "Lunch on Friday?\r\n"),
		"own":   message("own@corp.example", "dan@corp.example", passwordBody),
	}
	dir := t.TempDir()
	mbox := filepath.Join(dir, "sent.mbox")
	var b strings.Builder
	for _, k := range []string{"pw", "lunch", "own"} {
		b.WriteString("From alice@corp.example Wed Mar  4 10:00:00 2026\n" + strings.ReplaceAll(msgs[k], "\r\n", "\n") + "\n")
	}
	writeFile(t, mbox, b.String())
	md := filepath.Join(dir, "Maildir")
	emls := filepath.Join(dir, "emls")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for k, m := range msgs {
		writeFile(t, filepath.Join(md, "cur", k+":2,S"), m)
		writeFile(t, filepath.Join(emls, k+".eml"), m)
	}
	for _, src := range []string{mbox, md, emls} {
		ta := NewTally(testGuard(t), time.Time{}, time.Time{})
		res := Run([]string{src}, ta, RunOptions{Content: testClassifier(t, 0)})
		r := Build(ta, res, Options{})
		c := r.Content
		if c == nil || c.Checked != 2 || c.Skipped != 0 || len(c.Categories) != 1 || c.Categories[0] != (CategoryCount{"credentials", 1}) || len(c.Messages) != 2 {
			t.Fatalf("%s: content %+v", src, c)
		}
		if m := c.Messages[0]; m.Message != "<pw@corp.example>" || len(m.Content) != 1 || m.Content[0] != "credentials" || m.Domain != "gmai.com" {
			t.Errorf("%s: first message %+v", src, m)
		}
		if m := c.Messages[1]; m.Message != "<lunch@corp.example>" || len(m.Content) != 0 {
			t.Errorf("%s: second message %+v", src, m)
		}
		if len(r.Domains) != 1 || len(r.Domains[0].Content) != 1 {
			t.Errorf("%s: domains %+v", src, r.Domains)
		}
	}
}

// TestLogScansHaveNoContentPart: with content checks on, a scan of logs only has no
// content in its report and no content column in its CSV.
func TestLogScansHaveNoContentPart(t *testing.T) {
	ta := NewTally(testGuard(t), time.Time{}, time.Time{})
	res := Run([]string{"testdata/postfix-syslog.log"}, ta, RunOptions{Content: testClassifier(t, 0)})
	r := Build(ta, res, Options{})
	if r.Totals.FlaggedDomains == 0 || r.Content != nil {
		t.Fatalf("flagged %d, content %+v", r.Totals.FlaggedDomains, r.Content)
	}
	var csv, text bytes.Buffer
	WriteCSV(&csv, r)
	WriteText(&text, r)
	if first, _, _ := strings.Cut(csv.String(), "\n"); strings.Contains(first, "content") || strings.Contains(text.String(), "Content") {
		t.Errorf("a log scan speaks of content:\n%s\n%s", first, text.String())
	}
}

// TestContentOfAHugeFlaggedMessageIsBounded: a flagged mbox message of 96 MB is read
// by the classifier up to its limit (then said not checked) and the rest passed over,
// in bounded memory.
func TestContentOfAHugeFlaggedMessageIsBounded(t *testing.T) {
	head := "From a@example.org Fri Dec  4 08:00:00 2026\nTo: b@gmai.com\n\nPassword: Tr0ub4dor&3x\n"
	src := &bodyStream{head: head, n: 96 << 20, line: 100}
	ch := &contentHook{cl: testClassifier(t, 1<<20), flagged: func([]Record) bool { return true }}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := &collector{}
	var got *Content
	emit := func(r Record) { got = r.Content; c.emit(r) }
	if err := (mboxReader{}).withContent(ch).Read(src, "m", emit, c.skip); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 32<<20 {
		t.Errorf("reading a 96 MB flagged message allocated %d MB", grown>>20)
	}
	if len(c.recs) != 1 || len(c.probs) != 0 || got == nil || !got.Skipped || !strings.Contains(got.NotRead, "1 MiB") {
		t.Errorf("records %q problems %q content %+v", c.recs, c.probs, got)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzMboxWithContent: reading each message's body for the classifier gives the same
// records and problems as passing over it, whatever the mbox.
func FuzzMboxWithContent(f *testing.F) {
	addSeeds(f, "mbox-*")
	f.Add([]byte("From a@b Thu Dec  3 10:00:00 2026\nTo: x@gmai.com\n\nFrom the desk\nTo: y\n\nFrom a@b Thu Dec  3 10:00:00 2026\nTo: z@c\n"))
	f.Add([]byte("From a@b Thu Dec  3 10:00:00 2026\nTo: x@gmai.com\nnot a field\n\n>From x\nFrom y\n"))
	cl := testClassifier(f, 64<<10)
	f.Fuzz(func(t *testing.T, data []byte) {
		plain, with := &collector{}, &collector{}
		if err := (mboxReader{}).Read(bytes.NewReader(data), "m", plain.emit, plain.skip); err != nil {
			t.Fatal(err)
		}
		ch := &contentHook{cl: cl, flagged: func([]Record) bool { return true }}
		emit := func(r Record) {
			if r.Content == nil {
				t.Fatalf("a record without content: %+v", r)
			}
			with.emit(r)
		}
		if err := (mboxReader{}).withContent(ch).Read(bytes.NewReader(data), "m", emit, with.skip); err != nil {
			t.Fatal(err)
		}
		if strings.Join(plain.recs, "\n") != strings.Join(with.recs, "\n") || strings.Join(plain.probs, "\n") != strings.Join(with.probs, "\n") {
			t.Fatalf("with content:\n%s\n%s\nwithout:\n%s\n%s", strings.Join(with.recs, "\n"), strings.Join(with.probs, "\n"),
				strings.Join(plain.recs, "\n"), strings.Join(plain.probs, "\n"))
		}
	})
}

// contentReport is the report of an mbox with two flagged messages, one carrying a
// password, one whose Message-ID holds markup.
func contentReport(t *testing.T) Report {
	t.Helper()
	mbox := filepath.Join(t.TempDir(), "sent.mbox")
	b := "From alice@corp.example Wed Mar  4 10:00:00 2026\n" + strings.ReplaceAll(message("pw@corp.example", "bob@gmai.com", passwordBody), "\r\n", "\n") + "\n" +
		"From alice@corp.example Wed Mar  4 11:00:00 2026\n" + strings.ReplaceAll(message("<i>x</i>@corp.example", "carol@gmai.com", "Lunch?\r\n"), "\r\n", "\n")
	writeFile(t, mbox, b)
	ta := NewTally(testGuard(t), time.Time{}, time.Time{})
	return Build(ta, Run([]string{mbox}, ta, RunOptions{Content: testClassifier(t, 0)}), Options{})
}

// TestHTMLContentRendersInChromium: the content table of the HTML report shows each
// flagged message's categories in a real headless Chromium with JavaScript off, the
// markup of a Message-ID escaped.
func TestHTMLContentRendersInChromium(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, contentReport(t)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<i>x</i>") {
		t.Error("a Message-ID's markup is not escaped")
	}
	path := filepath.Join(t.TempDir(), "report.html")
	writeFile(t, path, b.String())
	bctx := testenv.Browser(t)
	text := testenv.OpenWithoutJavaScript(t, bctx, path, 1100, 900, "main")
	for _, want := range []string{"Flagged messages and their content", "<pw@corp.example>", "credentials",
		"<<i>x</i>@corp.example>", "Content of the flagged messages of mail archives: 2 messages read; credentials 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page lacks %q:\n%s", want, text)
		}
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	testenv.SaveScreenshot(t, testenv.ScreenshotDir(t), "scan-report-content.png", png)
}
