package intake

import (
	"bytes"
	"regexp"
	"sync"
)

// maxTopScan bounds how far into a message the queue ID is looked for: Postfix's smtpd
// puts its Received field on top.
const maxTopScan = 64 << 10

// postfixID matches the part of the Received field Postfix's smtpd adds that names the
// queue ID ("by mx.example.org (Postfix) with ESMTPSA id 4XyZ1abc").
var postfixID = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\(Postfix\)\s+with\s+[A-Za-z0-9]+\s+id\s+([0-9A-Za-z]{5,32})\b`)
})

// PostfixQueueID returns the queue ID in the first Received field of msg's header when
// that field is Postfix's smtpd's, or "". Only the first field counts: it is the one the
// Postfix that queued the message added; those below it came with the message. The
// X-Rcptguard- fields the policy service had Postfix prepend to a warned message (PREPEND
// at RCPT) come above it, and are passed over.
func PostfixQueueID(msg []byte) string {
	if len(msg) > maxTopScan {
		msg = msg[:maxTopScan]
	}
	f := firstField(msg)
	for hasName(f, "x-rcptguard-") {
		msg = msg[len(f):]
		f = firstField(msg)
	}
	if !hasName(f, "received:") {
		return ""
	}
	m := postfixID().FindSubmatch(f)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// firstField returns the first header field of msg with its continuation lines, or nil
// when the header is empty.
func firstField(msg []byte) []byte {
	end := 0
	for end < len(msg) {
		i := bytes.IndexByte(msg[end:], '\n')
		if i < 0 {
			return msg
		}
		next := end + i + 1
		if end == 0 && len(bytes.TrimRight(msg[:next], "\r\n")) == 0 {
			return nil
		}
		if next >= len(msg) || (msg[next] != ' ' && msg[next] != '\t') {
			return msg[:next]
		}
		end = next
	}
	return msg[:end]
}

// hasName reports whether the field f starts with prefix, in any case.
func hasName(f []byte, prefix string) bool {
	return len(f) >= len(prefix) && bytes.EqualFold(f[:len(prefix)], []byte(prefix))
}
