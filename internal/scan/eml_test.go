package scan

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

func TestEMLFolderEncodedHeadersBccResentAndEnvelope(t *testing.T) {
	c := &collector{}
	if err := ReadEMLDir("testdata/eml-folder", c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	a := "msg=<a@example.org> t=2026-12-03T15:00:00Z unknown"
	checkRecords(t, c.recs, []string{
		// X-Envelope-From is the sender; the To: has encoded names (windows-1252) and groups
		"eml-folder/a.eml:4 bounce+alice@example.org -> graefin@gmai.com " + a,
		"eml-folder/a.eml:4 bounce+alice@example.org -> kim@example.com " + a,
		"eml-folder/a.eml:4 bounce+alice@example.org -> lee@yaho.com " + a,
		"eml-folder/a.eml:6 bounce+alice@example.org -> secret@hotmial.com " + a,
		// an encoded word in an unknown charset does not lose the address
		"eml-folder/a.eml:7 bounce+alice@example.org -> who@outlook.con " + a,
		"eml-folder/a.eml:8 bounce+alice@example.org -> andre-sent@example.org " + a,
		// CRLF, no Message-ID: the file name
		"eml-folder/b.eml:2 mo@example.org -> nia@example.com msg=b.eml t=2026-12-04T08:00:00Z unknown",
		"eml-folder/sub/c.eml:2 otto@example.org -> pat@gmai.com msg=<c@example.org> t=2026-12-04T09:00:00Z unknown",
		"eml-folder/sub/c.eml:3 otto@example.org -> quinn@example.com msg=<c@example.org> t=2026-12-04T09:00:00Z unknown",
		"eml-folder/sub/c.eml:6 otto@example.org -> rob@gmai.com msg=<c@example.org> t=2026-12-04T09:00:00Z unknown",
	})
	// .hidden.eml is passed over; the body's "To:" of a.eml is never read.
	checkProblems(t, c.probs, [][2]string{
		{"eml-folder/notes.txt:1", "not a message"},
		{"eml-folder/sub/c.eml:6", "truncated message"},
	})
}

func TestEMLReaderReadsOneMessageAndNotItsBody(t *testing.T) {
	f, err := os.Open("testdata/eml-folder/sub/c.eml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &collector{}
	if err := EMLFormat.New().Read(f, "testdata/eml-folder/sub/c.eml", c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	if len(c.recs) != 3 || len(c.probs) != 1 {
		t.Errorf("records %q problems %q", c.recs, c.probs)
	}
	// A body of 50 MB is not read: the reader stops at the header's end.
	r := &countingReader{r: strings.NewReader("To: a@gmai.com\n\n" + strings.Repeat("z", 50<<20))}
	c = &collector{}
	if err := EMLFormat.New().Read(r, "big.eml", c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	if r.n > 1<<20 || len(c.recs) != 1 {
		t.Errorf("read %d bytes, records %q", r.n, c.recs)
	}
	// A message saved with a byte order mark: its first field is read too.
	c = &collector{}
	if err := EMLFormat.New().Read(strings.NewReader("\xef\xbb\xbfTo: a@gmai.com\nCc: b@outlok.com\n\nhi\n"), "bom.eml", c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	if len(c.recs) != 2 || len(c.probs) != 0 {
		t.Errorf("with a BOM: records %q problems %q", c.recs, c.probs)
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDetectEML(t *testing.T) {
	for head, want := range map[string]bool{
		"From: a@b\nTo: c@d\n\nbody":                       true,
		"\xef\xbb\xbfFrom: a@b\nTo: c@d\n\nbody":           true, // saved with a byte order mark
		"Received: from x\n  by y\nSubject: s\n":           true,
		"X-Custom: 1\nX-Other: 2\n\n":                      false, // no field of stored mail
		"postmaster: root\nroot: admin@example.org\n":      false, // an aliases file
		"Dec  4 20:49:55 host postfix/smtp[1]: to=<a@b>\n": false,
		"Date,Sender,Recipient\n2026-12-04,a@b,c@d\n":      false,
		" To: a@b\n": false,
		"From a@b Thu Dec  3 10:00:00 2026\nTo: c@d\n": false,
		"": false,
	} {
		if got := DetectEML([]byte(head)); got != want {
			t.Errorf("DetectEML(%q) = %v, want %v", head, got, want)
		}
	}
}

func TestMaildirCurNewAndSubfoldersNotTmp(t *testing.T) {
	if !IsMaildir("testdata/maildir") || IsMaildir("testdata/eml-folder") {
		t.Fatal("IsMaildir")
	}
	c := &collector{}
	if err := ReadMaildir("testdata/maildir", c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, c.recs, []string{
		// To: and Delivered-To: name the same address: one record
		"maildir/cur/1764835200.M1P1.host,S=200,2,S:4 rae@example.org -> sue@gmai.com msg=<md1@example.org> t=2026-12-04T08:00:00Z unknown",
		"maildir/new/1764838800.M2P2.host:2 tom@example.org -> uma@example.com msg=1764838800.M2P2.host t=2026-12-04T09:00:00Z unknown",
		"maildir/.Sent/cur/1764846000.M4P4.host,2,S:2 me@example.org -> vic@outlook.con msg=<sent1@example.org> t=2026-12-04T11:00:00Z unknown",
		"maildir/.Sent/cur/1764846000.M4P4.host,2,S:3 me@example.org -> wes@example.com msg=<sent1@example.org> t=2026-12-04T11:00:00Z unknown",
	})
	checkProblems(t, c.probs, [][2]string{
		{"maildir/.Sent/new/1764849600.M5P5.host:1", "not a header field"},
		{"maildir/.Sent/new/1764849600.M5P5.host:1", "names no recipient"},
	})
	if err := ReadMaildir("testdata/eml-folder", c.emit, c.skip); err == nil || !strings.Contains(err.Error(), "not a Maildir") {
		t.Errorf("ReadMaildir of a plain folder: %v", err)
	}
	if err := ReadEMLDir(filepath.Join(t.TempDir(), "missing"), c.emit, c.skip); err == nil {
		t.Error("ReadEMLDir of a missing folder: no error")
	}
}

func TestUnreadableMessageFileIsAProblem(t *testing.T) {
	if os.Geteuid() == 0 {
		// root reads every file: use a folder where a message is a dangling link instead.
		dir := t.TempDir()
		if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "x.eml")); err != nil {
			t.Fatal(err)
		}
		c := &collector{}
		if err := ReadEMLDir(dir, c.emit, c.skip); err != nil {
			t.Fatal(err)
		}
		if len(c.recs) != 0 || len(c.probs) != 0 {
			t.Errorf("a dangling link (not a regular file) gave %q %q", c.recs, c.probs)
		}
		return
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "x.eml")
	if err := os.WriteFile(p, []byte("To: a@gmai.com\n\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	if err := ReadEMLDir(dir, c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	if len(c.probs) != 1 || !strings.Contains(c.probs[0], "not readable") {
		t.Errorf("problems %q", c.probs)
	}
}

func TestEMLFolderFileWithAFromLineIsReadAsMbox(t *testing.T) {
	dir := t.TempDir()
	msg := "From a@example.org Fri Dec  4 08:00:00 2026\nTo: b@gmai.com\n\nbody\n"
	if err := os.WriteFile(filepath.Join(dir, "saved.eml"), []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	if err := ReadEMLDir(dir, c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "saved.eml")
	checkRecords(t, c.recs, []string{want + ":2 a@example.org -> b@gmai.com msg=" + want + ":1 t=2026-12-04T08:00:00Z unknown"})
	checkProblems(t, c.probs, nil)
}

func TestMaildirFilesCompressedAreRead(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte("From: a@example.org\nTo: b@gmai.com\nMessage-ID: <z@example.org>\n\nbody\n"))
	zw.Close()
	whole := b.Bytes()
	if err := os.WriteFile(filepath.Join(dir, "cur", "1.M1.host,2,SZ"), whole, 0o600); err != nil {
		t.Fatal(err)
	}
	// Cut inside the header: a Problem, the other files still read.
	if err := os.WriteFile(filepath.Join(dir, "new", "2.M2.host"), whole[:20], 0o600); err != nil {
		t.Fatal(err)
	}
	// xz and zstd, as Dovecot's mail_compress plugin can write them too.
	var xb, zb bytes.Buffer
	xw, err := xz.NewWriter(&xb)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write([]byte("From: a@example.org\nTo: c@outlok.com\nMessage-ID: <x@example.org>\n\nbody\n"))
	xw.Close()
	sw, err := zstd.NewWriter(&zb)
	if err != nil {
		t.Fatal(err)
	}
	sw.Write([]byte("From: a@example.org\nTo: d@yaho.com\nMessage-ID: <s@example.org>\n\nbody\n"))
	sw.Close()
	if err := os.WriteFile(filepath.Join(dir, "cur", "3.M3.host,2,S"), xb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cur", "4.M4.host,2,S"), zb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	if err := ReadMaildir(dir, c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, c.recs, []string{
		filepath.Join(dir, "cur", "1.M1.host,2,SZ") + ":2 a@example.org -> b@gmai.com msg=<z@example.org> t=- unknown",
		filepath.Join(dir, "cur", "3.M3.host,2,S") + ":2 a@example.org -> c@outlok.com msg=<x@example.org> t=- unknown",
		filepath.Join(dir, "cur", "4.M4.host,2,S") + ":2 a@example.org -> d@yaho.com msg=<s@example.org> t=- unknown",
	})
	if len(c.probs) != 1 || !strings.Contains(c.probs[0], "2.M2.host:0 ") || !strings.Contains(c.probs[0], "unexpected EOF") {
		t.Errorf("problems %q", c.probs)
	}
}
