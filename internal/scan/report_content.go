package scan

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
)

// ContentReport is what the flagged messages of mail archives carry, when content checks
// are on (`scan --content`, or content.enabled in the configuration): docs/scan.md, "Content".
type ContentReport struct {
	Checked    int64           `json:"checked"`    // flagged messages classified
	Skipped    int64           `json:"skipped"`    // of those, over the classifier's limits: not checked
	Escalated  int64           `json:"escalated"`  // flagged messages whose verdict the content rules raise
	Categories []CategoryCount `json:"categories"` // flagged messages per category, most first
	Messages   []MessageRow    `json:"messages"`   // each classified flagged message
}

// CategoryCount is how many flagged messages carry one category.
type CategoryCount struct {
	Category string `json:"category"`
	Messages int64  `json:"messages"`
}

// MessageRow is one classified flagged message.
type MessageRow struct {
	Message string     `json:"message"` // its Message-ID, else file:line (mbox) or file name
	Source  string     `json:"source"`
	Sender  string     `json:"sender"`
	Time    *time.Time `json:"time,omitempty"`
	Domain  string     `json:"domain"`  // its most severe flagged recipient's domain
	Verdict string     `json:"verdict"` // with the content rules applied
	Content []string   `json:"content"` // the categories it carries
	Skipped bool       `json:"content_skipped"`
	NotRead string     `json:"not_read,omitempty"` // why it was not checked
}

// messageVerdict is the verdict of flagged message m: its most severe recipient's, raised
// by the content rules for what it carries, as serve would (guard.WithContent).
func (t *Tally) messageVerdict(m *flaggedMsg) guard.Verdict {
	v := m.dom.dec.Verdict
	if m.content == nil || m.content.Skipped || len(m.content.Categories) == 0 {
		return v
	}
	var r content.Result
	for _, c := range m.content.Categories {
		r.Findings = append(r.Findings, content.Finding{Category: content.Category(c)})
	}
	md := guard.MessageDecision{Verdict: v, Recipients: []guard.Decision{*m.dom.dec}}
	return t.guard.WithContent(md, r, t.ContentRules).Verdict
}

// buildContent fills the content report of r from t's flagged messages (t locked).
func (t *Tally) buildContent(r *Report, sender func(string) string) {
	if !t.contentChecked {
		return
	}
	cr := &ContentReport{Categories: []CategoryCount{}, Messages: []MessageRow{}}
	cats := map[string]int64{}
	perDomain := map[string]map[string]int64{}
	for _, m := range t.flagged {
		if m.content == nil {
			continue
		}
		cr.Checked++
		v := t.messageVerdict(m)
		if m.content.Skipped {
			cr.Skipped++
		}
		if v > m.dom.dec.Verdict {
			cr.Escalated++
		}
		for _, c := range m.content.Categories {
			cats[c]++
			pd := perDomain[m.dom.name]
			if pd == nil {
				pd = map[string]int64{}
				perDomain[m.dom.name] = pd
			}
			pd[c]++
		}
		cr.Messages = append(cr.Messages, MessageRow{Message: m.id, Source: m.source, Sender: sender(m.sender),
			Time: timePtr(m.time), Domain: m.dom.name, Verdict: v.String(), Content: append([]string{}, m.content.Categories...),
			Skipped: m.content.Skipped, NotRead: m.content.NotRead})
	}
	cr.Categories = categoryCounts(cats)
	// Messages that carry something first, then by time, source and message.
	slices.SortFunc(cr.Messages, func(a, b MessageRow) int {
		ta, tb := time.Time{}, time.Time{}
		if a.Time != nil {
			ta = *a.Time
		}
		if b.Time != nil {
			tb = *b.Time
		}
		return cmp.Or(cmp.Compare(len(b.Content), len(a.Content)), ta.Compare(tb),
			strings.Compare(a.Source, b.Source), strings.Compare(a.Message, b.Message))
	})
	for i := range r.Domains {
		r.Domains[i].Content = categoryCounts(perDomain[r.Domains[i].Domain])
	}
	r.Content = cr
}

func categoryCounts(m map[string]int64) []CategoryCount {
	out := []CategoryCount{}
	for c, n := range m {
		out = append(out, CategoryCount{c, n})
	}
	slices.SortFunc(out, func(a, b CategoryCount) int {
		return cmp.Or(cmp.Compare(b.Messages, a.Messages), strings.Compare(a.Category, b.Category))
	})
	return out
}
