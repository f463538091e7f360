// Command permutefirst times the first engine.PermuteWide call of a fresh process, for
// scripts/bench-permute.sh: what one `rcptguard permute --wide DOMAIN` pays for generation,
// the tables it builds on first use and fresh memory included, without the rest of the
// binary's start-up. It prints the seconds and the number of lookalikes.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: permutefirst DOMAIN")
		os.Exit(2)
	}
	start := time.Now()
	d, err := address.ParseDomain(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	n := len(engine.PermuteWide(d))
	fmt.Printf("%.6f %d\n", time.Since(start).Seconds(), n)
}
