package engine

import (
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// fuzzSeeds are queries from the technique tests: every technique, both scripts, punycode.
var fuzzSeeds = []string{
	"army.ml", "army.mi", "army.mill", "army.mli", "af.ml", "gmail.co", "gmail.con", "cba.com", "partner.uk",
	"army.mil.ml", "gmail.com.co", "xyz.ml", "xyz.mil", "gmаil.com", "xn--gmil-63d.com", "gmαil.com",
	"fabrikarn.com", "vvingtiptoys.com", "clropbox.com", "outlo0k.com", "usibm.com", "mailarmy.mil",
	"fab.rikam.com", "tonline.de", "t-online.de", "fabrkam.com", "gmaill.com", "gmial.com", "gmaikl.com",
	"fabrikan.com", "fabrikem.com", "fabrikcm.com", "fabrikams.com", "fabrikamx.com", "uk.ibm.com",
	"mail.army.ml", "bank.ml", "x.gov.ml", "公司.中国", "straße.de", "co.uk", "a.b.c.d.e.f.ml",
}

// fuzzEngine is the engine FuzzCheck checks against: a bit of everything.
func fuzzEngine(tb testing.TB) *Engine {
	tb.Helper()
	return newEngine(tb, Inputs{
		Own: parseDomains(tb, "contoso.com"),
		Protected: parseDomains(tb, "army.mil", "mail.army.mil", "af.mil", "us.ibm.com", "cba.com.au", "partner.co.uk",
			"fabrikam.com", "t-online.de", "wingtiptoys.com", "straße.de", "gmаil.com"),
		ProtectedNamespaces: []string{"mil", "gov"},
		Providers:           providers.Domains(),
		Known: []KnownDomain{
			{domain(tb, "fabrikan.com"), 3}, {domain(tb, "contoso.co"), 10}, {domain(tb, "northwind.de"), 5000},
			{domain(tb, "northwnd.de"), 20}, {domain(tb, "公司.中国"), 7},
		},
		Allow:           parseDomains(tb, "bank.ml"),
		AllowNamespaces: []string{"ok.ml"},
		Block:           parseDomains(tb, "evil.example"),
		BlockNamespaces: []string{"ml"},
	})
}

func FuzzCheck(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	e := fuzzEngine(f)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := address.ParseDomain(s)
		if err != nil {
			return
		}
		r := e.Check(d)
		if r.Domain != d {
			t.Fatalf("%q: Result.Domain = %+v, want %+v", s, r.Domain, d)
		}
		if r.Allowed && (r.Blocked || len(r.Findings) > 0) {
			t.Fatalf("%q: allowed, and blocked %v with %d findings", s, r.Blocked, len(r.Findings))
		}
		if len(r.Findings) > maxFindings {
			t.Fatalf("%q: %d findings", s, len(r.Findings))
		}
		seen := map[string]bool{}
		for i, fd := range r.Findings {
			if fd.Score < MinScore || fd.Score > 1 {
				t.Fatalf("%q: finding %s has score %v", s, fd.Intended, fd.Score)
			}
			if i > 0 && fd.Score > r.Findings[i-1].Score {
				t.Fatalf("%q: findings not sorted by score: %s", s, describeResult(r))
			}
			if fd.Intended == d.ASCII {
				t.Fatalf("%q: a finding for itself: %s", s, describeResult(r))
			}
			if seen[fd.Intended] {
				t.Fatalf("%q: %s reported twice: %s", s, fd.Intended, describeResult(r))
			}
			seen[fd.Intended] = true
			if fd.Detail() == "" || !utf8.ValidString(fd.Detail()) {
				t.Fatalf("%q: Detail %q", s, fd.Detail())
			}
			if fd.Technique < 1 || fd.Technique >= numTechniques || fd.Situation < SituationProtected || fd.Situation > SituationMixedScript {
				t.Fatalf("%q: technique %v situation %v", s, fd.Technique, fd.Situation)
			}
			if fd.Strong() != (fd.Score >= StrongScore) {
				t.Fatalf("%q: Strong() disagrees with the score", s)
			}
			if _, err := address.ParseDomain(fd.Intended); err != nil {
				t.Fatalf("%q: intended %q is not a domain: %v", s, fd.Intended, err)
			}
		}
	})
}

// runes returns s as runes, the way classify sees it (invalid bytes become U+FFFD).
func runes(s string) []rune { return []rune(s) }

// osaDistance is the optimal string alignment distance (Damerau with adjacent transpositions)
// in runes.
func osaDistance(a, b []rune) int {
	n, m := len(a), len(b)
	d := make([][]int, n+1)
	for i := range d {
		d[i] = make([]int, m+1)
		d[i][0] = i
	}
	for j := 0; j <= m; j++ {
		d[0][j] = j
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[n][m]
}

// checkEdit asserts that e, which classify returned for (c, q), describes the change from
// c to q.
func checkEdit(t *testing.T, c, q string, e edit) {
	t.Helper()
	cr, qr := runes(c), runes(q)
	from, to := runes(e.from), runes(e.to)
	p := e.pos
	fail := func(why string) {
		t.Helper()
		t.Fatalf("classify(%q, %q) = %+v: %s", c, q, e, why)
	}
	if p < 0 || p > len(cr) {
		fail("position out of range")
	}
	switch len(qr) - len(cr) {
	case -1: // q lacks a character
		if len(from) != 1 || len(to) != 0 || p >= len(cr) || from[0] != cr[p] {
			fail("omission: from/to do not name the missing character")
		}
		if !slices.Equal(slices.Concat(cr[:p], cr[p+1:]), qr) {
			fail("omission: removing it does not give q")
		}
		want := Omission
		switch cr[p] {
		case '.':
			want = Doppelganger
		case '-':
			want = Hyphenation
		}
		if e.tech != want {
			fail("omission of " + string(cr[p]) + " is " + want.String())
		}
	case 1: // q has one character more
		if len(to) != 1 || len(from) != 0 || to[0] != qr[p] {
			fail("insertion: from/to do not name the extra character")
		}
		if !slices.Equal(slices.Concat(cr[:p], to, cr[p:]), qr) {
			fail("insertion: adding it does not give q")
		}
		x := qr[p]
		repeated := p > 0 && qr[p-1] == x || p+1 < len(qr) && qr[p+1] == x
		switch e.tech {
		case Doppelganger:
			if x != '.' {
				fail("doppelganger insertion of a non-dot")
			}
		case Hyphenation:
			if x != '-' {
				fail("hyphenation insertion of a non-hyphen")
			}
		case Repetition:
			if !repeated {
				fail("repetition without a repeated neighbour")
			}
		case Plural:
			if x != 's' || p != len(qr)-1 {
				fail("plural that is not a final s")
			}
		case Insertion:
			adj := x < utf8.RuneSelf && (p > 0 && isAdjacent(byte(x), byteOf(qr[p-1])) || p+1 < len(qr) && isAdjacent(byte(x), byteOf(qr[p+1])))
			if !adj {
				fail("insertion of a key that is not next to a neighbour")
			}
		case Addition:
		default:
			fail("technique " + e.tech.String() + " for an insertion")
		}
		if x == '.' && e.tech != Doppelganger || x == '-' && e.tech != Hyphenation {
			fail("a dot or hyphen added is doppelganger or hyphenation")
		}
	case 0:
		if e.tech == Transposition {
			if p+1 >= len(cr) || len(from) != 2 || len(to) != 2 || cr[p] != qr[p+1] || cr[p+1] != qr[p] || cr[p] == cr[p+1] {
				fail("transposition: not a swap of two different neighbours")
			}
			if !slices.Equal(cr[:p], qr[:p]) || !slices.Equal(cr[p+2:], qr[p+2:]) || !slices.Equal(from, cr[p:p+2]) || !slices.Equal(to, qr[p:p+2]) {
				fail("transposition: the rest differs or from/to are wrong")
			}
			return
		}
		if p >= len(cr) || len(from) != 1 || len(to) != 1 || from[0] != cr[p] || to[0] != qr[p] || cr[p] == qr[p] {
			fail("substitution: from/to do not name the replaced character")
		}
		if !slices.Equal(cr[:p], qr[:p]) || !slices.Equal(cr[p+1:], qr[p+1:]) {
			fail("substitution: the rest differs")
		}
		a, b := cr[p], qr[p]
		ascii := a < utf8.RuneSelf && b < utf8.RuneSelf
		switch e.tech {
		case Homoglyph:
			if ascii {
				fail("homoglyph between ASCII characters")
			}
		case Substitution:
		case Doppelganger:
			if !(a == '.' && b == '-' || a == '-' && b == '.') {
				fail("doppelganger substitution that is not dot/hyphen")
			}
		case Visual:
			if !ascii || !isVisualPair(byte(a), byte(b)) {
				fail("visual substitution of a pair not in the table")
			}
		case Replacement:
			if !ascii || !isAdjacent(byte(a), byte(b)) {
				fail("replacement by a key that is not adjacent")
			}
		case VowelSwap:
			if !ascii || !isVowel(byte(a)) || !isVowel(byte(b)) {
				fail("vowel swap of a non-vowel")
			}
		case Bitsquat:
			if !ascii || !isBitflip(byte(a), byte(b)) {
				fail("bitsquat that is not one bit")
			}
		default:
			fail("technique " + e.tech.String() + " for a substitution")
		}
	default:
		fail("one edit cannot change the length by more than one")
	}
}

func FuzzClassify(f *testing.F) {
	pairs := [][2]string{
		{"gmail", "gmai"}, {"gmail", "gmial"}, {"gmail", "gmaill"}, {"gmail", "gmaikl"}, {"gmail", "gmaik"},
		{"gmail", "gmeil"}, {"gmail", "gmaid"}, {"gmail", "gmails"}, {"gmail", "gmailx"}, {"gmail", "gmаil"},
		{"gmail", "gmai1"}, {"us.ibm", "usibm"}, {"us.ibm", "us-ibm"}, {"t-online", "tonline"}, {"tonline", "t-online"},
		{"fabrikam", "fab.rikam"}, {"mil", "ml"}, {"com.au", "com"}, {"", "a"}, {"a", ""}, {"ab", "ba"},
		{"aa", "aa"}, {"straße", "strase"}, {"\xff", "a"}, {"a\xffb", "ab"}, {"公司", "公"},
	}
	for _, p := range pairs {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, c, q string) {
		e, ok := classify(c, q)
		// Detail must work on whatever classify produced.
		fd := Finding{Technique: e.tech, Query: q, Target: c, edit: e}
		if ok && fd.Detail() == "" {
			t.Fatalf("classify(%q, %q): empty Detail", c, q)
		}
		if se, sok := suffixEdit(c, q); sok && se.tech != SuffixTypo && se.tech != AppendedSuffix {
			t.Fatalf("suffixEdit(%q, %q) = %+v", c, q, se)
		}
		cr, qr := runes(c), runes(q)
		if len(cr) > 300 || len(qr) > 300 {
			if ok {
				checkEdit(t, c, q, e)
			}
			return
		}
		dist := osaDistance(cr, qr)
		if ok != (dist == 1) {
			t.Fatalf("classify(%q, %q) ok=%v (%+v), but the distance is %d", c, q, ok, e, dist)
		}
		if ok {
			checkEdit(t, c, q, e)
		}
	})
}
