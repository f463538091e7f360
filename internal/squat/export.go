package squat

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/report"
)

// BlockList is the registered lookalikes that can receive mail as a config file with a
// block list (`--export-block`): it loads as a config by itself (`rcptguard config check`),
// and its block entries can be copied into the organisation's config. Each entry says, in
// a comment, what it looks like and where its mail goes.
func BlockList(r Report) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by rcptguard squat on %s: the registered lookalikes that can receive mail.\n", r.Finished.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "# Copy the block entries into the config (block:), or check this file: rcptguard config check FILE\n")
	n := 0
	for _, l := range r.Lookalikes {
		if !l.CanReceive {
			continue
		}
		if n == 0 {
			b.WriteString("block:\n")
		}
		n++
		where := l.Domain
		if len(l.MX) > 0 {
			where = mxText(l.MX, ", ")
		}
		// Names are A-labels (letters, digits, hyphens, dots): nothing to quote. The comment
		// is made safe: DNS names could hold anything.
		shown := ""
		if l.Display != l.Domain {
			shown = comment(l.Display) + ", "
		}
		fmt.Fprintf(&b, "  - %s  # %slooks like %s (%s), mail at %s\n", l.Domain, shown, l.Of, l.Technique, comment(where))
	}
	if n == 0 {
		b.WriteString("block: []\n")
	}
	if b.Len() > config.MaxFileSize {
		return nil, fmt.Errorf("the block list of %d domains is larger than a config file may be (%d bytes)", n, config.MaxFileSize)
	}
	return b.Bytes(), nil
}

// comment is s fit for a YAML comment: printable, on one line.
func comment(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, report.Clean(s))
}
