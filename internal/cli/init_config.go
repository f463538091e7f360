package cli

import (
	"fmt"
	"strings"

	"github.com/rcptguard/rcptguard/internal/config"
)

// initConfig is what `rcptguard init` writes: a commented config with the own domains
// found in Postfix's settings, the default listeners, and, with --postfix, the
// re-injection service that the printed master.cf lines add.
type initConfig struct {
	postconfDir string // the -c folder postconf read, "" for the default
	postconfErr error  // why Postfix's settings could not be read; nil when they were
	values      map[string]string
	domains     []string  // proposed own_domains
	left        []skipped // items of Postfix's domain lists not proposed
	reinject    bool      // set quarantine.reinject (--postfix prints the service)
}

func (c initConfig) render() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# rcptguard configuration, written by `rcptguard init`.\n")
	w("#\n")
	w("# rcptguard stops outgoing mail to mistyped and lookalike domains: army.ml for army.mil,\n")
	w("# gmial.com for gmail.com. Check this file with `rcptguard config check FILE`; every key\n")
	w("# and its default is in docs/rcptguard.example.yaml. serve reloads it on SIGHUP\n")
	w("# (`systemctl reload rcptguard`).\n\n")

	w("# The organisation's own mail domains: their lookalikes are caught too.\n")
	switch {
	case c.postconfErr != nil:
		w("# Postfix's settings could not be read (%s):\n", oneLine(c.postconfErr.Error()))
		w("# list your mail domains here.\n")
	default:
		src := "postconf"
		if c.postconfDir != "" {
			src += " -c " + c.postconfDir
		}
		w("# Proposed from Postfix's settings (%s):\n", src)
		for _, p := range domainParams {
			w("#   %s = %s\n", p, oneLine(c.values[p]))
		}
		if len(c.left) > 0 {
			w("# Left out:\n")
			for _, s := range c.left {
				w("#   %s: %s\n", oneLine(s.item), s.why)
			}
		}
		w("# Remove what is not yours; add the domains of lookup tables yourself.\n")
	}
	if len(c.domains) == 0 {
		w("own_domains: []\n\n")
	} else {
		w("own_domains:\n")
		for _, d := range c.domains {
			w("  - %s\n", d)
		}
		w("\n")
	}

	w("# Domains and namespaces whose lookalikes must never get your mail, besides your own:\n")
	w("# your partners', your bank's, a whole namespace. For example: [army.mil, .mil]\n")
	w("protect: []\n\n")

	w("# The built-in list of major mailbox providers (gmail.com, outlook.com, ...).\n")
	w("providers: true\n\n")

	w("# Where rcptguard keeps held mail, the history and the key of the validation links.\n")
	w("# With a config file the default is %s (the Debian package's folder); a\n", config.PackagedDataDir)
	w("# relative path is relative to this file's folder.\n")
	w("# data_dir: %s\n\n", config.PackagedDataDir)

	d := config.Default()
	w("# The listeners, on loopback. --postfix prints the Postfix lines that use them.\n")
	w("listen:\n")
	w("  policy: %s\n  milter: %s\n  http: %s\n  web: %s\n  intake: %s\n\n",
		d.Listen.Policy, d.Listen.Milter, d.Listen.HTTP, d.Listen.Web, d.Listen.Intake)

	w("# Held mail goes back to Postfix through a re-injection smtpd that runs no filter\n")
	w("# (the master.cf lines of `rcptguard init --postfix`). Without it the policy service\n")
	w("# refuses a message to hold at the end of the data instead of holding it.\n")
	if c.reinject {
		w("quarantine:\n  reinject: %s\n\n", reinjectAddr)
	} else {
		w("# quarantine:\n#   reinject: %s\n\n", reinjectAddr)
	}

	w("# The sender's notice of a held message, and where its links point: the web listener\n")
	w("# for a trial on this machine; for real senders a reverse proxy with a certificate\n")
	w("# (docs/postfix.md).\n")
	w("notice:\n")
	if len(c.domains) > 0 {
		w("  from: rcptguard@%s\n", c.domains[0])
	} else {
		w("  # from: rcptguard@contoso.com\n")
	}
	w("  # base_url: https://rcptguard.contoso.com\n")
	return b.String()
}

// oneLine keeps a value from Postfix on one comment line, of characters YAML allows.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0xfffe || r == 0xffff || r == 0xfffd {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
