// Package token signs and verifies the capability tokens in notice links and
// forms; no storage, no HTTP.
//
// A token authorizes one Action on one held message for one sender until it
// expires. Tokens are deterministic (the same claims and key give the same
// token) and carry no nonce: "works once" is enforced by the quarantine
// store's compare-and-set state transition, not here.
//
// # Format
//
// A token is the unpadded, strict URL-safe base64 (base64.RawURLEncoding) of
//
//	version   1 byte  (currently 1)
//	expires   8 bytes big-endian signed Unix seconds
//	action    1 byte  (1 view, 2 release, 3 correct, 4 discard)
//	sender    8 bytes keyed tag of the lowercased sender address
//	messageID the remaining bytes before the MAC (1..MaxMessageIDLen bytes)
//	mac       16 bytes HMAC-SHA256 over all preceding bytes, truncated
//
// For a 22-character quarantine ID that is 57 bytes, 76 characters.
//
// The sender is not stored in the token: links travel through mail systems,
// logs and proxies, and the address should not be readable from them. The
// token holds an 8-byte HMAC tag of the address under a key derived from the
// signing key (an unkeyed hash of an address could be reversed by
// dictionary). Verify checks the tag against the sender the caller expects;
// Parse cannot, so Parse returns claims with an empty Sender.
//
// Two independent subkeys are derived from each configured key with
// HMAC-SHA256 and fixed labels, one for the MAC and one for the sender tag.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Action is what a token authorizes.
type Action string

// The actions offered on the validation page.
const (
	View               Action = "view"
	ReleaseAsAddressed Action = "release"
	ReleaseCorrected   Action = "correct"
	Discard            Action = "discard"
)

// Valid reports whether a is one of the defined actions.
func (a Action) Valid() bool {
	_, ok := actionCode(a)
	return ok
}

func actionCode(a Action) (byte, bool) {
	switch a {
	case View:
		return 1, true
	case ReleaseAsAddressed:
		return 2, true
	case ReleaseCorrected:
		return 3, true
	case Discard:
		return 4, true
	}
	return 0, false
}

func codeAction(b byte) (Action, bool) {
	switch b {
	case 1:
		return View, true
	case 2:
		return ReleaseAsAddressed, true
	case 3:
		return ReleaseCorrected, true
	case 4:
		return Discard, true
	}
	return "", false
}

// Errors returned by Verify and Parse. They are distinct so the web page can
// explain what went wrong; ErrMalformed and ErrForged should be presented
// alike ("this link is not valid").
var (
	ErrMalformed    = errors.New("token: malformed")
	ErrForged       = errors.New("token: invalid signature")
	ErrExpired      = errors.New("token: expired")
	ErrWrongMessage = errors.New("token: for another message")
	ErrWrongAction  = errors.New("token: for another action")
	ErrWrongSender  = errors.New("token: for another sender")
)

const (
	version = 1

	// MinKeyLen is the minimum length of a signing key in bytes.
	MinKeyLen = 32
	// MaxMessageIDLen is the longest message ID Sign accepts.
	MaxMessageIDLen = 255

	tagLen    = 8
	macLen    = 16
	headerLen = 1 + 8 + 1 + tagLen
	minRawLen = headerLen + 1 + macLen
	maxRawLen = headerLen + MaxMessageIDLen + macLen
)

// maxTokenLen is the longest encoded token Verify will decode.
var maxTokenLen = base64.RawURLEncoding.EncodedLen(maxRawLen)

var enc = base64.RawURLEncoding.Strict()

// Claims are the contents of a token.
type Claims struct {
	MessageID string
	// Sender is the lowercased sender address. Parse leaves it empty: the
	// token holds only a keyed tag of the address.
	Sender  string
	Action  Action
	Expires time.Time // whole seconds, UTC
}

type keySet struct {
	mac    []byte
	sender []byte
}

func deriveKeys(key []byte) keySet {
	d := func(label string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(label))
		return h.Sum(nil)
	}
	return keySet{mac: d("rcptguard token mac v1"), sender: d("rcptguard token sender v1")}
}

// Signer signs with its first key and verifies with any of its keys.
// It is safe for concurrent use once configured.
type Signer struct {
	// Now is the clock used for expiry; nil means time.Now. Set it before
	// the Signer is shared.
	Now func() time.Time

	keys []keySet
}

// NewSigner returns a Signer that signs with key and verifies tokens signed
// with key or any of oldKeys (key rotation). Every key must be at least
// MinKeyLen bytes. The keys are not retained; derived subkeys are.
func NewSigner(key []byte, oldKeys ...[]byte) (*Signer, error) {
	s := &Signer{}
	for i, k := range append([][]byte{key}, oldKeys...) {
		if len(k) < MinKeyLen {
			if i == 0 {
				return nil, fmt.Errorf("token: key is %d bytes, need at least %d", len(k), MinKeyLen)
			}
			return nil, fmt.Errorf("token: old key %d is %d bytes, need at least %d", i, len(k), MinKeyLen)
		}
		s.keys = append(s.keys, deriveKeys(k))
	}
	return s, nil
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// NormalizeSender returns the form of a sender address that tokens bind to:
// trimmed of surrounding space and lowercased.
func NormalizeSender(addr string) string {
	return strings.ToLower(strings.TrimSpace(addr))
}

func senderTag(k keySet, sender string) []byte {
	h := hmac.New(sha256.New, k.sender)
	h.Write([]byte(NormalizeSender(sender)))
	return h.Sum(nil)[:tagLen]
}

func mac(k keySet, payload []byte) []byte {
	h := hmac.New(sha256.New, k.mac)
	h.Write(payload)
	return h.Sum(nil)[:macLen]
}

// Sign returns the token for c. The sender is normalized with
// NormalizeSender and Expires is truncated to whole seconds.
//
// Sign panics if c.Action is not a defined Action or c.MessageID is empty or
// longer than MaxMessageIDLen bytes: these are programming errors (actions
// are constants, IDs come from the quarantine store).
func (s *Signer) Sign(c Claims) string {
	code, ok := actionCode(c.Action)
	if !ok {
		panic(fmt.Sprintf("token: Sign with invalid action %q", c.Action))
	}
	if n := len(c.MessageID); n == 0 || n > MaxMessageIDLen {
		panic(fmt.Sprintf("token: Sign with message ID of %d bytes (want 1..%d)", n, MaxMessageIDLen))
	}
	k := s.keys[0]
	b := make([]byte, 0, headerLen+len(c.MessageID)+macLen)
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Expires.Unix()))
	b = append(b, code)
	b = append(b, senderTag(k, c.Sender)...)
	b = append(b, c.MessageID...)
	b = append(b, mac(k, b)...)
	return enc.EncodeToString(b)
}

// open decodes tok and checks its MAC. It returns the claims (without
// Sender), the key that verified it and the sender tag.
func (s *Signer) open(tok string) (Claims, keySet, []byte, error) {
	if len(tok) > maxTokenLen {
		return Claims{}, keySet{}, nil, fmt.Errorf("%w: too long", ErrMalformed)
	}
	// The decoder skips CR and LF; accept only the alphabet so each token
	// has exactly one spelling.
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return Claims{}, keySet{}, nil, fmt.Errorf("%w: not base64url", ErrMalformed)
		}
	}
	raw, err := enc.DecodeString(tok)
	if err != nil {
		return Claims{}, keySet{}, nil, fmt.Errorf("%w: not base64url", ErrMalformed)
	}
	if len(raw) < minRawLen || len(raw) > maxRawLen {
		return Claims{}, keySet{}, nil, fmt.Errorf("%w: bad length", ErrMalformed)
	}
	if raw[0] != version {
		return Claims{}, keySet{}, nil, fmt.Errorf("%w: unknown version %d", ErrMalformed, raw[0])
	}
	payload, sum := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	var key keySet
	found := false
	for _, k := range s.keys {
		// Check every key so timing does not reveal which one matched.
		if hmac.Equal(mac(k, payload), sum) && !found {
			key, found = k, true
		}
	}
	if !found {
		return Claims{}, keySet{}, nil, ErrForged
	}
	act, ok := codeAction(payload[9])
	if !ok {
		// Authentic but unknown: signed by a newer version of this package.
		return Claims{}, keySet{}, nil, fmt.Errorf("%w: unknown action code %d", ErrMalformed, payload[9])
	}
	c := Claims{
		Expires:   time.Unix(int64(binary.BigEndian.Uint64(payload[1:9])), 0).UTC(),
		Action:    act,
		MessageID: string(payload[headerLen:]),
	}
	return c, key, payload[10:headerLen], nil
}

func (s *Signer) expired(c Claims) bool {
	return !s.now().Before(c.Expires)
}

// Parse checks the token's signature and returns its claims without checking
// them against expectations, so the view page can find the message. Sender is
// empty in the result. An authentic token past its expiry returns its claims
// with ErrExpired. Use Verify before acting on a message.
func (s *Signer) Parse(tok string) (Claims, error) {
	c, _, _, err := s.open(tok)
	if err != nil {
		return Claims{}, err
	}
	if s.expired(c) {
		return c, ErrExpired
	}
	return c, nil
}

// Verify checks that tok is authentic, is for messageID, action and sender
// (normalized with NormalizeSender), and has not expired, in that order.
//
// For ErrMalformed and ErrForged the returned Claims are zero. For
// ErrWrongMessage, ErrWrongAction, ErrWrongSender and ErrExpired they are the
// token's authenticated claims with an empty Sender (except ErrExpired, where
// the sender matched and is set), so the page can say what the link was for.
func (s *Signer) Verify(tok, messageID, sender string, action Action) (Claims, error) {
	c, key, tag, err := s.open(tok)
	if err != nil {
		return Claims{}, err
	}
	if c.MessageID != messageID {
		return c, ErrWrongMessage
	}
	if c.Action != action {
		return c, ErrWrongAction
	}
	if subtle.ConstantTimeCompare(senderTag(key, sender), tag) != 1 {
		return c, ErrWrongSender
	}
	c.Sender = NormalizeSender(sender)
	if s.expired(c) {
		return c, ErrExpired
	}
	return c, nil
}
