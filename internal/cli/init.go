package cli

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/rcptguard/rcptguard/internal/config"
)

// defaultConfigPath is where the Debian package's unit reads the config.
const defaultConfigPath = "/etc/rcptguard/rcptguard.yaml"

const initUsage = `Usage: rcptguard init [--postfix] [--dry-run] [--force] [--postfix-config DIR] [--config PATH]

Writes a commented config for this machine: own_domains proposed from Postfix's settings
(postconf: myorigin, mydomain, mydestination, virtual_alias_domains,
virtual_mailbox_domains, relay_domains), the default listeners on loopback. With
--postfix it also prints the main.cf and master.cf lines that put rcptguard in front
of this Postfix (docs/postfix.md); it never changes Postfix's files.

`

func runInit(args []string, env Env) int {
	flags := flag.NewFlagSet("init", flag.ContinueOnError)
	path := flags.String("config", defaultConfigPath, "write the config to `PATH`")
	withPostfix := flags.Bool("postfix", false, "print the main.cf and master.cf lines for this Postfix, and set quarantine.reinject")
	dryRun := flags.Bool("dry-run", false, "print the config instead of writing it")
	force := flags.Bool("force", false, "replace an existing config file")
	postfixDir := flags.String("postfix-config", "", "read Postfix's settings from `DIR` (postconf -c DIR; default: Postfix's own)")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), initUsage)
		flags.PrintDefaults()
	}
	if code, stop := parseFlags(flags, args, env); stop {
		return code
	}
	if flags.NArg() > 0 {
		return fail(env, "init takes no arguments (got %q)", flags.Args())
	}

	settings, err := readPostconf(*postfixDir)
	if err != nil && *withPostfix {
		return fail(env, "--postfix needs Postfix's settings: %v", err)
	}
	c := initConfig{postconfDir: *postfixDir, postconfErr: err, values: settings.values, reinject: *withPostfix}
	if err == nil {
		c.domains, c.left = proposeDomains(settings.values)
	} else {
		fmt.Fprintf(env.Stderr, "rcptguard: %v; own_domains is left empty\n", err)
	}
	text := c.render()
	// What is written must load: a bug here must not leave an administrator a config
	// that serve refuses.
	if _, err := config.Parse([]byte(text), *path); err != nil {
		return fail(env, "the config made for this machine does not load (a bug; please report it): %v", err)
	}

	if *dryRun {
		note := ""
		if _, err := os.Stat(*path); err == nil && !*force {
			note = " (it exists: writing it needs --force)"
		}
		fmt.Fprintf(env.Stdout, "# rcptguard init --dry-run: would write %s%s:\n%s", *path, note, text)
	} else {
		if err := writeNewConfig(*path, []byte(text), *force); err != nil {
			return fail(env, "%v", err)
		}
		fmt.Fprintf(env.Stdout, "wrote %s (own_domains: %d proposed from Postfix); check it with `rcptguard config check %s`\n",
			*path, len(c.domains), *path)
	}
	if *withPostfix {
		fmt.Fprint(env.Stdout, "\n"+postfixLines(settings))
	}
	return ExitOK
}

// writeNewConfig writes the config to path through a temporary file and a rename, so
// that a reader sees the old file or the new one. An existing file is replaced only
// with force, and keeps its owner, group and mode (the package's config is
// root:rcptguard 0640); a new file is 0640.
func writeNewConfig(path string, data []byte, force bool) error {
	mode := fs.FileMode(0o640)
	uid, gid := -1, -1
	switch fi, err := os.Stat(path); {
	case err == nil && !force:
		return fmt.Errorf("%s exists; rcptguard init replaces it only with --force (or use --dry-run to see what it would write)", path)
	case err == nil:
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".rcptguard-init-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if uid >= 0 {
		if err := tmp.Chown(uid, gid); err != nil && !errors.Is(err, fs.ErrPermission) {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
