package smtpout

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// FuzzServerReplies: whatever a server answers (greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT,
// DATA replies) before it closes the connection, Send never panics or hangs, and its error is classified. A message is
// reported delivered only after a 250 to the end of the data.
func FuzzServerReplies(f *testing.F) {
	for _, s := range []string{
		"220 x\r\n250-x\r\n250 STARTTLS\r\n",
		"220 x\r\n250-x\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n235 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n",
		"220 x\r\n250 x\r\n250 ok\r\n250 ok\r\n354 go\r\n",
		"220 x\r\n500 no\r\n250 x\r\n250 ok\r\n550 no\r\n",
		"220-x\r\n220 y\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n\x16\x03\x01",
		"421 busy\r\n", "", "220 x\n250 x\n",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(2))
	}
	modes := []TLSMode{TLSNone, TLSOpportunistic, TLSRequired}
	f.Fuzz(func(t *testing.T, replies []byte, mode uint8) {
		d := Destination{Address: "127.0.0.1:25", TLS: modes[int(mode)%len(modes)], Username: "u", Password: "p",
			Timeout: 200 * time.Millisecond,
			Dial: func(context.Context, string, string) (net.Conn, error) {
				client, server := net.Pipe()
				go func() {
					defer server.Close()
					go io.Copy(io.Discard, server)
					server.Write(replies) // then the end of the connection
				}()
				return client, nil
			}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := Send(ctx, d, Message{From: "a@example.org", To: []string{"b@example.net"}, Data: []byte(msg)})
		if err == nil {
			if res.Reply == "" {
				t.Fatal("delivered without a reply")
			}
			return
		}
		if c := Classify(err); c == OK {
			t.Fatalf("error %v classified OK", err)
		}
	})
}
