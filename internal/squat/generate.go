package squat

import (
	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// Lookalikes are the lookalikes of d that are looked up: every technique of the engine's
// generator, and with wide the wider set (at least dnstwist's fuzzers' coverage).
func Lookalikes(d address.Domain, wide bool) []engine.Variant {
	if wide {
		return permuteWide(d)
	}
	return engine.Permute(d, nil)
}

// permuteWide is engine.PermuteWide until it is merged (branch wide): the same set as
// without --wide. When it is, this whole function goes and Lookalikes calls
// engine.PermuteWide(d).
func permuteWide(d address.Domain) []engine.Variant {
	return engine.Permute(d, nil)
}
