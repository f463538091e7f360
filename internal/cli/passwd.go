package cli

import (
	"bufio"
	"flag"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// passwdCost is the bcrypt cost of the hashes passwd makes.
const passwdCost = 12

// runPasswd reads a password (the first line of standard input) and prints its bcrypt
// hash, for admin.users and relay.users.
func runPasswd(args []string, env Env) int {
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: rcptguard passwd < password-file\n\n"+
			"Reads a password from the first line of standard input and prints its bcrypt hash,\n"+
			"for admin.users and relay.users in the configuration.")
	}
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(env, "passwd takes no arguments (the password is read from standard input, not the command line)")
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return fail(env, "passwd: no password on standard input")
	}
	pw := strings.TrimRight(line, "\r\n")
	switch {
	case len(pw) < 8:
		return fail(env, "passwd: the password is shorter than 8 characters")
	case len(pw) > 72:
		return fail(env, "passwd: the password is longer than 72 bytes (bcrypt's limit)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), passwdCost)
	if err != nil {
		return fail(env, "passwd: %v", err)
	}
	fmt.Fprintln(env.Stdout, string(h))
	return ExitOK
}
