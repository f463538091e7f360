// Command rcptguard stops outgoing mail to mistyped and lookalike domains. See README.md.
package main

import (
	"os"

	"github.com/rcptguard/rcptguard/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
