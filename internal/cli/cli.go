// Package cli implements rcptguard's subcommands: argument parsing, reading input and
// writing output. It decides nothing itself: every answer comes from the guard. Run is the
// whole program, so tests drive it with their own arguments and streams.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
)

// Exit statuses.
const (
	ExitOK      = 0 // every input allowed
	ExitFlagged = 1 // some input not allowed, or invalid
	ExitUsage   = 2 // a usage or configuration error
)

// Env is what a command may touch.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

const usage = `rcptguard stops mail to mistyped and lookalike domains.

Usage:
  rcptguard check [--config FILE] [--protect LIST] [--known FILE] [--allow LIST]
                  [--block LIST] [--no-providers] [--json] [INPUT ...]
  rcptguard permute [--json] [--techniques LIST] [--wide] DOMAIN ...
  rcptguard serve [--config FILE]
  rcptguard scan [--config FILE] [--since DATE] [--until DATE] [--format text|json|csv]
                 [-o FILE] [--progress auto|always|never] [--redact-senders] SOURCE ...
  rcptguard squat [--config FILE] [--resolver ADDR] [--rate N] [--concurrency N] [--wide]
                  [--known-top N] [--format text|json|csv|html] [-o FILE] [--progress ...]
                  [--export-block FILE] [DOMAIN ...]
  rcptguard init [--postfix] [--dry-run] [--force] [--postfix-config DIR] [--config PATH]
  rcptguard history import|show [--config FILE] ARG ...
  rcptguard quarantine list|show|release|discard|retry|purge [--config FILE] [--db PATH] ...
  rcptguard trust add|remove|list|proposals [--config FILE] [--db PATH] ...
  rcptguard config check FILE
  rcptguard passwd < PASSWORD-FILE
  rcptguard version

Run "rcptguard COMMAND --help" for a command's flags.
`

// Run runs the command in args (without the program name) and returns the exit status.
func Run(args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "check":
		return runCheck(args[1:], env)
	case "permute":
		return runPermute(args[1:], env)
	case "config":
		return runConfig(args[1:], env)
	case "serve":
		return runServe(args[1:], env)
	case "scan":
		return runScan(args[1:], env)
	case "squat":
		return runSquat(args[1:], env)
	case "init":
		return runInit(args[1:], env)
	case "history":
		return runHistory(args[1:], env)
	case "quarantine":
		return runQuarantine(args[1:], env)
	case "trust":
		return runTrust(args[1:], env)
	case "passwd":
		return runPasswd(args[1:], env)
	case "version", "--version", "-version":
		fmt.Fprintln(env.Stdout, "rcptguard", Version())
		return ExitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(env.Stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "rcptguard: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

// Version is the module version the binary was built from.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// parseFlags parses fs and reports an exit status when the command should stop.
func parseFlags(fs *flag.FlagSet, args []string, env Env) (int, bool) {
	fs.SetOutput(env.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, true
		}
		return ExitUsage, true
	}
	return 0, false
}

func fail(env Env, format string, args ...any) int {
	fmt.Fprintf(env.Stderr, "rcptguard: "+format+"\n", args...)
	return ExitUsage
}
