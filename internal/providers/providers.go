// Package providers holds the built-in list of major mailbox providers and their real
// variants (gmail.com and googlemail.com, hotmail.co.uk, ymail.com, ...), so that a lookalike
// of a provider is caught with no configuration and a real variant is never flagged.
//
// It also holds the shared mail hosts (mailhosts.txt): the operators whose MX hosts receive
// the mail of very many unrelated domains (Google Workspace, Microsoft 365, mail gateways),
// which squat and the guard never count as a catch-all farm.
//
// It is data: lists embedded from providers.txt and mailhosts.txt, parsed on request. It
// knows nothing of lookalikes.
package providers

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"

	"github.com/rcptguard/rcptguard/internal/address"
)

//go:embed providers.txt
var list string

// Domains returns the built-in provider domains, normalised, without duplicates.
func Domains() []address.Domain { return parse(false) }

// Major returns the providers marked "major" in the list: the few with a large share of
// all personal mail (gmail.com, outlook.com, yahoo.com, aol.com, ...). Each is also in
// Domains.
func Major() []address.Domain { return parse(true) }

func parse(majorOnly bool) []address.Domain {
	var out []address.Domain
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(list))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		name, mark, _ := strings.Cut(line, " ")
		if mark = strings.TrimSpace(mark); mark != "" && mark != "major" {
			panic(fmt.Sprintf("providers.txt:%d: unknown mark %q", n, mark))
		}
		if name == "" || majorOnly && mark == "" {
			continue
		}
		d, err := address.ParseDomain(name)
		if err != nil {
			// The list is part of the program: a bad line is a build mistake that the
			// package's test catches.
			panic(fmt.Sprintf("providers.txt:%d: %v", n, err))
		}
		if !seen[d.ASCII] {
			seen[d.ASCII] = true
			out = append(out, d)
		}
	}
	return out
}
