// Command scanpostfix runs only the Postfix log reader of `rcptguard scan` over a file and
// prints how many records (by outcome) and problems it read, for scripts/bench-scan.sh.
package main

import (
	"fmt"
	"os"

	"github.com/rcptguard/rcptguard/internal/scan"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: scanpostfix FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	var outcomes [5]int
	problems := 0
	err = scan.PostfixFormat.New().Read(f, os.Args[1], func(r scan.Record) { outcomes[r.Outcome]++ }, func(scan.Problem) { problems++ })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	total := 0
	for _, n := range outcomes {
		total += n
	}
	fmt.Printf("records %d sent %d bounced %d deferred %d expired %d unknown %d problems %d\n",
		total, outcomes[scan.Sent], outcomes[scan.Bounced], outcomes[scan.Deferred], outcomes[scan.Expired], outcomes[scan.Unknown], problems)
}
