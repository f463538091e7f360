package notice

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
)

// watchFields are the header fields ComposeWatch writes, each once.
var watchFields = []string{"Auto-Submitted", "Content-Transfer-Encoding", "Content-Type", "Date", "From",
	"Message-Id", "Mime-Version", "Subject", "To", "X-Auto-Response-Suppress"}

// FuzzComposeWatch: whatever names DNS gave (domains, MX hosts) and whatever the
// organisation's name, the change mail is a message net/mail reads with exactly its own
// header fields, CRLF line ends, no line over 998 octets, and one body line per change.
func FuzzComposeWatch(f *testing.F) {
	f.Add("Army", "bank-army.ml", "mx.farm.example", true)
	f.Add("Ärmy\r\nBcc: x@y", "a\r\nBcc: x@y\r\n\r\nbody", "mx\n.\n", false)
	f.Add(strings.Repeat("é", 300), strings.Repeat("d", 2000), "=?utf-8?q?x?=", true)
	f.Fuzz(func(t *testing.T, org, domain, host string, owner bool) {
		cs := watchChanges()
		cs[0].Domain, cs[1].After.MX, cs[2].Owner = domain, []string{host, host}, owner
		raw, err := ComposeWatch(WatchReport{To: "postmaster@army.mil", From: "rcptguard@army.mil", Org: org, Changes: cs}, now)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			if i := bytes.Index(data, []byte("\r\n")); i >= 0 {
				return i + 2, data[:i], nil
			}
			if atEOF && len(data) > 0 {
				return len(data), data, nil
			}
			return 0, nil, nil
		})
		for sc.Scan() {
			if l := sc.Bytes(); len(l) > 998 || bytes.ContainsAny(l, "\r\n") {
				t.Fatalf("bad line (%d octets): %q", len(l), l)
			}
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k, v := range msg.Header {
			if len(v) != 1 {
				t.Fatalf("%s %d times", k, len(v))
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, watchFields) {
			t.Fatalf("header fields %v", keys)
		}
		if s, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || strings.ContainsAny(s, "\r\n") {
			t.Fatalf("subject %q, %v", s, err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range strings.Split(string(body), "\r\n") {
			if strings.HasPrefix(l, "  ") {
				n++
			}
		}
		if n != len(cs) {
			t.Fatalf("%d change lines, want %d:\n%s", n, len(cs), body)
		}
	})
}
