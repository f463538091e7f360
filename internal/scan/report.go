package scan

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
)

// Schema names the JSON report's schema; it changes only when a field changes meaning or
// goes away (fields may be added).
const Schema = "rcptguard-scan/1"

// Report is what a scan found: the JSON document as documented in docs/scan.md.
type Report struct {
	Schema     string         `json:"schema"`
	Period     Period         `json:"period"`
	Totals     Totals         `json:"totals"`
	Sources    []SourceResult `json:"sources"`
	Domains    []DomainRow    `json:"domains"`
	Senders    []SenderRow    `json:"senders"`
	PerDay     []DayCount     `json:"per_day"`
	PerWeek    []DayCount     `json:"per_week"`
	Prediction Prediction     `json:"prediction"`
	Problems   Problems       `json:"problems"`
	Redacted   bool           `json:"senders_redacted"`
	// Content is left out unless content checks were on.
	Content *ContentReport `json:"content,omitempty"`
}

// Period is the time the scan covers.
type Period struct {
	Since *time.Time `json:"since,omitempty"` // --since
	Until *time.Time `json:"until,omitempty"` // --until (exclusive)
	First *time.Time `json:"first,omitempty"` // the first dated record counted
	Last  *time.Time `json:"last,omitempty"`  // the last one
	Days  int        `json:"days"`            // calendar days from First to Last, both included
}

// Totals are the run's counts.
type Totals struct {
	Records         int64 `json:"records"`
	Messages        int64 `json:"messages"`
	FlaggedRecords  int64 `json:"flagged_records"`
	FlaggedMessages int64 `json:"flagged_messages"`
	FlaggedDomains  int   `json:"flagged_domains"`
	DomainsChecked  int   `json:"domains_checked"`
	LeftOrg         int64 `json:"left_organisation"` // flagged records with outcome sent
	Undated         int64 `json:"undated_left_out"`
	OutsidePeriod   int64 `json:"outside_period"`
	NoDomain        int64 `json:"no_domain"`
	InvalidDomain   int64 `json:"invalid_domain"`
}

// SourceResult is what became of one source.
type SourceResult struct {
	Name        string `json:"name"`
	Format      string `json:"format,omitempty"`
	Compression string `json:"compression,omitempty"`
	Bytes       int64  `json:"bytes"`
	Records     int64  `json:"records"`
	Problems    int64  `json:"problems"`
	Error       string `json:"error,omitempty"`
}

// Outcomes count flagged records by what became of them.
type Outcomes struct {
	Sent     int64 `json:"sent"` // left the organisation
	Bounced  int64 `json:"bounced"`
	Deferred int64 `json:"deferred"`
	Expired  int64 `json:"expired"`
	Unknown  int64 `json:"unknown"`
}

// DomainRow is one flagged recipient domain.
type DomainRow struct {
	Domain     string      `json:"domain"`
	Verdict    string      `json:"verdict"`
	Situation  string      `json:"situation,omitempty"`
	Intended   []string    `json:"intended"`
	Techniques []string    `json:"techniques"`
	Reason     string      `json:"reason"`
	Messages   int64       `json:"messages"`
	Records    int64       `json:"records"`
	Senders    int         `json:"senders"`
	TopSenders []SenderRow `json:"top_senders"`
	FirstSeen  *time.Time  `json:"first_seen,omitempty"`
	LastSeen   *time.Time  `json:"last_seen,omitempty"`
	Outcomes   Outcomes    `json:"outcomes"`
	// ProbablyLegitimate: many senders over a long time, mostly delivered, and no
	// lookalike of a protected domain; AllowLine is the config line that would allow it.
	ProbablyLegitimate bool   `json:"probably_legitimate"`
	AllowLine          string `json:"allow_line,omitempty"`
	// Content: its classified flagged messages per category (content checks on only).
	Content []CategoryCount `json:"content,omitempty"`
}

// SenderRow is one sender's messages to lookalikes.
type SenderRow struct {
	Sender   string `json:"sender"`
	Messages int64  `json:"messages"`
	Domains  int    `json:"domains,omitempty"`
}

// DayCount is flagged messages in one day (YYYY-MM-DD) or ISO week (YYYY-Www).
type DayCount struct {
	Period   string `json:"period"`
	Messages int64  `json:"messages"`
}

// VerdictCounts are messages by the verdict enforcement would give.
type VerdictCounts struct {
	Warn   float64 `json:"warn"`
	Hold   float64 `json:"hold"`
	Reject float64 `json:"reject"`
}

// Group is messages by verdict for one situation or technique.
type Group struct {
	Name  string        `json:"name"`
	Total VerdictCounts `json:"total"`
}

// Prediction is what enforcing the current policy would have done over the period.
type Prediction struct {
	Total   VerdictCounts `json:"total"`
	PerDay  VerdictCounts `json:"per_day"`  // Total / Period.Days (0 when no record is dated)
	Per1000 VerdictCounts `json:"per_1000"` // per 1,000 messages scanned
	Monitor bool          `json:"policy_monitor"`
	// BySituation and ByTechnique split Total (a message counts under each technique of
	// its most severe recipient's finding).
	BySituation []Group     `json:"by_situation"`
	ByTechnique []Group     `json:"by_technique"`
	Drivers     []DomainRow `json:"drivers"` // the domains with the most flagged messages
}

// Problems are the pieces of sources that were skipped.
type Problems struct {
	Total     int64        `json:"total"`
	PerSource []SourceCnt  `json:"per_source"`
	First     []ProblemRow `json:"first"`
}

// ProblemRow is one skipped piece of a source.
type ProblemRow struct {
	Source string `json:"source"`
	Line   int64  `json:"line"` // 0 when the source is not read by lines
	Text   string `json:"text"`
}

// SourceCnt is a count for one source.
type SourceCnt struct {
	Source string `json:"source"`
	Count  int64  `json:"count"`
}

// Options shape the report.
type Options struct {
	Since, Until time.Time
	// Redact, when set, rewrites every sender in the report (--redact-senders).
	Redact func(string) string
	Top    int // rows in the top lists (default 10)
}

// The thresholds of "probably legitimate".
const (
	legitSenders = 5
	legitDays    = 90
)

// Build makes the report of t.
func Build(t *Tally, sources []SourceResult, o Options) Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o.Top <= 0 {
		o.Top = 10
	}
	sender := func(s string) string {
		if s == "" {
			s = "<>"
		} else if o.Redact != nil {
			s = o.Redact(s)
		}
		return s
	}
	r := Report{Schema: Schema, Sources: sources, Redacted: o.Redact != nil}
	if sources == nil {
		r.Sources = []SourceResult{}
	}
	r.Period.Since, r.Period.Until = timePtr(o.Since), timePtr(o.Until)
	r.Period.First, r.Period.Last = timePtr(t.First), timePtr(t.Last)
	if !t.First.IsZero() {
		r.Period.Days = calendarDays(t.First, t.Last)
	}
	r.Totals = Totals{Records: t.Records, Messages: t.Messages, FlaggedRecords: t.FlaggedRecords,
		FlaggedMessages: int64(len(t.flagged)), DomainsChecked: len(t.cache),
		Undated: t.Undated, OutsidePeriod: t.Outside, NoDomain: t.NoDomain, InvalidDomain: t.InvalidDomain}

	// Domains, most messages first.
	r.Domains = []DomainRow{}
	for _, c := range t.cache {
		if !c.flagged || c.stat.records == 0 {
			continue
		}
		row := domainRow(c.stat, sender, o.Top)
		r.Totals.LeftOrg += row.Outcomes.Sent
		r.Domains = append(r.Domains, row)
	}
	slices.SortFunc(r.Domains, func(a, b DomainRow) int {
		return cmp.Or(cmp.Compare(b.Messages, a.Messages), strings.Compare(a.Domain, b.Domain))
	})
	r.Totals.FlaggedDomains = len(r.Domains)

	// Senders, days, weeks and the prediction, from the flagged messages.
	type senderAcc struct {
		msgs    int64
		domains map[string]struct{}
	}
	senders := map[string]*senderAcc{}
	days, weeks := map[string]int64{}, map[string]int64{}
	sit, tech := map[string]*VerdictCounts{}, map[string]*VerdictCounts{}
	var total VerdictCounts
	for _, m := range t.flagged {
		s := senders[m.sender]
		if s == nil {
			s = &senderAcc{domains: map[string]struct{}{}}
			senders[m.sender] = s
		}
		s.msgs++
		s.domains[m.dom.name] = struct{}{}
		if !m.time.IsZero() {
			days[m.time.Format("2006-01-02")]++
			y, w := m.time.ISOWeek()
			weeks[isoWeek(y, w)]++
		}
		v := t.messageVerdict(m)
		addVerdict(&total, v)
		name := "blocked"
		if len(m.dom.dec.Findings) > 0 {
			name = m.dom.dec.Findings[0].Situation.String()
		}
		addVerdict(group(sit, name), v)
		for _, tq := range m.dom.dec.Techniques() {
			addVerdict(group(tech, tq.String()), v)
		}
	}
	r.Senders = []SenderRow{}
	for name, s := range senders {
		r.Senders = append(r.Senders, SenderRow{Sender: sender(name), Messages: s.msgs, Domains: len(s.domains)})
	}
	slices.SortFunc(r.Senders, func(a, b SenderRow) int {
		return cmp.Or(cmp.Compare(b.Messages, a.Messages), strings.Compare(a.Sender, b.Sender))
	})
	r.PerDay, r.PerWeek = sortedCounts(days), sortedCounts(weeks)

	p := &r.Prediction
	p.Monitor = t.guard.Policy().Monitor
	p.Total = total
	if r.Period.Days > 0 {
		p.PerDay = scale(total, 1/float64(r.Period.Days))
	}
	if t.Messages > 0 {
		p.Per1000 = scale(total, 1000/float64(t.Messages))
	}
	p.BySituation, p.ByTechnique = groups(sit), groups(tech)
	t.buildContent(&r, sender)
	p.Drivers = r.Domains[:min(len(r.Domains), o.Top)]

	r.Problems = Problems{Total: t.ProblemCount, First: []ProblemRow{}, PerSource: []SourceCnt{}}
	for _, p := range t.Problems {
		r.Problems.First = append(r.Problems.First, ProblemRow(p))
	}
	for s, n := range t.ProblemsPerSource {
		r.Problems.PerSource = append(r.Problems.PerSource, SourceCnt{s, n})
	}
	slices.SortFunc(r.Problems.PerSource, func(a, b SourceCnt) int { return strings.Compare(a.Source, b.Source) })
	return r
}

func domainRow(s *domainStat, sender func(string) string, top int) DomainRow {
	d := s.dec
	row := DomainRow{Domain: s.name, Verdict: d.Verdict.String(), Reason: d.Reason, Intended: d.Intended(),
		Techniques: []string{}, Messages: int64(len(s.msgs)), Records: s.records, Senders: len(s.senders),
		FirstSeen: timePtr(s.first), LastSeen: timePtr(s.last),
		Outcomes: Outcomes{Unknown: s.outcomes[Unknown], Sent: s.outcomes[Sent], Bounced: s.outcomes[Bounced],
			Deferred: s.outcomes[Deferred], Expired: s.outcomes[Expired]}}
	if len(d.Findings) > 0 {
		row.Situation = d.Findings[0].Situation.String()
	} else if d.Blocked {
		row.Situation = "blocked"
	}
	for _, tq := range d.Techniques() {
		row.Techniques = append(row.Techniques, tq.String())
	}
	for name, n := range s.senders {
		row.TopSenders = append(row.TopSenders, SenderRow{Sender: sender(name), Messages: n})
	}
	slices.SortFunc(row.TopSenders, func(a, b SenderRow) int {
		return cmp.Or(cmp.Compare(b.Messages, a.Messages), strings.Compare(a.Sender, b.Sender))
	})
	row.TopSenders = row.TopSenders[:min(len(row.TopSenders), top)]
	row.ProbablyLegitimate = probablyLegitimate(s)
	if row.ProbablyLegitimate {
		row.AllowLine = "allow: [" + s.name + "]"
	}
	return row
}

// probablyLegitimate: many senders over a long time, mostly not bounced, and neither a
// lookalike of a protected or own domain (the .ml mail went on for years from many
// senders) nor blocked nor a suffix that does not exist.
func probablyLegitimate(s *domainStat) bool {
	d := s.dec
	if d.Blocked || len(s.senders) < legitSenders || s.first.IsZero() || s.last.Sub(s.first) < legitDays*24*time.Hour {
		return false
	}
	for _, f := range d.Findings {
		if f.Situation == engine.SituationProtected || f.Situation == engine.SituationNonexistent {
			return false
		}
	}
	failed := s.outcomes[Bounced] + s.outcomes[Expired]
	return failed*5 < s.records
}

func addVerdict(c *VerdictCounts, v guard.Verdict) {
	switch v {
	case guard.Warn:
		c.Warn++
	case guard.Hold:
		c.Hold++
	case guard.Reject:
		c.Reject++
	}
}

func group(m map[string]*VerdictCounts, name string) *VerdictCounts {
	c := m[name]
	if c == nil {
		c = &VerdictCounts{}
		m[name] = c
	}
	return c
}

func groups(m map[string]*VerdictCounts) []Group {
	out := []Group{}
	for name, c := range m {
		out = append(out, Group{Name: name, Total: *c})
	}
	slices.SortFunc(out, func(a, b Group) int {
		ta, tb := a.Total.Warn+a.Total.Hold+a.Total.Reject, b.Total.Warn+b.Total.Hold+b.Total.Reject
		return cmp.Or(cmp.Compare(tb, ta), strings.Compare(a.Name, b.Name))
	})
	return out
}

func scale(c VerdictCounts, f float64) VerdictCounts {
	r := func(x float64) float64 { return float64(int64(x*f*1000+0.5)) / 1000 }
	return VerdictCounts{Warn: r(c.Warn), Hold: r(c.Hold), Reject: r(c.Reject)}
}

func sortedCounts(m map[string]int64) []DayCount {
	out := make([]DayCount, 0, len(m))
	for k, n := range m {
		out = append(out, DayCount{k, n})
	}
	slices.SortFunc(out, func(a, b DayCount) int { return strings.Compare(a.Period, b.Period) })
	return out
}

func isoWeek(y, w int) string {
	b := []byte{}
	b = append(b, time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006")...)
	b = append(b, '-', 'W', byte('0'+w/10), byte('0'+w%10))
	return string(b)
}

func calendarDays(first, last time.Time) int {
	a := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a)/(24*time.Hour)) + 1
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
