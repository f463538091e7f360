package engine

// The implementation of PermuteWide before it was made faster (4 Dec 2026), kept as the
// reference its output is compared with (TestWideSameAsReference).

import (
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/rcptguard/rcptguard/internal/address"
)

// permuteWideRef generates the lookalikes a squatter could register, without the detector's
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
func permuteWideRef(d address.Domain) []Variant {
	out := Permute(d, nil)
	pre := d.DisplayPre()
	if pre == "" {
		return out
	}
	w := refWideGen{
		d:    d,
		reg:  d.Registrable(),
		seen: make(map[string]struct{}, 4*len(out)+4096),
		out:  out,
	}
	w.seen[d.ASCII] = struct{}{}
	for _, v := range out {
		w.seen[v.Domain.ASCII] = struct{}{}
	}
	head, label := "", pre
	if i := strings.LastIndexByte(pre, '.'); i >= 0 {
		head, label = pre[:i+1], pre[i+1:]
	}
	w.head, w.tail = head, "."+d.Suffix
	w.asciiName = isASCIIString(pre) && isASCIIString(d.Suffix)
	// The public suffix list has rules for particular ASCII labels (exceptions such as
	// !www.ck), none for A-labels: if one A-label gets d's suffix, every one does.
	sfx, _ := publicsuffix.PublicSuffix(head + "xn--80ak6aa92e." + d.Suffix)
	w.xnSuffix = sfx == d.Suffix
	w.edits([]rune(label))
	w.glyphs(label)
	w.cyrillic(label)
	w.joins(pre)
	for _, tld := range wideTLDs() {
		w.emitName(pre+"."+tld, SuffixSwap)
	}
	return w.out
}

// refWideGen collects the variants of one domain. Names are built as head + label + tail:
// head is the labels left of the registrable one ("us."), tail the suffix (".com").
type refWideGen struct {
	d          address.Domain
	reg        string
	head, tail string
	asciiName  bool // d's name is ASCII, so head and tail are their own A-labels
	xnSuffix   bool // an A-label in the registrable label's place leaves the suffix as it is
	seen       map[string]struct{}
	out        []Variant
	buf        []byte
}

// emitLabel emits head + label + tail.
func (w *refWideGen) emitLabel(label string, t Technique) {
	w.buf = append(append(append(w.buf[:0], w.head...), label...), w.tail...)
	w.emitBytes(w.buf, t)
}

// emitBytes emits a name held in a scratch buffer; the map lookup does not allocate.
func (w *refWideGen) emitBytes(name []byte, t Technique) {
	if _, dup := w.seen[string(name)]; dup {
		return
	}
	w.emitName(string(name), t)
}

// emitName validates name and keeps it when it is new, outside d's registrable domain and
// under a listed suffix.
func (w *refWideGen) emitName(name string, t Technique) {
	if _, dup := w.seen[name]; dup {
		return
	}
	w.seen[name] = struct{}{} // the input form; the ASCII form below
	v, err := address.ParseDomain(name)
	if err != nil || !v.Listed || v.Registrable() == w.reg {
		return
	}
	if _, dup := w.seen[v.ASCII]; dup && v.ASCII != name {
		return
	}
	w.seen[v.ASCII] = struct{}{}
	w.out = append(w.out, Variant{Domain: v, Technique: t})
}

// edits makes every single-character edit of the label with any LDH character, plus
// plurals and dots.
func (w *refWideGen) edits(l []rune) {
	var b []rune
	n := len(l)
	with := func(i, j int, mid ...rune) string {
		b = append(append(append(b[:0], l[:i]...), mid...), l[j:]...)
		return string(b)
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

// glyphs replaces one or two characters of the label with lookalikes, and a doubled
// letter with a doubled lookalike.
func (w *refWideGen) glyphs(label string) {
	// In the order made, so that the output is the same on every run. The swaps are
	// built in a scratch buffer; only new ones become strings.
	var first []string
	made := map[string]struct{}{label: {}}
	var scratch []byte
	refGlyphSwaps(label, &scratch, func(b []byte) {
		if _, ok := made[string(b)]; !ok {
			s := string(b)
			made[s] = struct{}{}
			first = append(first, s)
		}
	})
	grow := len(first) * len(first) / 2
	seen := make(map[string]struct{}, len(w.seen)+grow)
	for k := range w.seen {
		seen[k] = struct{}{}
	}
	w.seen = seen
	made2 := make(map[string]struct{}, len(made)+grow)
	for k := range made {
		made2[k] = struct{}{}
	}
	made = made2
	w.out = slices.Grow(w.out, grow)
	for _, s := range first {
		w.emitGlyph(s)
	}
	for _, s := range first {
		refGlyphSwaps(s, &scratch, func(b []byte) {
			if _, ok := made[string(b)]; !ok {
				s2 := string(b)
				made[s2] = struct{}{}
				w.emitGlyph(s2)
			}
		})
	}
}

// emitGlyph emits head + s + tail for a label made by refGlyphSwaps. Every glyph is a
// letter IDNA keeps as it is (stableInLabel), so such a label is valid as it stands: its
// A-label is its Punycode, without the mapping and checks of address.ParseDomain (the
// test compares the two on every variant).
func (w *refWideGen) emitGlyph(s string) {
	if isASCIIString(s) {
		w.emitLabel(s, Visual)
		return
	}
	if !w.asciiName {
		w.emitLabel(s, Homoglyph)
		return
	}
	a, err := idna.Punycode.ToASCII(s)
	if err != nil || len(a) > address.MaxLabelOctets {
		return
	}
	w.buf = append(append(append(w.buf[:0], w.head...), a...), w.tail...)
	if _, dup := w.seen[string(w.buf)]; dup {
		return
	}
	ascii := string(w.buf)
	w.seen[ascii] = struct{}{}
	if len(ascii) > address.MaxNameOctets {
		return
	}
	if !w.xnSuffix {
		w.emitName(ascii, Homoglyph)
		return
	}
	if !w.d.Listed {
		return
	}
	// The label differs from d's (glyphs never rebuild it: it is in their made set), so
	// the registrable domain differs too.
	v := address.Domain{ASCII: ascii, Display: w.head + s + w.tail, Suffix: w.d.Suffix, Listed: true}
	w.out = append(w.out, Variant{Domain: v, Technique: Homoglyph})
}

// refGlyphSwaps calls f with every string made from s by one lookalike replacement: one
// character or a two-character run ("rn", "ae") for one of its glyphs, or a doubled
// character for its glyph doubled. The bytes f gets are scratch, valid during the call.
func refGlyphSwaps(s string, scratch *[]byte, f func([]byte)) {
	tab := glyphTable()
	put := func(i, j int, g string, twice bool) {
		b := append((*scratch)[:0], s[:i]...)
		b = append(b, g...)
		if twice {
			b = append(b, g...)
		}
		b = append(b, s[j:]...)
		*scratch = b
		f(b)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			continue // a glyph already: its bytes are not keys
		}
		for _, g := range tab.one[c] {
			put(i, i+1, g, false)
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
func (w *refWideGen) cyrillic(label string) {
	var b strings.Builder
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c >= utf8.RuneSelf || cyrillicLetters[c] == 0 {
			return
		}
		b.WriteRune(cyrillicLetters[c])
	}
	w.emitLabel(b.String(), Homoglyph)
}

// joins drops a dot of the name or makes it a hyphen ("usibm.com", "us-ibm.com",
// "cbacom.au"), and puts a name that became a single label under its own top-level
// domain and under .com ("armymil.mil", "army-mil.com"). A two-label suffix is also cut
// to its last label ("cba.au").
func (w *refWideGen) joins(pre string) {
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
