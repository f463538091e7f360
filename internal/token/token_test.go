package token

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testKey  = bytes.Repeat([]byte{0x11}, 32)
	otherKey = bytes.Repeat([]byte{0x22}, 32)
	t0       = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

const testID = "AAECAwQFBgcICQoLDA0ODw" // shape of quarantine.NewID

func newSigner(t testing.TB, key []byte, old ...[]byte) *Signer {
	t.Helper()
	s, err := NewSigner(key, old...)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return t0 }
	return s
}

func claims() Claims {
	return Claims{MessageID: testID, Sender: "Alice@Example.COM", Action: ReleaseAsAddressed, Expires: t0.Add(72 * time.Hour)}
}

func TestNewSignerKeyLength(t *testing.T) {
	if _, err := NewSigner(make([]byte, 31)); err == nil {
		t.Error("31-byte key accepted")
	}
	if _, err := NewSigner(nil); err == nil {
		t.Error("nil key accepted")
	}
	if _, err := NewSigner(testKey, make([]byte, 16)); err == nil {
		t.Error("short old key accepted")
	}
	if _, err := NewSigner(make([]byte, 64)); err != nil {
		t.Errorf("64-byte key: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	s := newSigner(t, testKey)
	for _, a := range []Action{View, ReleaseAsAddressed, ReleaseCorrected, Discard} {
		c := claims()
		c.Action = a
		c.Expires = c.Expires.Add(999 * time.Millisecond) // truncated to seconds
		tok := s.Sign(c)
		if strings.ContainsAny(tok, "+/=") {
			t.Errorf("token not raw URL-safe: %q", tok)
		}
		if len(tok) > 80 {
			t.Errorf("token %d chars, want compact", len(tok))
		}
		if strings.Contains(strings.ToLower(tok), "alice") {
			t.Error("token exposes sender")
		}
		got, err := s.Verify(tok, testID, " alice@example.com ", a)
		if err != nil {
			t.Fatalf("%s: Verify: %v", a, err)
		}
		want := Claims{MessageID: testID, Sender: "alice@example.com", Action: a, Expires: t0.Add(72 * time.Hour)}
		if got != want {
			t.Errorf("%s: Verify = %+v, want %+v", a, got, want)
		}
		p, err := s.Parse(tok)
		want.Sender = ""
		if err != nil || p != want {
			t.Errorf("%s: Parse = %+v, %v; want %+v", a, p, err, want)
		}
	}
	if !View.Valid() || Action("approve").Valid() {
		t.Error("Action.Valid wrong")
	}
}

func TestSignDeterministicAndSensitive(t *testing.T) {
	s := newSigner(t, testKey)
	base := s.Sign(claims())
	if s.Sign(claims()) != base {
		t.Error("Sign not deterministic")
	}
	mods := []func(*Claims){
		func(c *Claims) { c.MessageID += "x" },
		func(c *Claims) { c.Sender = "bob@example.com" },
		func(c *Claims) { c.Action = Discard },
		func(c *Claims) { c.Expires = c.Expires.Add(time.Second) },
	}
	for i, m := range mods {
		c := claims()
		m(&c)
		if s.Sign(c) == base {
			t.Errorf("mod %d: same token", i)
		}
	}
}

func TestSignPanics(t *testing.T) {
	s := newSigner(t, testKey)
	for name, c := range map[string]Claims{
		"bad action": {MessageID: testID, Action: "approve"},
		"empty id":   {Action: View},
		"long id":    {MessageID: strings.Repeat("a", MaxMessageIDLen+1), Action: View},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			s.Sign(c)
		}()
	}
	// The longest allowed ID round-trips.
	c := claims()
	c.MessageID = strings.Repeat("a", MaxMessageIDLen)
	if _, err := s.Verify(s.Sign(c), c.MessageID, c.Sender, c.Action); err != nil {
		t.Errorf("max-length ID: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	s := newSigner(t, testKey)
	c := claims()
	tok := s.Sign(c)
	now := c.Expires.Add(-time.Nanosecond)
	s.Now = func() time.Time { return now }
	if _, err := s.Verify(tok, testID, c.Sender, c.Action); err != nil {
		t.Errorf("just before expiry: %v", err)
	}
	if _, err := s.Parse(tok); err != nil {
		t.Errorf("Parse just before expiry: %v", err)
	}
	for _, d := range []time.Duration{0, time.Second, 365 * 24 * time.Hour} {
		now = c.Expires.Add(d)
		got, err := s.Verify(tok, testID, c.Sender, c.Action)
		if !errors.Is(err, ErrExpired) {
			t.Errorf("at expiry+%v: err = %v, want ErrExpired", d, err)
		}
		if got.MessageID != testID || got.Sender != "alice@example.com" {
			t.Errorf("expired claims not returned: %+v", got)
		}
		got, err = s.Parse(tok)
		if !errors.Is(err, ErrExpired) || got.MessageID != testID {
			t.Errorf("Parse at expiry+%v: %+v, %v", d, got, err)
		}
	}
	// Zero / ancient expiry is always expired.
	c.Expires = time.Time{}
	if _, err := s.Verify(s.Sign(c), testID, c.Sender, c.Action); !errors.Is(err, ErrExpired) {
		t.Errorf("zero expiry: %v", err)
	}
}

func TestWrongExpectations(t *testing.T) {
	s := newSigner(t, testKey)
	c := claims()
	tok := s.Sign(c)
	cases := []struct {
		id, sender string
		action     Action
		want       error
	}{
		{"other", c.Sender, c.Action, ErrWrongMessage},
		{testID + "x", c.Sender, c.Action, ErrWrongMessage},
		{"", c.Sender, c.Action, ErrWrongMessage},
		{testID, c.Sender, Discard, ErrWrongAction},
		{testID, c.Sender, View, ErrWrongAction},
		{testID, "bob@example.com", c.Action, ErrWrongSender},
		{testID, "alice@example.co", c.Action, ErrWrongSender},
		{testID, "", c.Action, ErrWrongSender},
	}
	for _, tc := range cases {
		got, err := s.Verify(tok, tc.id, tc.sender, tc.action)
		if !errors.Is(err, tc.want) {
			t.Errorf("Verify(%q,%q,%q) err = %v, want %v", tc.id, tc.sender, tc.action, err, tc.want)
		}
		if got.MessageID != testID || got.Sender != "" {
			t.Errorf("Verify(%q,%q,%q) claims = %+v", tc.id, tc.sender, tc.action, got)
		}
	}
}

func TestWrongKey(t *testing.T) {
	tok := newSigner(t, testKey).Sign(claims())
	s := newSigner(t, otherKey)
	if c, err := s.Verify(tok, testID, claims().Sender, ReleaseAsAddressed); !errors.Is(err, ErrForged) || c != (Claims{}) {
		t.Errorf("Verify with wrong key: %+v, %v", c, err)
	}
	if _, err := s.Parse(tok); !errors.Is(err, ErrForged) {
		t.Errorf("Parse with wrong key: %v", err)
	}
}

func TestRotation(t *testing.T) {
	c := claims()
	oldTok := newSigner(t, otherKey).Sign(c)
	s := newSigner(t, testKey, otherKey)
	if _, err := s.Verify(oldTok, testID, c.Sender, c.Action); err != nil {
		t.Errorf("token from old key: %v", err)
	}
	if _, err := s.Verify(oldTok, testID, "bob@example.com", c.Action); !errors.Is(err, ErrWrongSender) {
		t.Errorf("old key, wrong sender: %v", err)
	}
	newTok := s.Sign(c)
	if newTok != newSigner(t, testKey).Sign(c) {
		t.Error("rotating signer does not sign with its first key")
	}
	if _, err := newSigner(t, otherKey).Verify(newTok, testID, c.Sender, c.Action); !errors.Is(err, ErrForged) {
		t.Errorf("new token under old key alone: %v", err)
	}
	// Once the old key is dropped, its tokens are forged.
	if _, err := newSigner(t, testKey).Verify(oldTok, testID, c.Sender, c.Action); !errors.Is(err, ErrForged) {
		t.Errorf("old token after dropping old key: %v", err)
	}
}

func rejected(err error) bool {
	return errors.Is(err, ErrForged) || errors.Is(err, ErrMalformed)
}

func TestEveryBitFlipRejected(t *testing.T) {
	s := newSigner(t, testKey)
	c := claims()
	tok := s.Sign(c)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for bit := 0; bit < 8; bit++ {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			mt := base64.RawURLEncoding.EncodeToString(b)
			if _, err := s.Verify(mt, testID, c.Sender, c.Action); !rejected(err) {
				t.Errorf("byte %d bit %d: Verify err = %v", i, bit, err)
			}
			if _, err := s.Parse(mt); !rejected(err) {
				t.Errorf("byte %d bit %d: Parse err = %v", i, bit, err)
			}
		}
	}
}

func TestEveryCharReplacedRejected(t *testing.T) {
	s := newSigner(t, testKey)
	c := claims()
	tok := s.Sign(c)
	for i := range len(tok) {
		for v := 0; v < 256; v++ {
			if byte(v) == tok[i] {
				continue
			}
			mt := tok[:i] + string([]byte{byte(v)}) + tok[i+1:]
			if _, err := s.Verify(mt, testID, c.Sender, c.Action); !rejected(err) {
				t.Fatalf("char %d -> %#x: Verify err = %v", i, v, err)
			}
		}
	}
}

func TestTruncatedAndGarbage(t *testing.T) {
	s := newSigner(t, testKey)
	c := claims()
	tok := s.Sign(c)
	for n := 0; n < len(tok); n++ {
		if _, err := s.Verify(tok[:n], testID, c.Sender, c.Action); !rejected(err) {
			t.Errorf("truncated to %d: %v", n, err)
		}
		if _, err := s.Verify(tok[n:], testID, c.Sender, c.Action); n > 0 && !rejected(err) {
			t.Errorf("first %d chars cut: %v", n, err)
		}
	}
	for _, g := range []string{
		"", "=", "====", "not a token", tok + "=", tok + "A", tok + "AA", " " + tok, tok + "\n", tok + "\r\n", tok[:10] + "\n" + tok[10:],
		strings.ReplaceAll(strings.ReplaceAll(tok, "-", "+"), "_", "/"),
		strings.Repeat("A", 76), strings.Repeat("_", 76), strings.Repeat("A", 1<<20),
		"\x00\xff\xfe", "🙂🙂🙂🙂",
	} {
		if g == tok {
			continue
		}
		if _, err := s.Verify(g, testID, c.Sender, c.Action); !rejected(err) {
			t.Errorf("garbage %.40q: %v", g, err)
		}
		if _, err := s.Parse(g); !rejected(err) {
			t.Errorf("Parse garbage %.40q: %v", g, err)
		}
	}
	// Unknown version with otherwise valid structure is malformed.
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	raw[0] = 2
	if _, err := s.Parse(base64.RawURLEncoding.EncodeToString(raw)); !errors.Is(err, ErrMalformed) {
		t.Errorf("version 2: %v", err)
	}
}

// An authentic token with an action code this version does not know (as if
// from a newer release sharing the key) is malformed, not accepted.
func TestUnknownActionCode(t *testing.T) {
	s := newSigner(t, testKey)
	b := []byte{version, 0, 0, 0, 0, 0xff, 0, 0, 0, 9}
	b = append(b, senderTag(s.keys[0], "a@b")...)
	b = append(b, "id"...)
	b = append(b, mac(s.keys[0], b)...)
	if _, err := s.Parse(base64.RawURLEncoding.EncodeToString(b)); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown action code: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := newSigner(t, testKey, otherKey)
	c := claims()
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				if _, err := s.Verify(s.Sign(c), testID, c.Sender, c.Action); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}

func FuzzVerify(f *testing.F) {
	s := newSigner(f, testKey, otherKey)
	old := newSigner(f, otherKey)
	c := claims()
	valid := map[string]bool{}
	for _, a := range []Action{View, ReleaseAsAddressed, ReleaseCorrected, Discard} {
		c.Action = a
		valid[s.Sign(c)] = true
		valid[old.Sign(c)] = true
	}
	for tok := range valid {
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(tok + "A")
	}
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, tok string) {
		pc, perr := s.Parse(tok)
		vc, verr := s.Verify(tok, testID, c.Sender, ReleaseAsAddressed)
		if valid[tok] {
			if perr != nil {
				t.Fatalf("valid token %q: Parse %v", tok, perr)
			}
			return
		}
		// Not produced by Sign with our keys: nothing may authenticate.
		if !rejected(perr) || !rejected(verr) {
			t.Fatalf("unsigned token %q accepted: Parse %+v %v; Verify %+v %v", tok, pc, perr, vc, verr)
		}
		if pc != (Claims{}) || vc != (Claims{}) {
			t.Fatalf("claims returned with error for %q", tok)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	s := newSigner(b, testKey)
	c := claims()
	b.ReportAllocs()
	for b.Loop() {
		s.Sign(c)
	}
}

func BenchmarkVerify(b *testing.B) {
	s := newSigner(b, testKey)
	c := claims()
	tok := s.Sign(c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok, testID, c.Sender, c.Action); err != nil {
			b.Fatal(err)
		}
	}
}
