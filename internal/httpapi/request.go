package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Limits on one check request.
const (
	// MaxBodyBytes bounds a request without a message.
	MaxBodyBytes  = 64 << 10
	MaxRecipients = 1000
	// DefaultMaxMessageBytes is the largest message a request may carry when API.MaxMessageBytes
	// is not set (the daemon sets it to content.max_message).
	DefaultMaxMessageBytes = 25 << 20
)

// checkRequest is the body of POST /api/v1/check: recipients, or one recipient, and
// optionally the sender and the whole message (as text, or in base64 for a message that
// is not valid UTF-8).
type checkRequest struct {
	Recipients    []string `json:"recipients"`
	Recipient     string   `json:"recipient"`
	Sender        string   `json:"sender"`
	Message       *string  `json:"message"`
	MessageBase64 *string  `json:"message_base64"`
}

// requestError is a request refused, with its HTTP status.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

// maxBody is the largest request body: a message of max bytes, twice over for the
// base64 or JSON escaping it travels in, and the rest of the request.
func maxBody(max int64) int64 {
	return MaxBodyBytes + 2*max
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// message is the message a request carried, read in place (no copy of a text message).
type message struct {
	r io.Reader
	n int64
}

// parseRequest reads one check request from body, at most maxBody(maxMessage) bytes, and
// at most MaxBodyBytes when it carries no message. It returns the recipients, the sender
// and the message (nil when none was sent).
func parseRequest(body io.Reader, maxMessage int64) (checkRequest, *message, error) {
	var req checkRequest
	limit := maxBody(maxMessage)
	cr := &countReader{r: io.LimitReader(body, limit+1)}
	dec := json.NewDecoder(cr)
	dec.DisallowUnknownFields()
	tooBig := func() error {
		return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes (a message may have at most %d bytes)", limit, maxMessage)}
	}
	if err := dec.Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if cr.n > limit || errors.As(err, &mb) {
			return req, nil, tooBig()
		}
		return req, nil, &requestError{http.StatusBadRequest, "the body is not valid JSON of the form {\"recipients\":[...]}: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		if cr.n > limit {
			return req, nil, tooBig()
		}
		return req, nil, &requestError{http.StatusBadRequest, "the body has data after the JSON object"}
	}
	if cr.n > limit {
		return req, nil, tooBig()
	}
	var msg *message
	switch {
	case req.Message != nil && req.MessageBase64 != nil:
		return req, nil, &requestError{http.StatusBadRequest, "send the message once: as message (text) or as message_base64, not both"}
	case req.Message != nil:
		msg = &message{strings.NewReader(*req.Message), int64(len(*req.Message))}
	case req.MessageBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*req.MessageBase64)
		if err != nil {
			return req, nil, &requestError{http.StatusBadRequest, "message_base64 is not valid base64 (RFC 4648, with padding): " + err.Error()}
		}
		msg = &message{bytes.NewReader(b), int64(len(b))}
	case cr.n > MaxBodyBytes:
		return req, nil, &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes (only a request with a message may be larger)", MaxBodyBytes)}
	}
	if msg != nil && msg.n > maxMessage {
		return req, nil, &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the message has %d bytes; at most %d", msg.n, maxMessage)}
	}
	if req.Recipient != "" {
		req.Recipients = append(req.Recipients, req.Recipient)
	}
	switch {
	case len(req.Recipients) == 0:
		return req, nil, &requestError{http.StatusBadRequest, "no recipients: send {\"recipients\":[\"alice@army.ml\"]}"}
	case len(req.Recipients) > MaxRecipients:
		return req, nil, &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("at most %d recipients in one request", MaxRecipients)}
	}
	return req, msg, nil
}
