package guard

import (
	"fmt"
	"strings"

	"github.com/rcptguard/rcptguard/internal/engine"
)

// reason writes one plain sentence for the sender: the likely intended domain, what
// differs, and the evidence. It never names internal rules beyond what the sender needs.
func reason(r engine.Result, v Verdict) string {
	var b strings.Builder
	if r.Blocked {
		fmt.Fprintf(&b, "Mail to %s is blocked by your organisation's policy.", r.Domain.Display)
	}
	if len(r.Findings) == 0 {
		if b.Len() == 0 {
			return standing(r)
		}
		return b.String()
	}
	f := r.Findings[0]
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "Did you mean %s", f.IntendedDisplay)
	if len(r.Findings) > 1 && r.Findings[1].Score >= max(engine.StrongScore, f.Score-0.15) {
		fmt.Fprintf(&b, " (or %s)", r.Findings[1].IntendedDisplay)
	}
	fmt.Fprintf(&b, "? %s; %s.", f.Detail(), evidence(r, f))
	return b.String()
}

// evidence says why the intended domain is meant.
func evidence(r engine.Result, f engine.Finding) string {
	switch {
	case f.Situation == engine.SituationNonexistent:
		return "check the address before sending it again"
	case f.Situation == engine.SituationMixedScript:
		return "names that mix scripts are a common disguise"
	case f.Class.Has(engine.Own):
		return fmt.Sprintf("%s is one of your organisation's own domains", f.IntendedDisplay)
	case f.Class.Has(engine.Protect):
		return fmt.Sprintf("%s is protected", f.IntendedDisplay)
	case f.Class.Has(engine.Known) && f.Count > 0:
		return fmt.Sprintf("%s %s to %s and %s to %s", count(f.Count), verb(f.Count), f.IntendedDisplay, countOrNone(r.Count), r.Domain.Display)
	case f.Class.Has(engine.Provider):
		return fmt.Sprintf("%s is a major mail provider", f.IntendedDisplay)
	case f.Class.Has(engine.Known):
		return fmt.Sprintf("your organisation writes to %s", f.IntendedDisplay)
	case r.Namespace != "":
		return fmt.Sprintf("%s is inside the protected namespace .%s", r.Domain.Display, r.Namespace)
	}
	ns := f.Target
	if f.Technique == engine.AppendedSuffix {
		ns = f.Intended[strings.IndexByte(f.Intended, '.')+1:]
	}
	return fmt.Sprintf(".%s is a protected namespace", ns)
}

func verb(n int64) string {
	if n == 1 {
		return "message went"
	}
	return "messages went"
}

func countOrNone(n int64) string {
	if n == 0 {
		return "none"
	}
	return "only " + count(n)
}

// count formats n with thousands separators: 1,204.
func count(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// standing says why a domain with no findings is fine.
func standing(r engine.Result) string {
	name := r.Domain.Display
	switch {
	case r.Self.Has(engine.Own):
		return name + " is one of your organisation's own domains."
	case r.Self.Has(engine.Protect):
		return name + " is protected."
	case r.Self.Has(engine.Known) && r.Count > 0:
		return fmt.Sprintf("%s %s to %s.", count(r.Count), verb(r.Count), name)
	case r.Self.Has(engine.Provider):
		return name + " is a major mail provider."
	case r.Self.Has(engine.Known):
		return "Your organisation writes to " + name + "."
	}
	return "No lookalike of a protected, known or provider domain."
}
