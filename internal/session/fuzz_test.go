package session

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

// FuzzHashToken: a string is a token only as Start writes them (the unpadded base64url
// of 32 bytes, canonical), and then its ID hash is the SHA-256 of those bytes; any other
// spelling of the same bytes opens nothing.
func FuzzHashToken(f *testing.F) {
	minted := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, tokenBytes))
	for _, s := range []string{"", "=", minted, minted + "=", minted[:42], minted[:42] + "B",
		base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, tokenBytes)),
		base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, tokenBytes)), minted[:20] + "\n" + minted[20:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := HashToken(s)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
		canonical := err == nil && len(raw) == tokenBytes && base64.RawURLEncoding.EncodeToString(raw) == s
		if ok != canonical {
			t.Fatalf("HashToken(%q) ok = %v, want %v", s, ok, canonical)
		}
		if ok {
			if want := sha256.Sum256(raw); !bytes.Equal(h, want[:]) {
				t.Fatalf("HashToken(%q) = %x, want %x", s, h, want)
			}
		}
	})
}
