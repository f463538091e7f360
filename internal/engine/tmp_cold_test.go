package engine

import (
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/confusables"
)

func TestTmpCold(t *testing.T) {
	t0 := time.Now()
	confusables.Skeleton("gmаil")
	t1 := time.Now()
	glyphTable()
	t2 := time.Now()
	wideTLDs()
	t3 := time.Now()
	d, _ := address.ParseDomain("gmail.com")
	Permute(d, nil)
	t4 := time.Now()
	PermuteWide(d)
	t5 := time.Now()
	PermuteWide(d)
	t6 := time.Now()
	t.Logf("skeleton-table %v glyphs %v tlds %v permute %v first-wide %v second %v", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4), t6.Sub(t5))
}
