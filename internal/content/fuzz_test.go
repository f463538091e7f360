package content

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// evidenceKinds are all the evidence names the built-in matchers use: a
// result never carries anything else (never the matched text).
var evidenceKinds = map[string]bool{
	evPassword: true, evPrivateKey: true, evToken: true, evKeyFile: true, evEncrypted: true,
	evSSN: true, evIBAN: true, evCard: true, evDOB: true, evPassport: true,
	evMedTerm: true, evICD: true, evBanner: true, evPortion: true,
	evFlight: true, evBooking: true, evHotel: true, evEmailRows: true, evNameRows: true,
}

func checkResult(t *testing.T, r Result) {
	t.Helper()
	for i, f := range r.Findings {
		if i > 0 && r.Findings[i-1].Category >= f.Category {
			t.Fatalf("findings not sorted: %+v", r.Findings)
		}
		if len(f.Evidence) == 0 {
			t.Fatalf("finding without evidence: %+v", f)
		}
		for k, n := range f.Evidence {
			if !evidenceKinds[k] || n <= 0 {
				t.Fatalf("evidence %q = %d", k, n)
			}
		}
	}
	if r.Skipped && len(r.NotRead) == 0 {
		t.Fatalf("skipped without saying why: %+v", r)
	}
	if len(r.NotRead) > 101 {
		t.Fatalf("%d not-read entries", len(r.NotRead))
	}
}

func FuzzClassify(f *testing.F) {
	for _, dir := range []string{"testdata/corpus/business", "testdata/corpus/positive"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		for i, name := range files {
			if i%4 != 0 && dir == "testdata/corpus/business" {
				continue
			}
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\nContent-Type: text/html; charset=koi8-r\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+\r\n--c--\r\n--b--\r\n"))
	c, err := New(Config{Limits: Limits{MaxMessage: 1 << 20, MaxParts: 50, MaxDepth: 5}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		checkResult(t, c.Classify(context.Background(), bytes.NewReader(msg)))
	})
}

// FuzzMatchers feeds arbitrary text straight to the matchers, as one text
// part, in two writes split at an arbitrary point.
func FuzzMatchers(f *testing.F) {
	for _, s := range []string{
		"Password: Tr0ub4dor&3", "SSN 536-22-1234", "DE89 3704 0044 0532 0130 00", "4111 1111 1111 1111",
		"Date of birth\n12.03.1985", "SECRET//NOFORN", "(S//NF) x", "BA 117 12 Mar 2025", "Booking reference: XKJ4QL",
		"Diagnosis: E11.9", "first name,last name,email\na,b,c@d.ef", "-----BEGIN RSA PRIVATE KEY-----",
	} {
		f.Add([]byte(s), uint16(3))
	}
	c, err := New(Config{Custom: []Custom{{Name: "acme", Keywords: []string{"Bluebird", "C++"}, Patterns: []string{`\bC-\d{6}\b`}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte, cut uint16) {
		s := newScanner(context.Background(), c)
		k := int(cut) % (len(text) + 1)
		if _, err := s.Write(text[:k]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write(text[k:]); err != nil {
			t.Fatal(err)
		}
		s.partEnd()
		r := Result{Findings: s.finish()}
		for _, fd := range r.Findings {
			if fd.Category == "acme" {
				continue
			}
			for k := range fd.Evidence {
				if !evidenceKinds[k] {
					t.Fatalf("evidence %q", k)
				}
			}
		}
		_ = r.Sentence()
	})
}
