package cli

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are inputs that have broken line-oriented JSON tools before: quoting, angle
// brackets, JavaScript line separators, control characters, invalid UTF-8, long lines.
var fuzzSeeds = []string{
	"alice@army.ml",
	"",
	"   ",
	"\t \v\f",
	"\u00a0\u0085",
	`"Bob \"the\" Smith" <bob@navy.ml>`,
	`<alice@army.ml>`,
	`alice@army.ml>`,
	`<>`,
	`@`,
	`"@"@army.ml`,
	`\`,
	`"\\"@x.com`,
	"a&b@x.com",
	"</script><script>alert(1)</script>@x.com",
	"gm\u0430il.com",
	"xn--gmil-63d.com",
	"xn--",
	"xn--zz.com",
	"XN--MNCHEN-3YA.DE",
	"m\u00fcnchen.de",
	"\u202egmail.com",
	"gmail.com\u2028x",
	"a\u2029b@c.d",
	"\x00@x.com",
	"x\x7f.com",
	"\xff\xfe",
	"alice@\xc3",
	"\xed\xa0\x80.com",
	"\ufffd.com",
	"army..mil",
	"alice@",
	"ARMY.MIL.",
	".",
	"..",
	"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z",
	"1.2.3.4",
	"[1.2.3.4]",
	"alice@[IPv6:::1]",
	"(comment)alice@army.ml",
	"@route,@x:alice@army.ml",
	"\U0001F600@\U0001F600.com",
	"\u0661\u0662.com",
	strings.Repeat("a", 63) + ".com",
	strings.Repeat("a", 64) + ".com",
	strings.Repeat("a.", 130) + "com",
	strings.Repeat("x", 4096),
	strings.Repeat("x", 4097),
	strings.Repeat("\u00e9", 3000),
	strings.Repeat("x", 70000),
	"a" + strings.Repeat(" ", 70000) + "b",
	strings.Repeat("\xff", 70000),
}

// untruncated bounds the lines that reach the check whole (longer ones are cut short).
const untruncated = 60000

// FuzzCheckJSON: any one line gives exactly one valid JSON answer (none when it is blank),
// and the exit status agrees with it. Run with
//
//	go test ./internal/cli -run '^$' -fuzz FuzzCheckJSON -fuzztime 60s
func FuzzCheckJSON(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	strip := strings.NewReplacer("\n", "", "\r", "")
	f.Fuzz(func(t *testing.T, s string) {
		s = strip.Replace(s)
		blank := strings.TrimSpace(s) == ""
		res := run(t, strings.NewReader(s), checkArgs("--json")...)
		if res.stderr != "" {
			t.Errorf("stderr %q", res.stderr)
		}
		if res.stdout != "" && !strings.HasSuffix(res.stdout, "\n") {
			t.Errorf("output does not end with a newline: %q", res.stdout)
		}
		got := lines(res.stdout)
		if blank {
			if len(got) != 0 || res.code != ExitOK {
				t.Fatalf("blank input %q: exit %d, %d lines; want 0 and none", s, res.code, len(got))
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("input %q: %d lines, want 1:\n%s", s, len(got), res.stdout)
		}
		r, err := parseRecord(got[0])
		if err != nil {
			t.Fatal(err)
		}
		want := ExitOK
		if r.Verdict != "allow" {
			want = ExitFlagged
		}
		if res.code != want {
			t.Errorf("input %q: verdict %s, exit %d; want %d", s, r.Verdict, res.code, want)
		}
		if len(s) < untruncated {
			if in := jsonForm(strings.TrimSpace(s)); r.Input != in {
				t.Errorf("input field %q, want %q", r.Input, in)
			}
		}

		// The text form is one line too, with the same exit status.
		txt := run(t, strings.NewReader(s), checkArgs()...)
		if tl := lines(txt.stdout); len(tl) != 1 || txt.code != res.code || txt.stderr != "" {
			t.Errorf("text: exit %d, %d lines %q, stderr %q; want %d and one line", txt.code, len(tl), tl, txt.stderr, res.code)
		} else if !strings.HasSuffix(tl[0], "  "+r.Reason) || !strings.Contains(tl[0], "  "+r.Verdict+"  ") {
			t.Errorf("text line %q does not agree with the JSON answer %q", tl[0], got[0])
		}
	})
}

// jsonForm is s as it comes back from a JSON answer: each invalid byte becomes U+FFFD.
func jsonForm(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
