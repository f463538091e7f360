package scan

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// NewRedactor returns a function that replaces an address's local part by a keyed hash
// (HMAC-SHA-256 under key, 12 hex digits), keeping the domain: the same sender gets the
// same name throughout a report, and nobody without the key can tell who it was. With a
// nil key a random one is made (the names then differ from run to run).
func NewRedactor(key []byte) func(string) string {
	if key == nil {
		key = make([]byte, 32)
		rand.Read(key)
	}
	return func(addr string) string {
		local, domain := addr, ""
		if at := strings.LastIndexByte(addr, '@'); at >= 0 {
			local, domain = addr[:at], addr[at:]
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(local))
		return "h-" + hex.EncodeToString(m.Sum(nil)[:6]) + domain
	}
}
