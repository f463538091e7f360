package confusables

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzSkeleton checks that Skeleton never panics, returns valid UTF-8, is
// idempotent and gives canonically equivalent input (NFC, NFD) the same
// skeleton.
func FuzzSkeleton(f *testing.F) {
	for _, s := range []string{
		"", "gmail", "fabrikarn", "vvv", "c1", "gmаil", "cοntoso", "ανικρτ",
		"café", "\xff", "한국", "ラーメン", "i\u0307\u0301", "a\u0315\u0301",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 256 {
			// Domain names have at most 253 bytes; long random inputs only
			// make the fuzzer spend its time minimizing.
			return
		}
		sk := Skeleton(s)
		if loose := LooseSkeleton(s); (loose == "") == strings.Contains(s, "nn") || loose != "" && Skeleton(loose) != loose {
			t.Fatalf("LooseSkeleton(%q) = %q", s, loose)
		}
		if !utf8.ValidString(sk) {
			t.Fatalf("Skeleton(%q) = %q: invalid UTF-8", s, sk)
		}
		if sk2 := Skeleton(sk); sk2 != sk {
			t.Fatalf("Skeleton(%q) = %q but Skeleton(%q) = %q", s, sk, sk, sk2)
		}
		_ = MixedScript(s)
		if d := norm.NFD.String(s); Skeleton(d) != sk {
			t.Fatalf("Skeleton(%q) = %q but Skeleton(NFD) = %q", s, sk, Skeleton(d))
		}
		if d := norm.NFC.String(s); Skeleton(d) != sk {
			t.Fatalf("Skeleton(%q) = %q but Skeleton(NFC) = %q", s, sk, Skeleton(d))
		}
	})
}

func BenchmarkSkeletonASCII(b *testing.B) {
	for _, s := range []string{"fabrikam.com", "fabrikarn.com"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Skeleton(s)
			}
		})
	}
}

func BenchmarkSkeletonUnicode(b *testing.B) {
	table()
	for _, s := range []string{"fabrіkam.com", "münchen.de", "ラーメン.jp"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Skeleton(s)
			}
		})
	}
}

func BenchmarkMixedScript(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = MixedScript("fabrіkam")
	}
}
