package confusables

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestSkeletonEqual(t *testing.T) {
	pairs := []struct{ a, b string }{
		{"fabrikam", "fabrikarn"},
		{"outlook", "outlo0k"},
		{"gmail", "gmаil"},       // Cyrillic а
		{"fabrikam", "fabrіkam"}, // Cyrillic і
		{"contoso", "cοntoso"},   // Greek ο
		{"wikipedia", "vvikipedia"},
		{"d", "cl"},
		{"paypal", "paypa1"},
		{"paypal", "paypaI"},
		{"paypal", "paypaı"}, // dotless i
		{"paypal", "paypaӏ"}, // Cyrillic palochka
		{"paypal", "paypaⅼ"}, // small roman numeral fifty
		{"apple", "аррӏе"},   // Cyrillic а р р ӏ е
		{"exco", "ехсо"},     // Cyrillic е х с о
		{"yes", "уеѕ"},       // Cyrillic у е ѕ
		{"jd", "јԁ"},         // Cyrillic ј ԁ
		{"qw", "ԛԝ"},         // Cyrillic ԛ ԝ
		{"avikpt", "ανικρτ"}, // Greek α ν ι κ ρ τ
		{"cafe", "café"},     // decorating mark dropped
		{"cafe", "cafe\u0301"},
		{"mail.example.com", "rnail.exarnple.corn"},
		{"my-shop", "rny-shop"},
		{"micro", "rnicr0"},
		{"d", "c1"}, // '1' -> 'l' first, then "cl" -> "d"
		{"example", "EXAMPLE"},
		{"bank", "bаnk"}, // Cyrillic а
	}
	for _, p := range pairs {
		if sa, sb := Skeleton(p.a), Skeleton(p.b); sa != sb {
			t.Errorf("Skeleton(%q) = %q, Skeleton(%q) = %q; want equal", p.a, sa, p.b, sb)
		}
	}
}

func TestSkeletonDiffer(t *testing.T) {
	pairs := []struct{ a, b string }{
		{"gmail", "ymail"},
		{"gmail", "mail"},
		{"army", "navy"},
		{"mail", "mall"}, // i and l are kept apart
		{"pail", "pall"},
		{"contoso", "contoso-"},
		{"a.b", "ab"},
		{"rn", "rnn"},
		{"пример", "example"},
		{"日本", "中国"},
	}
	for _, p := range pairs {
		if sa, sb := Skeleton(p.a), Skeleton(p.b); sa == sb {
			t.Errorf("Skeleton(%q) == Skeleton(%q) == %q; want different", p.a, p.b, sa)
		}
	}
}

func TestSkeletonValues(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"fabrikam", "fabrikam"},
		{"fabrikarn", "fabrikam"},
		{"vvv", "wv"},
		{"rrnn", "rmn"},
		{"cll", "dl"},
		{"I0.1-", "lo.l-"},
		{"gmаil", "gmail"},
		{"münchen", "munchen"},
		{"\xff", "\uFFFD"},
		{"a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		if got := Skeleton(tt.in); got != tt.want {
			t.Errorf("Skeleton(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsASCII(t *testing.T) {
	for s, want := range map[string]bool{"": true, "abc-1.x": true, "ä": false, "a\xff": false} {
		if got := IsASCII(s); got != want {
			t.Errorf("IsASCII(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestTable(t *testing.T) {
	m := table()
	if tableBad != 0 || len(m) < 2000 {
		t.Fatalf("table: %d entries, %d malformed lines", len(m), tableBad)
	}
	// Every entry folds without hitting the depth limit and to a fixed point.
	for r := range m {
		s := string(r)
		sk := Skeleton(s)
		if strings.ContainsRune(sk, utf8.RuneError) {
			t.Errorf("Skeleton(%U) = %q hits the depth limit", r, sk)
		}
		if Skeleton(sk) != sk {
			t.Errorf("Skeleton(%U) = %q is not a fixed point (%q)", r, sk, Skeleton(sk))
		}
	}
}

func TestParseTable(t *testing.T) {
	m, bad := parseTable("# c\n\n0430 ; 0061 ; MA # x\n03B7 ; 006E 0329 ; MA\nzz ; 0061\n0041\nD800 ; 0061\n")
	if bad != 3 || len(m) != 2 || m['\u0430'] != "a" || m['\u03B7'] != "n\u0329" {
		t.Errorf("parseTable = %q, %d bad", m, bad)
	}
}

// TestAllRunesIdempotent checks every code point: Skeleton is idempotent and
// gives canonically equivalent input the same skeleton.
func TestAllRunesIdempotent(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r == 0xD800 {
			r = 0xE000
		}
		s := string(r)
		sk := Skeleton(s)
		if Skeleton(sk) != sk {
			t.Errorf("Skeleton(%U) = %q, Skeleton of that = %q", r, sk, Skeleton(sk))
		}
		if d := norm.NFD.String(s); Skeleton(d) != sk {
			t.Errorf("Skeleton(%U) = %q, Skeleton(NFD) = %q", r, sk, Skeleton(d))
		}
	}
}

func TestLooseSkeletonReadsNNAsM(t *testing.T) {
	for in, want := range map[string]string{
		"arnny":     Skeleton("army"),
		"fabrikann": Skeleton("fabrikam"),
		"gnnail":    Skeleton("gmail"),
		"penn":      Skeleton("pem"),
		"army":      "", // nothing to read loosely
		"gmail":     "",
	} {
		if got := LooseSkeleton(in); got != want {
			t.Errorf("LooseSkeleton(%q) = %q, want %q", in, got, want)
		}
	}
	// One direction only: the plain skeletons of names with "nn" stay their own.
	if Skeleton("penn") == Skeleton("pem") || Skeleton("anna") == Skeleton("ama") {
		t.Error(`the plain skeleton reads "nn" as "m"`)
	}
}
