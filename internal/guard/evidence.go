package guard

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
)

// Evidence is what `rcptguard squat --watch` found in DNS, handed to the guard as a whole
// (WithEvidence) so that a decision asks nothing at decision time: the registered lookalikes
// that can receive mail, the catch-all "farm" hosts that receive mail for many lookalikes,
// and the known correspondents that seem to have changed hands. Build it with
// AddRegistered, AddFarm and AddChangedOwner; the zero value is no evidence. It must not
// be changed once given to a guard.
type Evidence struct {
	registered map[string][]string // lookalike domain (ASCII) -> its mail hosts
	farms      map[string]int      // mail host -> how many lookalike domains it serves
	changed    map[string]Change   // known correspondent (ASCII) -> what changed
}

// Change is what changed about a known correspondent that suggests it changed hands.
type Change struct {
	// MovedTo are its new mail hosts, when its mail servers moved (to hosts that also
	// serve lookalikes: Farms says how many).
	MovedTo []string
	// CameBack: it stopped existing and was registered again (possibly by someone else).
	CameBack bool
	// At is when the change was seen (the watch run); zero when unknown.
	At time.Time
}

// AddRegistered records that the lookalike domain (ASCII, as address.Domain.ASCII) is
// registered and receives mail at hosts (MX hosts, or the domain itself for an address
// only). A domain that cannot receive mail (no hosts) is not recorded: only a lookalike
// that can take the mail strengthens a finding.
func (e *Evidence) AddRegistered(domain string, hosts []string) {
	domain = normName(domain)
	hosts = normHosts(hosts)
	if domain == "" || len(hosts) == 0 {
		return
	}
	if e.registered == nil {
		e.registered = map[string][]string{}
	}
	e.registered[domain] = hosts
}

// AddFarm records a mail host that receives mail for lookalikes (at least two: one is
// no farm) of the organisation's domains.
func (e *Evidence) AddFarm(host string, lookalikes int) {
	host = normName(host)
	if host == "" || lookalikes < 2 {
		return
	}
	if e.farms == nil {
		e.farms = map[string]int{}
	}
	e.farms[host] = lookalikes
}

// AddChangedOwner records that the known correspondent domain (ASCII) may have changed
// hands. A change that says nothing (no new hosts, not CameBack) is not recorded.
func (e *Evidence) AddChangedOwner(domain string, c Change) {
	domain = normName(domain)
	c.MovedTo = normHosts(c.MovedTo)
	if domain == "" || (len(c.MovedTo) == 0 && !c.CameBack) {
		return
	}
	if e.changed == nil {
		e.changed = map[string]Change{}
	}
	e.changed[domain] = c
}

// Len is how many facts e holds: registered lookalikes, farm hosts and changed owners.
func (e Evidence) Len() (registered, farms, changed int) {
	return len(e.registered), len(e.farms), len(e.changed)
}

// WithEvidence returns a copy of g that decides with the evidence e (see Decide).
func (g *Guard) WithEvidence(e Evidence) *Guard {
	c := *g
	c.evidence = e
	return &c
}

// Evidence is the evidence the guard decides with.
func (g *Guard) Evidence() Evidence { return g.evidence }

// farm returns the first of hosts that is a known farm host, and how many lookalikes it
// serves.
func (e Evidence) farm(hosts []string) (string, int) {
	for _, h := range hosts {
		if n := e.farms[h]; n > 0 {
			return h, n
		}
	}
	return "", 0
}

// EvidenceKind is what evidence changed a decision.
type EvidenceKind uint8

// The kinds of evidence.
const (
	// Registered: the lookalike is registered and accepts mail (squat saw it, or its
	// mail host is a farm); the verdict is at least policy.registered_lookalike.
	Registered EvidenceKind = iota + 1
	// Receives: a lookup at decision time found the lookalike registered and accepting
	// mail, at hosts that are no known farm: the reason says so, the verdict stays.
	Receives
	// Undeliverable: a lookup at decision time found that the domain does not exist or
	// accepts no mail; the verdict is at least policy.undeliverable.
	Undeliverable
	// ChangedOwner: a known correspondent that seems to have changed hands; the verdict
	// is at least policy.changed_owner.
	ChangedOwner
)

var evidenceNames = [...]string{"", "registered", "receives", "undeliverable", "changed-owner"}

func (k EvidenceKind) String() string {
	if int(k) < len(evidenceNames) && k > 0 {
		return evidenceNames[k]
	}
	return "unknown"
}

// Evident is the evidence that changed a decision, for logs and the administrators.
type Evident struct {
	Kind EvidenceKind
	// Live: from a DNS lookup at decision time (dns.evidence), not from squat --watch.
	Live  bool
	Hosts []string // the domain's mail hosts (Registered, Receives) or new ones (ChangedOwner)
	// Farm is the first of Hosts that serves other lookalikes, and how many.
	Farm      string
	FarmCount int
	// Verdict is the verdict before the evidence.
	Verdict Verdict
}

// strengthen applies the evidence to d, which the engine decided (allowed: the
// administrators allowed it): the known evidence, and live, the facts a lookup at decision
// time gave (nil when there was none, or it failed). A live answer is fresher than squat's
// and takes its place. The engine's verdict is only ever raised, never lowered: evidence
// that is missing or stale lets it stand.
func (g *Guard) strengthen(d *Decision, allowed bool, live *liveFacts) {
	if d.Verdict == Invalid || allowed {
		return // the administrators allowed or trusted it: never flagged
	}
	e, p := g.evidence, g.policy
	dom := d.Address.Domain
	if len(d.Findings) == 0 {
		c, ok := e.changed[dom.ASCII]
		if !ok || d.Blocked || p.ChangedOwner == Allow {
			return
		}
		ev := &Evident{Kind: ChangedOwner, Hosts: c.MovedTo, Verdict: d.Verdict}
		ev.Farm, ev.FarmCount = e.farm(c.MovedTo)
		g.raise(d, ev, p.ChangedOwner, changeSentence(dom.Display, c, ev))
		return
	}
	switch {
	case live != nil && !live.canReceive:
		ev := &Evident{Kind: Undeliverable, Live: true, Verdict: d.Verdict}
		g.raise(d, ev, p.Undeliverable, undeliverableSentence(dom.Display, live.why))
	case live != nil:
		ev := &Evident{Kind: Receives, Live: true, Hosts: live.hosts, Verdict: d.Verdict}
		ev.Farm, ev.FarmCount = e.farm(live.hosts)
		_, seen := e.registered[dom.ASCII]
		v := Allow
		if ev.Farm != "" || seen {
			ev.Kind, v = Registered, p.RegisteredLookalike
		}
		g.raise(d, ev, v, receivesSentence(dom, ev))
	default:
		hosts, ok := e.registered[dom.ASCII]
		if !ok {
			return
		}
		ev := &Evident{Kind: Registered, Hosts: hosts, Verdict: d.Verdict}
		ev.Farm, ev.FarmCount = e.farm(hosts)
		g.raise(d, ev, p.RegisteredLookalike, receivesSentence(dom, ev))
	}
}

// raise records ev in d, raises its verdict to at least v and adds sentence to its reason.
func (g *Guard) raise(d *Decision, ev *Evident, v Verdict, sentence string) {
	d.Evidence = ev
	d.Verdict = max(d.Verdict, v)
	if d.Reason == "" {
		d.Reason = sentence
		return
	}
	d.Reason += " " + sentence
}

func receivesSentence(dom address.Domain, ev *Evident) string {
	if len(ev.Hosts) == 1 && ev.Hosts[0] == dom.ASCII {
		// No MX: its own address receives (RFC 5321 5.1).
		return fmt.Sprintf("%s is registered and accepts mail at its own address%s.", dom.Display, farmClause(ev, ""))
	}
	return fmt.Sprintf("%s is registered and accepts mail at %s%s.", dom.Display, hostList(ev.Hosts), farmClause(ev, ""))
}

// farmClause says which of ev's hosts serves lookalikes, and how many: ", which serves 12
// lookalike domains" after a single host; also is "also " for a domain that is no
// lookalike itself.
func farmClause(ev *Evident, also string) string {
	if ev.Farm == "" {
		return ""
	}
	if len(ev.Hosts) == 1 {
		return fmt.Sprintf(", which %sserves %s lookalike domains", also, count(int64(ev.FarmCount)))
	}
	return fmt.Sprintf("; %s %sserves %s lookalike domains", hostText(ev.Farm), also, count(int64(ev.FarmCount)))
}

func undeliverableSentence(name, why string) string {
	return fmt.Sprintf("%s %s: the mail cannot be delivered.", name, why)
}

func changeSentence(name string, c Change, ev *Evident) string {
	var s string
	if len(c.MovedTo) > 0 {
		s = fmt.Sprintf("%s's mail servers moved to %s%s", name, hostList(c.MovedTo), farmClause(ev, "also "))
	} else {
		s = fmt.Sprintf("%s stopped existing and was registered again", name)
	}
	if !c.At.IsZero() {
		s += " (seen " + c.At.UTC().Format("2 January 2006") + ")"
	}
	return s + "; it may have changed hands."
}

// maxHostsShown bounds the hosts a reason names.
const maxHostsShown = 3

// hostList names hosts for a reason: "a, b and c", at most maxHostsShown, then how many
// more.
func hostList(hosts []string) string {
	shown := make([]string, 0, maxHostsShown)
	for _, h := range hosts[:min(len(hosts), maxHostsShown)] {
		shown = append(shown, hostText(h))
	}
	switch {
	case len(hosts) > maxHostsShown:
		return strings.Join(shown, ", ") + fmt.Sprintf(" and %d more", len(hosts)-maxHostsShown)
	case len(shown) == 1:
		return shown[0]
	case len(shown) == 0:
		return "an unnamed host"
	}
	return strings.Join(shown[:len(shown)-1], ", ") + " and " + shown[len(shown)-1]
}

// maxHostText bounds one host name in a reason (a DNS name has at most 253 characters).
const maxHostText = 253

// hostText is a host name as a reason may show it: a reason ends up in SMTP replies and
// headers, so a name from DNS or a store that is not a plain host name (letters, digits,
// hyphens, dots, underscores; at most 253 characters) is never shown as it is.
func hostText(h string) string {
	if h == "" || len(h) > maxHostText {
		return "an unnamed host"
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return "an unnamed host"
		}
	}
	return h
}

// normName is a domain or host name in the form the guard compares: lower case, without
// the final dot; "" when it is no plain name (see hostText).
func normName(s string) string {
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if hostText(s) != s {
		return ""
	}
	return s
}

// normHosts normalises hosts, drops what is no plain name and repeats, keeping the order.
func normHosts(hosts []string) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h = normName(h); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}
