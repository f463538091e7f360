package held

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// FuzzRewrite feeds the re-injection's header rewriting arbitrary held content and
// addresses. Whatever the input: the released header comes first; the body (from the
// blank line on) is untouched; released as addressed, the rest is the content itself;
// corrected, no line break appears or disappears and only To and Cc lines change.
func FuzzRewrite(f *testing.F) {
	f.Add([]byte("To: Bob <bob@army.ml>\r\nCc: x@army.ml\r\nSubject: s\r\n\r\nbob@army.ml\r\n"), "bob@army.ml", "army.mil", true)
	f.Add([]byte("To: bob@army.ml,\r\n\tbob@army.ml\r\nFrom: bob@army.ml\r\n\r\n"), "BOB@ARMY.ML", "army.mil", true)
	f.Add([]byte("no header at all"), "a@b", "c", false)
	f.Add([]byte("To: a@b\n\nbody\n"), "a@b", "b.c", true)
	f.Add([]byte("\r\n\r\nTo: a@b\r\n"), "a@b", "x.y", true)
	f.Fuzz(func(t *testing.T, raw []byte, rcpt, intended string, corrected bool) {
		if strings.ContainsAny(rcpt+intended, "\r\n") {
			return // envelope addresses never hold line breaks
		}
		m := quarantine.Message{ID: "ID", State: quarantine.ReleasedAsAddressed,
			Recipients: []quarantine.Recipient{{Address: rcpt, Verdict: verdict.Hold, Intended: []string{intended}}}}
		if corrected {
			m.State = quarantine.ReleasedCorrected
		}
		out := Rewrite(raw, m)
		first, rest, ok := bytes.Cut(out, []byte("\r\n"))
		if !ok || !bytes.HasPrefix(first, []byte(ReleasedHeader+": ID; ")) {
			t.Fatalf("does not begin with the released header: %q", out)
		}
		_, body := splitHeader(raw)
		if !bytes.HasSuffix(rest, body) {
			t.Fatalf("body changed:\n%q\nwant suffix\n%q", rest, body)
		}
		if !corrected {
			if !bytes.Equal(rest, raw) {
				t.Fatalf("released as addressed, the content changed:\n%q\n%q", rest, raw)
			}
			return
		}
		head, _ := splitHeader(raw)
		outHead := rest[:len(rest)-len(body)]
		in, got := splitLines(head), splitLines(outHead)
		if len(in) != len(got) {
			t.Fatalf("%d header lines became %d", len(in), len(got))
		}
		inAddr := false
		for i := range in {
			if len(in[i]) > 0 && in[i][0] != ' ' && in[i][0] != '\t' {
				name, _, _ := strings.Cut(string(in[i]), ":")
				n := strings.ToLower(strings.TrimSpace(name))
				inAddr = n == "to" || n == "cc"
			}
			if !inAddr && !bytes.Equal(in[i], got[i]) {
				t.Fatalf("line %d outside To and Cc changed: %q -> %q", i, in[i], got[i])
			}
			if bytes.Count(in[i], []byte("\n")) != bytes.Count(got[i], []byte("\n")) {
				t.Fatalf("line %d: line breaks changed: %q -> %q", i, in[i], got[i])
			}
		}
	})
}
