package httpapi

import (
	"strings"
	"testing"
)

// FuzzParseRequest: any body is a request or a clear 400/413 error, never a panic; a
// request has recipients, and its message is within the limit.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"recipients":["alice@army.ml"]}`,
		`{"recipient":"a@b","sender":"c@d","message":"Subject: x\r\n\r\nhi"}`,
		`{"recipients":["a@b"],"message_base64":"U3ViamVjdDogeA0KDQpoaQ=="}`,
		`{"recipients":["a@b"],"message":"x","message_base64":"eA=="}`,
		`{"recipients":["a@b"],"message":null}`,
		`{"recipients":[]} {}`,
		`not json`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		const max = 1 << 10
		req, msg, err := parseRequest(strings.NewReader(body), max)
		if err != nil {
			re, ok := err.(*requestError)
			if !ok || re.code != 400 && re.code != 413 || re.msg == "" {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if len(req.Recipients) == 0 || len(req.Recipients) > MaxRecipients {
			t.Fatalf("%d recipients accepted", len(req.Recipients))
		}
		if msg != nil && msg.n > max {
			t.Fatalf("a message of %d bytes accepted", msg.n)
		}
		if (msg != nil) != (req.Message != nil || req.MessageBase64 != nil) {
			t.Fatalf("message %v for fields %v %v", msg != nil, req.Message, req.MessageBase64)
		}
	})
}
