package relay

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

func TestSizeLimit(t *testing.T) {
	t.Parallel()
	r := startRelay(t, func(s *Server) { s.MaxMessageBytes = 1000 })
	c := dial(t, r.addr)
	if ehlo := c.expect("250", "EHLO client.test"); !strings.Contains(ehlo, "SIZE 1000") {
		t.Errorf("EHLO = %q, want SIZE 1000", ehlo)
	}
	c.expect("552 5.3.4", "MAIL FROM:<alice@contoso.com> SIZE=5000")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<amy@army.mil>")
	c.expect("354", "DATA")
	big := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz\r\n", 200)
	c.expect("552 5.3.4", "Subject: big\r\n\r\n%s.", big)
	// The connection goes on.
	c.expect("250", "RSET")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<amy@army.mil>")
	c.expect("354", "DATA")
	c.expect("250", "Subject: small\r\n\r\nok\r\n.")
	if msgs := r.sink.Messages(); len(msgs) != 1 || msgs[0].Header("Subject") != "small" {
		t.Errorf("sink = %d messages", len(msgs))
	}
	if evs := r.events.all(); len(evs) != 2 || evs[0].Outcome != OutcomeFailed || evs[0].Code != 552 {
		t.Errorf("events = %+v", evs)
	}
}

func TestRecipientLimit(t *testing.T) {
	t.Parallel()
	r := startRelay(t, func(s *Server) { s.MaxRecipients = 2 })
	rcpts := []string{"a@army.mil", "b@army.mil", "c@army.mil"}
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", rcpts, message("many"))
	if err != nil {
		t.Fatal(err)
	}
	if rep, _ := res.Rcpt("c@army.mil"); rep.Code != 452 || rep.Enhanced != "4.5.3" {
		t.Errorf("third RCPT = %v, want 452 4.5.3", rep)
	}
	if msgs := r.sink.Messages(); len(msgs) != 1 || len(msgs[0].Rcpts) != 2 {
		t.Errorf("sink = %+v", msgs)
	}
}

// startData opens a transaction to amy@army.mil and sends DATA.
func startData(t *testing.T, r *testRelay) *conn {
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<amy@army.mil>")
	c.expect("354", "DATA")
	return c
}

// TestBareLFEndOfDataRefused: a client that ends its message with a bare LF form of the
// end marker waits for a reply; go-smtp alone would wait until ReadTimeout (30 s here).
func TestBareLFEndOfDataRefused(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"LF.LF":     "Subject: lf\n\nbody\n.\n",
		"CRLF.LF":   "Subject: lf\r\n\r\nbody\r\n.\n",
		"LF.CRLF":   "Subject: lf\n\nbody\n.\r\n",
		"mixed end": "Subject: lf\r\n\r\nline\nbody\n.\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := startRelay(t, func(s *Server) { s.BareLFTimeout = 50 * time.Millisecond })
			c := startData(t, r)
			start := time.Now()
			if _, err := io.WriteString(c, data); err != nil {
				t.Fatal(err)
			}
			if got := c.reply(); !strings.HasPrefix(got, "554 5.6.0 Bare LF") {
				t.Fatalf("reply %q, want 554 5.6.0 Bare LF", got)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("answer took %v", d)
			}
			if got := c.reply(); got != "" {
				t.Errorf("after the refusal: %q, want the connection closed", got)
			}
			if n := len(r.sink.Messages()); n != 0 {
				t.Errorf("sink got %d messages", n)
			}
		})
	}
}

// TestBareLFInsideMessageNormalised: bare LFs in a message that ends with CRLF.CRLF are
// passed on as CRLF, and a "\n.\n" inside it cannot end the message early downstream.
func TestBareLFInsideMessageNormalised(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	c := startData(t, r)
	smuggle := "Subject: lf\n\nline one\n.\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n"
	if _, err := io.WriteString(c, smuggle); err != nil {
		t.Fatal(err)
	}
	if got := c.reply(); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("reply %q", got)
	}
	c.expect("221", "QUIT")
	msgs := r.sink.Messages()
	if len(msgs) != 1 || msgs[0].From != "alice@contoso.com" || len(msgs[0].Rcpts) != 1 {
		t.Fatalf("sink = %+v", msgs)
	}
	d := msgs[0].Data
	if !bytes.Contains(d, []byte("line one\r\n.\r\nMAIL FROM:<evil@example.net>\r\n")) || !bytes.HasSuffix(d, []byte("smuggled\r\n")) {
		t.Errorf("message = %q", d)
	}
	if bytes.Count(d, []byte("\n")) != bytes.Count(d, []byte("\r\n")) {
		t.Errorf("bare LF passed on: %q", d)
	}
}

func TestOverlongLineRefused(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	c := startData(t, r)
	fmt.Fprintf(c, "Subject: long\r\n\r\n%s\r\n.\r\n", strings.Repeat("x", 3000))
	if got := c.reply(); !strings.HasPrefix(got, "554 5.6.0 Line too long") {
		t.Fatalf("reply %q", got)
	}
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("sink got %d messages", n)
	}
	c2 := dial(t, r.addr)
	c2.expect("500 5.4.0", "EHLO %s", strings.Repeat("x", 3000))
}

// TestDataTimeoutPerRead: ReadTimeout bounds each wait for message data, not the whole
// message; a client that stops sending is answered 421 and dropped.
func TestDataTimeoutPerRead(t *testing.T) {
	t.Parallel()
	r := startRelay(t, func(s *Server) { s.ReadTimeout = 300 * time.Millisecond })
	c := startData(t, r)
	io.WriteString(c, "Subject: slow\r\n\r\n")
	if got := c.reply(); !strings.HasPrefix(got, "421 4.4.2") {
		t.Fatalf("reply %q", got)
	}
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("sink got %d messages", n)
	}
}

// TestBDATWithCommandsBetweenChunks: go-smtp runs Data for BDAT in a goroutine of its
// own and goes on taking commands between chunks; AUTH there once locked the session
// for good.
func TestBDATWithCommandsBetweenChunks(t *testing.T) {
	t.Parallel()
	r := startRelay(t, func(s *Server) {
		s.Users = map[string]string{"alice": hash(t, "pw")}
		s.AllowInsecureAuth = true
	})
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<amy@army.mil>")
	io.WriteString(c, "BDAT 17\r\nSubject: chunks\r\n")
	if got := c.reply(); !strings.HasPrefix(got, "250") {
		t.Fatalf("first chunk: %q", got)
	}
	c.expect("503 5.5.1", "AUTH PLAIN %s", "AGFsaWNlAHB3")
	c.expect("250", "NOOP")
	io.WriteString(c, "BDAT 6 LAST\r\n\r\nbody")
	if got := c.reply(); !strings.HasPrefix(got, "250 2.0.0 Ok, relayed") {
		t.Fatalf("last chunk: %q", got)
	}
	if msgs := r.sink.Messages(); len(msgs) != 1 || !strings.HasSuffix(string(msgs[0].Data), "Subject: chunks\r\n\r\nbody\r\n") {
		t.Errorf("sink = %+v", msgs)
	}
}
