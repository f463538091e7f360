package guard

import (
	"strings"

	"github.com/rcptguard/rcptguard/internal/address"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// ContentRules say what the message's content does to its recipients' verdicts
// (docs/content.md).
type ContentRules struct {
	// Escalate maps a category to the verdict a flagged recipient (Warn or worse) gets at
	// least when the message carries the category.
	Escalate map[content.Category]Verdict
	// OnAnyExternal maps a category to the verdict every recipient outside the own
	// domains and the allow list gets at least when the message carries it.
	OnAnyExternal map[content.Category]Verdict
}

// Matter reports whether the content rules could change the decisions ds: when a
// recipient is flagged (Warn, Hold or Reject), or an on_any_external rule exists and a
// recipient is outside the own domains and the allow list (as g says: mail between
// colleagues is not read for it). Without a guard (g nil) an on_any_external rule always
// matters. A door need not read a message whose content cannot matter.
func (rules ContentRules) Matter(g *Guard, ds []Decision) bool {
	for _, d := range ds {
		if d.Verdict != Allow && d.Verdict != Invalid {
			return true
		}
	}
	if len(rules.OnAnyExternal) == 0 {
		return false
	}
	if g == nil {
		return true
	}
	for _, d := range ds {
		if d.Verdict != Invalid && g.external(d.Address) {
			return true
		}
	}
	return false
}

// WithContent is md with the content rules applied to what the message carries (r): a
// flagged recipient is escalated per rules.Escalate, a recipient outside own/allow per
// rules.OnAnyExternal, and the reason of every recipient not allowed says what the
// message carries. A Skipped result escalates by what was found before the limits, and
// the flagged recipients' reasons say that the message, or the rest of it, was not
// checked. Invalid recipients are left as they are. md is
// not changed; the result has its own Recipients.
func (g *Guard) WithContent(md MessageDecision, r content.Result, rules ContentRules) MessageDecision {
	out := md
	out.Recipients = append([]Decision(nil), md.Recipients...)
	out.Content = r.Names()
	out.ContentSkipped = r.Skipped
	for i := range out.Recipients {
		d := &out.Recipients[i]
		if d.Verdict == Invalid {
			continue
		}
		if len(r.Findings) == 0 {
			if r.Skipped && d.Verdict != Allow {
				d.Reason = addSentence(d.Reason, skippedSentence(r))
			}
			continue
		}
		v := d.Verdict
		for _, f := range r.Findings {
			if e, ok := rules.Escalate[f.Category]; ok && d.Verdict >= Warn {
				v = max(v, e)
			}
			if e, ok := rules.OnAnyExternal[f.Category]; ok && g.external(d.Address) {
				v = max(v, e)
			}
		}
		d.Verdict = v
		if d.Verdict != Allow {
			d.Reason = addSentence(d.Reason, r.Sentence())
			if r.Skipped {
				d.Reason = addSentence(d.Reason, "the rest of it"+strings.TrimPrefix(skippedSentence(r), "the message"))
			}
		}
	}
	verdict := Allow
	for _, d := range out.Recipients {
		verdict = max(verdict, d.Verdict)
	}
	out.Verdict = verdict
	return out
}

// external reports whether a recipient's domain is outside the own domains and the allow
// list (an own domain's subdomains are its own).
func (g *Guard) external(a address.Address) bool {
	if a.Domain.ASCII == "" {
		return false
	}
	res := g.eng.Check(a.Domain)
	return !res.Allowed && res.Self&engine.Own == 0
}

func skippedSentence(r content.Result) string {
	s := "the message was not checked for content"
	if len(r.NotRead) > 0 && r.NotRead[0].Why != "" {
		s += " (" + r.NotRead[0].Why + ")"
	}
	return s
}

// addSentence adds "; sentence." to a reason that ends with a full stop.
func addSentence(reason, sentence string) string {
	if sentence == "" {
		return reason
	}
	if reason == "" {
		return strings.ToUpper(sentence[:1]) + sentence[1:] + "."
	}
	return strings.TrimRight(reason, ". ") + "; " + sentence + "."
}
