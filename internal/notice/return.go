package notice

import (
	"bytes"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// ComposeReturn is the message that returns an expired held message m to its sender: a
// short text naming the recipients it was held for and when it expired, and the original
// (raw) attached as message/rfc822, so that the sender can send it again.
func ComposeReturn(from, to string, m quarantine.Message, raw []byte, now time.Time) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	tp, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"8bit"}})
	if err != nil {
		return nil, err
	}
	var held []string
	for _, r := range m.Recipients {
		if r.Flagged() {
			held = append(held, "  "+clean(r.Address))
		}
	}
	fmt.Fprintf(tp, "Your message was held because of these recipients, and nobody chose what to do\r\n"+
		"with it before it expired on %s:\r\n\r\n%s\r\n\r\nIt was not sent. It is attached; send it again with the right addresses\r\n"+
		"if it is still needed.\r\n", m.ExpiresAt.Format("Mon, 2 Jan 2006 15:04 MST"), strings.Join(held, "\r\n"))
	ap, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"message/rfc822"},
		"Content-Disposition": {"attachment"}})
	if err != nil {
		return nil, err
	}
	if _, err := ap.Write(raw); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	subject := mime.QEncoding.Encode("utf-8", "Not sent, expired: "+clean(m.Subject))
	return assemble(from, to, subject, now, fmt.Sprintf("multipart/mixed; boundary=%q", mw.Boundary()), body.Bytes()), nil
}
