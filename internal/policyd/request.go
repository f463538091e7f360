package policyd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Limits on one request. Postfix sends some 25 attributes, each well under 1 KiB.
const (
	MaxLineLength = 4096 // bytes in one name=value line, without the newline
	MaxAttributes = 100  // attributes in one request
)

// Errors of ReadRequest, for errors.Is. A request that ends early wraps
// io.ErrUnexpectedEOF; a clean end of the stream between requests is io.EOF itself.
var (
	ErrMalformed         = errors.New("malformed policy request")
	ErrLineTooLong       = fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, MaxLineLength)
	ErrTooManyAttributes = fmt.Errorf("%w: more than %d attributes", ErrMalformed, MaxAttributes)
)

// Values of the protocol_state attribute.
const (
	StateConnect = "CONNECT"
	StateEHLO    = "EHLO"
	StateHELO    = "HELO"
	StateMail    = "MAIL"
	StateRcpt    = "RCPT"
	StateData    = "DATA"
	StateEOM     = "END-OF-MESSAGE"
	StateVRFY    = "VRFY"
	StateETRN    = "ETRN"
)

// RequestType is the only request type Postfix sends (the request attribute).
const RequestType = "smtpd_access_policy"

// Request is one policy request: every attribute as sent, unknown ones included.
type Request struct {
	Attrs map[string]string
}

// Get returns the named attribute, or "" when it is absent.
func (r Request) Get(name string) string { return r.Attrs[name] }

// Type is the request attribute (RequestType for Postfix's smtpd).
func (r Request) Type() string { return r.Attrs["request"] }

// ProtocolState is the SMTP stage: StateRcpt, StateEOM, ...
func (r Request) ProtocolState() string { return r.Attrs["protocol_state"] }

// ProtocolName is SMTP, ESMTP, LMTP, ...
func (r Request) ProtocolName() string { return r.Attrs["protocol_name"] }

// Instance identifies one mail transaction of one smtpd process: the same for the RCPT
// and END-OF-MESSAGE requests of a message.
func (r Request) Instance() string { return r.Attrs["instance"] }

// QueueID is Postfix's queue id; empty at the first RCPT of a message.
func (r Request) QueueID() string { return r.Attrs["queue_id"] }

// Sender is the envelope sender (MAIL FROM), "" for the null sender.
func (r Request) Sender() string { return r.Attrs["sender"] }

// Recipient is the envelope recipient at RCPT; at DATA and END-OF-MESSAGE only when the
// message has exactly one.
func (r Request) Recipient() string { return r.Attrs["recipient"] }

// ClientAddress is the SMTP client's IP address.
func (r Request) ClientAddress() string { return r.Attrs["client_address"] }

// SASLUsername is the authenticated user, or "".
func (r Request) SASLUsername() string { return r.Attrs["sasl_username"] }

// RecipientCount is the number of recipients Postfix accepted (DATA and END-OF-MESSAGE
// only; 0 before). ok is false when the attribute is absent or not a number.
func (r Request) RecipientCount() (n int, ok bool) { return atoi(r.Attrs["recipient_count"]) }

// Size is the message size: from MAIL FROM SIZE=, or the real size at END-OF-MESSAGE.
// ok is false when the attribute is absent or not a number.
func (r Request) Size() (n int64, ok bool) {
	n, err := strconv.ParseInt(r.Attrs["size"], 10, 64)
	return n, err == nil && n >= 0
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// ReadRequest reads one request: name=value lines ending with an empty line. It returns
// io.EOF when the stream ends before the first byte of a request, and an error wrapping
// ErrMalformed or io.ErrUnexpectedEOF (or the reader's error) otherwise. Lines end with
// LF or CRLF; a CR or NUL elsewhere is an error. So is a repeated name: Postfix never
// repeats one, and a second recipient= must not silently win.
func ReadRequest(br *bufio.Reader) (Request, error) {
	var attrs map[string]string
	var long []byte
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br, &long)
		if err != nil {
			if errors.Is(err, io.EOF) {
				if lineNo == 1 && len(line) == 0 {
					return Request{}, io.EOF
				}
				err = fmt.Errorf("request ends inside line %d, before the empty line: %w", lineNo, io.ErrUnexpectedEOF)
			}
			return Request{}, fmt.Errorf("policyd: %w", err)
		}
		if len(line) == 0 {
			if len(attrs) == 0 {
				return Request{}, fmt.Errorf("policyd: %w: empty request", ErrMalformed)
			}
			return Request{Attrs: attrs}, nil
		}
		if len(attrs) == MaxAttributes {
			return Request{}, fmt.Errorf("policyd: line %d: %w", lineNo, ErrTooManyAttributes)
		}
		if i := bytes.IndexAny(line, "\r\x00"); i >= 0 {
			return Request{}, fmt.Errorf("policyd: line %d: %w: byte %#x inside a line", lineNo, ErrMalformed, line[i])
		}
		name, value, ok := bytes.Cut(line, []byte{'='})
		if !ok {
			return Request{}, fmt.Errorf("policyd: line %d: %w: no '=' in %q", lineNo, ErrMalformed, head(line))
		}
		if err := checkName(name); err != nil {
			return Request{}, fmt.Errorf("policyd: line %d: %w", lineNo, err)
		}
		if attrs == nil {
			attrs = make(map[string]string, 32)
		}
		key, known := knownNames[string(name)] // no allocation for the names Postfix sends
		if !known {
			key = string(name)
		}
		if _, dup := attrs[key]; dup {
			return Request{}, fmt.Errorf("policyd: line %d: %w: attribute %q repeated", lineNo, ErrMalformed, name)
		}
		attrs[key] = string(value)
	}
}

// knownNames are the attributes of Postfix 3.7's policy requests.
var knownNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range strings.Fields(`request protocol_state protocol_name helo_name queue_id
		sender recipient recipient_count client_address client_name reverse_client_name
		instance sasl_method sasl_username sasl_sender size ccert_subject ccert_issuer
		ccert_fingerprint ccert_pubkey_fingerprint encryption_protocol encryption_cipher
		encryption_keysize etrn_domain stress policy_context server_address server_port
		compatibility_level mail_version client_port`) {
		m[n] = n
	}
	return m
}()

// readLine returns the next line without its LF (and CR). At the end of the stream it
// returns what it read and io.EOF.
func readLine(br *bufio.Reader, long *[]byte) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		*long = append((*long)[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(*long) <= MaxLineLength {
			line, err = br.ReadSlice('\n')
			*long = append(*long, line...)
		}
		line = *long
	}
	if err == nil {
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	if len(line) > MaxLineLength {
		return nil, ErrLineTooLong
	}
	return line, err
}

// checkName accepts printable ASCII names: Postfix's are lowercase words with '_'.
func checkName(name []byte) error {
	if len(name) == 0 {
		return fmt.Errorf("%w: empty attribute name", ErrMalformed)
	}
	for _, c := range name {
		if c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: attribute name %q has a byte outside printable ASCII", ErrMalformed, head(name))
		}
	}
	return nil
}

// head shortens input quoted in an error.
func head(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// Encode writes r in the protocol's form, names sorted, ending with the empty line. It
// fails when r could not be read back the same: a name that ReadRequest refuses, a value
// with a newline, CR or NUL, or too many attributes.
func (r Request) Encode() ([]byte, error) {
	if len(r.Attrs) == 0 || len(r.Attrs) > MaxAttributes {
		return nil, fmt.Errorf("policyd: %w: %d attributes", ErrMalformed, len(r.Attrs))
	}
	names := make([]string, 0, len(r.Attrs))
	for n := range r.Attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	var b []byte
	for _, n := range names {
		v := r.Attrs[n]
		if err := checkName([]byte(n)); err != nil || strings.ContainsRune(n, '=') {
			return nil, fmt.Errorf("policyd: cannot encode attribute name %q", n)
		}
		if strings.ContainsAny(v, "\n\r\x00") || len(n)+1+len(v) > MaxLineLength {
			return nil, fmt.Errorf("policyd: cannot encode the value of %s", n)
		}
		b = append(append(append(append(b, n...), '='), v...), '\n')
	}
	return append(b, '\n'), nil
}
