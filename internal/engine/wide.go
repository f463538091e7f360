package engine

import (
	"hash/maphash"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"

	"github.com/rcptguard/rcptguard/internal/address"
)

// wideAlphabet is every character an ASCII label may hold.
const wideAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"

// PermuteWide generates the lookalikes a squatter could register, without the detector's
// length limits: everything Permute(d, nil) gives, then every single edit of the
// registrable label with any character (omission, insertion, replacement, transposition,
// repetition, a dot or a hyphen), plurals, one or two lookalike glyphs (ASCII, Latin with
// diacritics, Cyrillic, Greek; see glyphTable), the label written wholly in Cyrillic,
// the dots of the name dropped or made hyphens, and the name under other top-level
// domains (wideTLDs). It is meant for discovery (which of these exist?), not for
// detection: the detector flags fewer, on purpose.
//
// Each domain is reported once, with the first technique that made it; d itself, names
// under d's own registrable domain and names under a suffix the public suffix list does
// not know are left out.
func PermuteWide(d address.Domain) []Variant {
	out := Permute(d, nil)
	pre := d.DisplayPre()
	if pre == "" {
		return out
	}
	head, label := "", pre
	if i := strings.LastIndexByte(pre, '.'); i >= 0 {
		head, label = pre[:i+1], pre[i+1:]
	}
	w := wideGen{
		d:    d,
		reg:  d.Registrable(),
		head: head,
		tail: "." + d.Suffix,
		out:  out,
	}
	w.asciiName = isASCIIString(pre) && isASCIIString(d.Suffix)
	// The public suffix list has rules for particular ASCII labels (exceptions such as
	// !www.ck), none for A-labels: if one A-label gets d's suffix, every one does.
	sfx, _ := publicsuffix.PublicSuffix(head + "xn--80ak6aa92e." + d.Suffix)
	w.xnSuffix = sfx == d.Suffix

	// The first glyph swaps come first, for their number sizes everything else: the pairs
	// made from them are nearly all the names.
	seed := maphash.MakeSeed()
	firsts := w.firstGlyphs(seed, label)
	n := len(out) + 75*len(label) + len(wideTLDs()) + 64
	for _, f := range firsts {
		n += 1 + countSwaps(w.firsts.String()[f.off:f.off+f.n], f.at)
	}
	w.names.Grow(n * (2*len(d.ASCII) + 12))
	w.names.WriteByte(0) // offset 0 is never a key
	w.seen = newNameSet(seed, &w.names, n)
	w.out = slices.Grow(w.out, n-len(out))
	w.seen.add([]byte(d.ASCII))
	for _, v := range out {
		w.seen.add([]byte(v.Domain.ASCII))
	}
	w.edits([]rune(label))
	w.glyphs(firsts)
	w.cyrillic(label)
	w.joins(pre)
	for _, tld := range wideTLDs() {
		w.buf = append(append(append(w.buf[:0], pre...), '.'), tld...)
		w.emitBytes(w.buf, SuffixSwap)
	}
	w.seen.release()
	return w.out
}

// wideGen collects the variants of one domain. Names are built as head + label + tail:
// head is the labels left of the registrable one ("us."), tail the suffix (".com").
type wideGen struct {
	d          address.Domain
	reg        string
	head, tail string
	asciiName  bool            // d's name is ASCII, so head and tail are their own A-labels
	xnSuffix   bool            // an A-label in the registrable label's place leaves the suffix as it is
	seen       nameSet         // every name met, as given and in its ASCII form; keys in names
	names      strings.Builder // seen's keys, and the display names of the glyph variants
	firsts     strings.Builder // the labels one glyph swap makes
	out        []Variant
	buf, key   []byte
}

// emitLabel emits head + label + tail.
func (w *wideGen) emitLabel(label []byte, t Technique) {
	w.buf = append(append(append(w.buf[:0], w.head...), label...), w.tail...)
	w.emitBytes(w.buf, t)
}

// emitName emits name.
func (w *wideGen) emitName(name string, t Technique) {
	w.buf = append(w.buf[:0], name...)
	w.emitBytes(w.buf, t)
}

// emitBytes validates the name in a scratch buffer and keeps it when it is new, outside
// d's registrable domain and under a listed suffix.
func (w *wideGen) emitBytes(name []byte, t Technique) {
	var str string
	if len(name) <= 255 {
		pos, h, found := w.seen.find(name)
		if found {
			return
		}
		// The key's copy in the arena is the string ParseDomain gets, and for a name
		// already in its ASCII form, the variant's own: no string of its own.
		off := w.names.Len()
		w.names.Write(name)
		w.seen.put(pos, h, off, len(name))
		str = w.names.String()[off:]
	} else {
		str = string(name)
	}
	v, err := address.ParseDomain(str)
	if err != nil || !v.Listed || registrableIs(v, w.reg) {
		return
	}
	if v.ASCII != str {
		w.key = append(w.key[:0], v.ASCII...)
		if !w.seen.add(w.key) {
			return
		}
	}
	w.out = append(w.out, Variant{Domain: v, Technique: t})
}

// edits makes every single-character edit of the label with any LDH character, plus
// plurals and dots.
func (w *wideGen) edits(l []rune) {
	n := len(l)
	// with returns the label with l[i:j] replaced by mid, in UTF-8.
	var b []byte
	with := func(i, j int, mid ...rune) []byte {
		b = b[:0]
		for _, r := range l[:i] {
			b = utf8.AppendRune(b, r)
		}
		for _, r := range mid {
			b = utf8.AppendRune(b, r)
		}
		for _, r := range l[j:] {
			b = utf8.AppendRune(b, r)
		}
		return b
	}
	for i := 0; i < n; i++ {
		w.emitLabel(with(i, i+1), Omission)
		if i+1 < n {
			w.emitLabel(with(i, i+2, l[i+1], l[i]), Transposition)
			if l[i] != '-' && l[i+1] != '-' {
				w.emitLabel(with(i+1, i+1, '.'), Doppelganger)
			}
		}
		for _, x := range wideAlphabet {
			if x != l[i] {
				w.emitLabel(with(i, i+1, x), substitution(l[i], x))
			}
		}
	}
	for i := 0; i <= n; i++ {
		for _, x := range wideAlphabet {
			t := Addition
			switch {
			case i > 0 && l[i-1] == x || i < n && l[i] == x:
				t = Repetition
			case x == '-':
				t = Hyphenation
			case i > 0 && isAdjacent(byteOf(l[i-1]), byte(x)) || i < n && isAdjacent(byteOf(l[i]), byte(x)):
				t = Insertion
			}
			w.emitLabel(with(i, i, x), t)
		}
		if i > 0 {
			w.emitLabel(with(i, i, 's'), Plural)
			w.emitLabel(with(i, i, 'e', 's'), Plural)
		}
	}
}

// firstGlyph is a label made by one glyph swap, in wideGen.firsts, and where the first
// swap that made it starts.
type firstGlyph struct {
	off, n, at int
}

// firstGlyphs makes every label one glyph swap makes of label (glyphSwaps), each once and
// other than label, in the order made.
func (w *wideGen) firstGlyphs(seed maphash.Seed, label string) []firstGlyph {
	var firsts []firstGlyph
	var scratch []byte
	w.firsts.WriteByte(0)
	made := newNameSet(seed, &w.firsts, 256)
	made.add([]byte(label))
	glyphSwaps(label, 0, &scratch, func(b []byte, at int) {
		if made.add(b) {
			firsts = append(firsts, firstGlyph{off: w.firsts.Len() - len(b), n: len(b), at: at})
		}
	})
	made.release()
	return firsts
}

// glyphs emits the labels one glyph swap makes (firsts), then those two make. Two labels
// differ exactly when their names do, so seen deduplicates the labels too.
//
// A pair of swaps is made once: from a label made by a swap starting at p, only the
// swaps that end after p are tried. A pair whose second swap ends at or before p, that
// is, lies wholly left of the first, is made from the label its left swap makes, which
// starts before p, with the right one, which then ends after that start.
func (w *wideGen) glyphs(firsts []firstGlyph) {
	all := w.firsts.String()
	for _, f := range firsts {
		w.emitGlyph([]byte(all[f.off : f.off+f.n]))
	}
	var scratch []byte
	for _, f := range firsts {
		glyphSwaps(all[f.off:f.off+f.n], f.at, &scratch, func(b []byte, _ int) {
			w.emitGlyph(b)
		})
	}
}

// emitGlyph emits head + s + tail for a label made by glyphSwaps. Every glyph is a
// letter IDNA keeps as it is (stableInLabel), so such a label is valid as it stands: its
// A-label is its Punycode, without the mapping and checks of address.ParseDomain (the
// tests compare the two on every variant).
func (w *wideGen) emitGlyph(s []byte) {
	if isASCIIBytes(s) {
		w.buf = append(append(append(w.buf[:0], w.head...), s...), w.tail...)
		w.emitBytes(w.buf, Visual)
		return
	}
	if !w.asciiName || !w.xnSuffix {
		// The name as written, through ParseDomain.
		w.buf = append(append(append(w.buf[:0], w.head...), s...), w.tail...)
		w.emitBytes(w.buf, Homoglyph)
		return
	}
	if !w.d.Listed {
		return
	}
	buf := append(append(w.buf[:0], w.head...), "xn--"...)
	buf, ok := appendPunycode(buf, s)
	if !ok || len(buf)-len(w.head) > address.MaxLabelOctets {
		return
	}
	buf = append(buf, w.tail...)
	w.buf = buf
	if len(buf) > address.MaxNameOctets {
		return
	}
	pos, h, found := w.seen.find(buf)
	if found {
		return
	}
	// The names are written to the arena once, and the variant's strings are parts of it:
	// a strings.Builder never rewrites what it holds.
	a0 := w.names.Len()
	w.names.Write(buf)
	w.seen.put(pos, h, a0, len(buf))
	a1 := w.names.Len()
	w.names.WriteString(w.head)
	w.names.Write(s)
	w.names.WriteString(w.tail)
	all := w.names.String()
	// The label differs from d's (glyphs never rebuild it: it is in their made set), so
	// the registrable domain differs too.
	v := address.Domain{ASCII: all[a0:a1], Display: all[a1:], Suffix: w.d.Suffix, Listed: true}
	w.out = append(w.out, Variant{Domain: v, Technique: Homoglyph})
}

// countSwaps is how many times glyphSwaps(s, from, ...) calls its function.
func countSwaps(s string, from int) int {
	tab := glyphTable()
	n := 0
	for i := max(from-1, 0); i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			continue
		}
		if i+1 > from {
			n += len(tab.one[c])
		}
		if i+1 < len(s) {
			n += len(tab.two[[2]byte{c, s[i+1]}])
			if s[i+1] == c {
				n += len(tab.one[c])
			}
		}
	}
	return n
}

// glyphSwaps calls f with every string made from s by one lookalike replacement that
// ends after from: one character or a two-character run ("rn", "ae") for one of its
// glyphs, or a doubled character for its glyph doubled; and where the replacement starts.
// The bytes f gets are scratch, valid during the call.
func glyphSwaps(s string, from int, scratch *[]byte, f func([]byte, int)) {
	tab := glyphTable()
	put := func(i, j int, g string, twice bool) {
		b := append((*scratch)[:0], s[:i]...)
		b = append(b, g...)
		if twice {
			b = append(b, g...)
		}
		b = append(b, s[j:]...)
		*scratch = b
		f(b, i)
	}
	for i := max(from-1, 0); i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			continue // a glyph already: its bytes are not keys
		}
		if i+1 > from {
			for _, g := range tab.one[c] {
				put(i, i+1, g, false)
			}
		}
		if i+1 < len(s) {
			if gs, ok := tab.two[[2]byte{c, s[i+1]}]; ok {
				for _, g := range gs {
					put(i, i+2, g, false)
				}
			}
			if s[i+1] == c {
				for _, g := range tab.one[c] {
					put(i, i+2, g, true)
				}
			}
		}
	}
}

// cyrillic writes the whole label in Cyrillic letters when every character has one.
func (w *wideGen) cyrillic(label string) {
	var b strings.Builder
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c >= utf8.RuneSelf || cyrillicLetters[c] == 0 {
			return
		}
		b.WriteRune(cyrillicLetters[c])
	}
	w.emitLabel([]byte(b.String()), Homoglyph)
}

// joins drops a dot of the name or makes it a hyphen ("usibm.com", "us-ibm.com",
// "cbacom.au"), and puts a name that became a single label under its own top-level
// domain and under .com ("armymil.mil", "army-mil.com"). A two-label suffix is also cut
// to its last label ("cba.au").
func (w *wideGen) joins(pre string) {
	name := pre + "." + w.d.Suffix
	tld := w.d.Suffix[strings.LastIndexByte(w.d.Suffix, '.')+1:]
	if tld != w.d.Suffix {
		w.emitName(pre+"."+tld, SuffixTypo)
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		for _, sep := range [...]string{"", "-"} {
			j := name[:i] + sep + name[i+1:]
			w.emitName(j, Doppelganger)
			if i >= len(pre) || strings.IndexByte(j, '.') < 0 {
				// The suffix is now part of a label: put the name under one again.
				w.emitName(j+"."+tld, Doppelganger)
				w.emitName(j+".com", Doppelganger)
			}
		}
	}
	if strings.Count(pre, ".") > 1 {
		// All the labels left of the registrable one run together: a.b.c.com -> abc.com.
		w.emitName(strings.ReplaceAll(pre, ".", "")+w.tail, Doppelganger)
		w.emitName(strings.ReplaceAll(pre, ".", "-")+w.tail, Doppelganger)
	}
}

func isASCIIBytes(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// registrableIs reports whether v.Registrable() == reg, without making the string.
func registrableIs(v address.Domain, reg string) bool {
	if len(v.ASCII) <= len(v.Suffix) {
		return reg == ""
	}
	pre := v.ASCII[:len(v.ASCII)-len(v.Suffix)-1]
	if pre == "" {
		return reg == ""
	}
	label := pre[strings.LastIndexByte(pre, '.')+1:]
	return len(reg) == len(label)+1+len(v.Suffix) && reg[:len(label)] == label &&
		reg[len(label)] == '.' && reg[len(label)+1:] == v.Suffix
}
