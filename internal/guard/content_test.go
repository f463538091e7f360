package guard

import (
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func contentGuard(t *testing.T, p Policy) *Guard {
	t.Helper()
	eng, err := engine.New(engine.Inputs{
		Own:       testenv.Domains(t, "contoso.com"),
		Providers: testenv.Domains(t, "gmail.com"),
		Allow:     testenv.Domains(t, "partner.example"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return New(eng, p)
}

func carries(cs ...content.Category) content.Result {
	var r content.Result
	for _, c := range cs {
		r.Findings = append(r.Findings, content.Finding{Category: c, Evidence: map[string]int{"password line": 1}})
	}
	return r
}

var defaultRules = ContentRules{
	Escalate:      map[content.Category]Verdict{content.Credentials: Hold, content.Medical: Reject},
	OnAnyExternal: map[content.Category]Verdict{content.Markings: Hold},
}

const warned = "bob@раypal.com" // a mixed-script lookalike: warned by default

func TestContentEscalatesAWarnedRecipient(t *testing.T) {
	g := contentGuard(t, DefaultPolicy())
	md := g.Inspect(Envelope{Recipients: []string{warned, "ann@contoso.com"}})
	if md.Verdict != Warn {
		t.Fatalf("without content: %s", md.Verdict)
	}
	got := g.WithContent(md, carries(content.Credentials), defaultRules)
	if got.Verdict != Hold || got.Recipients[0].Verdict != Hold || got.Recipients[1].Verdict != Allow {
		t.Errorf("credentials: message %s, recipients %s %s", got.Verdict, got.Recipients[0].Verdict, got.Recipients[1].Verdict)
	}
	if r := got.Recipients[0].Reason; !strings.Contains(r, "; the message contains what looks like") || !strings.HasSuffix(r, ".") {
		t.Errorf("reason %q", r)
	}
	if md.Recipients[0].Verdict != Warn {
		t.Error("WithContent changed its argument")
	}
	if len(got.Content) != 1 || got.Content[0] != "credentials" {
		t.Errorf("Content %v", got.Content)
	}
	if got := g.WithContent(md, carries(content.Medical), defaultRules); got.Verdict != Reject {
		t.Errorf("medical: reject rule gave %s", got.Verdict)
	}
}

func TestContentWithoutARuleOrFindingChangesNoVerdict(t *testing.T) {
	g := contentGuard(t, DefaultPolicy())
	md := g.Inspect(Envelope{Recipients: []string{warned, "ann@unrelated.example"}})
	got := g.WithContent(md, carries(content.Travel), defaultRules)
	if got.Verdict != Warn || got.Recipients[1].Verdict != Allow {
		t.Errorf("travel without rule: %s", got.Verdict)
	}
	if !strings.Contains(got.Recipients[0].Reason, "the message contains") {
		t.Errorf("the warned recipient's reason should name the content: %q", got.Recipients[0].Reason)
	}
	if strings.Contains(got.Recipients[1].Reason, "the message contains") {
		t.Errorf("an allowed recipient's reason names the content: %q", got.Recipients[1].Reason)
	}
	got = g.WithContent(md, content.Result{}, defaultRules)
	if got.Verdict != Warn || got.Recipients[0].Reason != md.Recipients[0].Reason {
		t.Errorf("nothing found: %s %q", got.Verdict, got.Recipients[0].Reason)
	}
}

func TestMarkingsToAnyExternalRecipient(t *testing.T) {
	g := contentGuard(t, DefaultPolicy())
	md := g.Inspect(Envelope{Recipients: []string{
		"ann@contoso.com", "joe@mail.contoso.com", "pat@partner.example", "sam@unrelated.example", "not an address",
	}})
	got := g.WithContent(md, carries(content.Markings), defaultRules)
	want := []Verdict{Allow, Allow, Allow, Hold, Invalid}
	for i, d := range got.Recipients {
		if d.Verdict != want[i] {
			t.Errorf("%s: %s, want %s", d.Input, d.Verdict, want[i])
		}
	}
	if got.Verdict != Invalid {
		t.Errorf("message %s", got.Verdict)
	}
	// Without the rule, markings change nothing for an unflagged recipient.
	got = g.WithContent(md, carries(content.Markings), ContentRules{Escalate: defaultRules.Escalate})
	if got.Recipients[3].Verdict != Allow {
		t.Errorf("no on_any_external: %s", got.Recipients[3].Verdict)
	}
}

// TestSkippedContent: content over the limits with nothing found before them changes no
// verdict and the reason says it was not checked; what was found before the limits
// escalates, and the reason says the rest was not checked.
func TestSkippedContent(t *testing.T) {
	g := contentGuard(t, DefaultPolicy())
	md := g.Inspect(Envelope{Recipients: []string{warned, "sam@unrelated.example"}})
	notRead := []content.NotRead{{Part: "message", Why: "larger than 1024 bytes"}}

	got := g.WithContent(md, content.Result{Skipped: true, NotRead: notRead}, defaultRules)
	if got.Verdict != Warn || got.Recipients[1].Verdict != Allow || !got.ContentSkipped {
		t.Errorf("skipped, nothing found: %s %s", got.Verdict, got.Recipients[1].Verdict)
	}
	if r := got.Recipients[0].Reason; !strings.Contains(r, "the message was not checked for content (larger than 1024 bytes)") {
		t.Errorf("reason %q", r)
	}

	r := carries(content.Credentials, content.Markings)
	r.Skipped, r.NotRead = true, notRead
	got = g.WithContent(md, r, defaultRules)
	if got.Recipients[0].Verdict != Hold || got.Recipients[1].Verdict != Hold || !got.ContentSkipped ||
		strings.Join(got.Content, ",") != "credentials,markings" {
		t.Errorf("skipped after findings: %s %s %q", got.Recipients[0].Verdict, got.Recipients[1].Verdict, got.Content)
	}
	if r := got.Recipients[0].Reason; !strings.Contains(r, "looks like a password") ||
		!strings.Contains(r, "the rest of it was not checked for content (larger than 1024 bytes)") {
		t.Errorf("reason %q", r)
	}
}

func TestContentInMonitorModeIsNotEnforced(t *testing.T) {
	p := DefaultPolicy()
	p.Monitor = true
	g := contentGuard(t, p)
	md := g.Inspect(Envelope{Recipients: []string{warned}})
	got := g.WithContent(md, carries(content.Credentials), defaultRules)
	if got.Verdict != Hold || got.Enforced() != Allow || !got.Monitor {
		t.Errorf("monitor: verdict %s enforced %s", got.Verdict, got.Enforced())
	}
}

func TestAddSentence(t *testing.T) {
	for _, c := range [][3]string{
		{"Did you mean x?", "s", "Did you mean x?; s."},
		{"Looks like x.", "s", "Looks like x; s."},
		{"", "the message", "The message."},
		{"r.", "", "r."},
	} {
		if got := addSentence(c[0], c[1]); got != c[2] {
			t.Errorf("addSentence(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

func TestContentMattersOnlyForFlaggedRecipientsOrExternalRules(t *testing.T) {
	g := contentGuard(t, DefaultPolicy())
	allowed := g.Inspect(Envelope{Recipients: []string{"ann@contoso.com", "sam@unrelated.example"}}).Recipients
	warnedToo := g.Inspect(Envelope{Recipients: []string{"ann@contoso.com", warned}}).Recipients
	escalateOnly := ContentRules{Escalate: defaultRules.Escalate}
	if escalateOnly.Matter(g, allowed) || !escalateOnly.Matter(g, warnedToo) || !defaultRules.Matter(g, allowed) {
		t.Errorf("Matter: %v %v %v", escalateOnly.Matter(g, allowed), escalateOnly.Matter(g, warnedToo), defaultRules.Matter(g, allowed))
	}
	// on_any_external does not read mail between colleagues (own domains, the allow list),
	// nor mail to recipients that are all invalid; without a guard it reads everything.
	internal := g.Inspect(Envelope{Recipients: []string{"ann@contoso.com", "bob@contoso.com"}}).Recipients
	invalid := g.Inspect(Envelope{Recipients: []string{"not an address"}}).Recipients
	if defaultRules.Matter(g, internal) || defaultRules.Matter(g, invalid) || !defaultRules.Matter(nil, internal) {
		t.Errorf("on_any_external: internal %v, invalid %v, no guard %v", defaultRules.Matter(g, internal), defaultRules.Matter(g, invalid), defaultRules.Matter(nil, internal))
	}
}
