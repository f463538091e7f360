package confusables

import "unicode"

// Script bits for the scripts that the UTS #39 "highly restrictive" profile
// allows to combine. Any other script is tracked by its table.
const (
	scLatin uint8 = 1 << iota
	scHan
	scHiragana
	scKatakana
	scBopomofo
	scHangul
)

// allowedSets are the multi-script combinations of the highly restrictive
// profile; a label passes if its scripts are a subset of one of them.
var allowedSets = [...]uint8{
	scLatin | scHan | scHiragana | scKatakana, // Japanese
	scLatin | scHan | scBopomofo,              // Chinese
	scLatin | scHan | scHangul,                // Korean
}

// knownScripts are checked first, in order; the bit is 0 for scripts that
// are only allowed alone.
var knownScripts = [...]struct {
	t   *unicode.RangeTable
	bit uint8
}{
	{unicode.Latin, scLatin},
	{unicode.Cyrillic, 0},
	{unicode.Greek, 0},
	{unicode.Han, scHan},
	{unicode.Hiragana, scHiragana},
	{unicode.Katakana, scKatakana},
	{unicode.Hangul, scHangul},
	{unicode.Bopomofo, scBopomofo},
	{unicode.Arabic, 0},
	{unicode.Hebrew, 0},
}

// MixedScript reports whether s mixes scripts in a way the UTS #39 highly
// restrictive profile refuses, e.g. Latin with Cyrillic or Greek. Common and
// Inherited characters (digits, '-', '.', combining marks, 'ー') are
// ignored; Latin+Han+Hiragana+Katakana, Latin+Han+Bopomofo and
// Latin+Han+Hangul are allowed. Script_Extensions are not consulted (the
// standard library has no such tables), and invalid UTF-8 is ignored.
func MixedScript(s string) bool {
	if IsASCII(s) {
		return false // Latin and Common only
	}
	var set uint8
	var other *unicode.RangeTable // the one script outside the bit set
	for _, r := range s {
		t, bit := scriptOf(r)
		switch {
		case t == nil:
		case bit != 0:
			set |= bit
		case other == nil:
			other = t
		case other != t:
			return true
		}
	}
	if other != nil {
		return set != 0
	}
	for _, a := range allowedSets {
		if set&^a == 0 {
			return false
		}
	}
	return true
}

// scriptOf returns r's script table and allowed-set bit, or nil for Common,
// Inherited and unassigned runes.
func scriptOf(r rune) (*unicode.RangeTable, uint8) {
	if r < 0x80 {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return unicode.Latin, scLatin
		}
		return nil, 0
	}
	if unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
		return nil, 0
	}
	for _, k := range knownScripts {
		if unicode.Is(k.t, r) {
			return k.t, k.bit
		}
	}
	for _, t := range unicode.Scripts { // each rune is in at most one
		if unicode.Is(t, r) {
			return t, 0
		}
	}
	return nil, 0
}
