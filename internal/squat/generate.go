package squat

import (
	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// Lookalikes are the lookalikes of d that are looked up: every technique of the engine's
// generator, and with wide the names a squatter could register (engine.PermuteWide: at
// least dnstwist's fuzzers' coverage).
func Lookalikes(d address.Domain, wide bool) []engine.Variant {
	if wide {
		return engine.PermuteWide(d)
	}
	return engine.Permute(d, nil)
}
