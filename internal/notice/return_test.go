package notice

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// TestComposeReturnCarriesTheOriginal: the message that returns an expired held message
// is a well-formed multipart/mixed mail with a safe one-line subject, names the flagged
// recipients only, and attaches the original byte for byte.
func TestComposeReturnCarriesTheOriginal(t *testing.T) {
	raw := []byte("From: alice@contoso.com\r\nTo: bob@army.ml\r\nSubject: plans\r\n\r\nthe plans\r\n")
	m := quarantine.Message{
		Subject:   "plans\r\nBcc: evil@example.net",
		ExpiresAt: time.Date(2026, 3, 8, 9, 30, 0, 0, time.UTC),
		Recipients: []quarantine.Recipient{
			{Address: "bob@army.ml", Verdict: verdict.Hold},
			{Address: "carol@army.mil", Verdict: verdict.Allow},
		},
	}
	out, err := ComposeReturn("rcptguard@contoso.com", "alice@contoso.com", m, raw, time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Bcc") != "" || msg.Header.Get("Auto-Submitted") != "auto-generated" || msg.Header.Get("Message-ID") == "" {
		t.Errorf("headers: %v", msg.Header)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Not sent, expired: plans  Bcc: evil@example.net" {
		t.Errorf("subject %q %v", subject, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %q %v", mt, err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	text, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := io.ReadAll(text)
	if !strings.Contains(string(tb), "bob@army.ml") || strings.Contains(string(tb), "carol@army.mil") || !strings.Contains(string(tb), "Sun, 8 Mar 2026 09:30 UTC") {
		t.Errorf("text part:\n%s", tb)
	}
	att, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	ab, _ := io.ReadAll(att)
	if att.Header.Get("Content-Type") != "message/rfc822" || !bytes.Equal(ab, raw) {
		t.Errorf("attachment %q: %q", att.Header.Get("Content-Type"), ab)
	}
}
