package cli

import (
	"fmt"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/setup"
)

func runConfig(args []string, env Env) int {
	if len(args) != 2 || args[0] != "check" {
		return fail(env, "usage: rcptguard config check FILE")
	}
	cfg, err := config.Load(args[1])
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return ExitUsage
	}
	// Build the guard too: that reads the known file and catches what only it can.
	g, err := setup.Guard(cfg, setup.Extra{})
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", args[1], err)
		return ExitUsage
	}
	fmt.Fprintf(env.Stdout, "%s: OK (%d candidate domains)\n", args[1], g.Engine().Size())
	return ExitOK
}
