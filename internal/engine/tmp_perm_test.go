package engine

import (
	"os"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
)

func BenchmarkTmpPermuteD(b *testing.B) {
	d, _ := address.ParseDomain(os.Getenv("PERMUTE_DOMAIN"))
	for b.Loop() {
		Permute(d, nil)
	}
}
