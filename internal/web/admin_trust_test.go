package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/trust"
)

// withTrust gives the fixture's pages the trust workflow over its store, with a guard
// that protects army.mil and .mil and knows fabrikam.com well. It returns the count of
// changes the workflow reported.
func (f *adminFixture) withTrust(t *testing.T) *atomic.Int32 {
	t.Helper()
	dom := func(s string) address.Domain {
		d, err := address.ParseDomain(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	eng, err := engine.New(engine.Inputs{Protected: []address.Domain{dom("army.mil")}, ProtectedNamespaces: []string{"mil"},
		Known: []engine.KnownDomain{{Domain: dom("fabrikam.com"), Count: 5000}}})
	if err != nil {
		t.Fatal(err)
	}
	g := guard.New(eng, guard.DefaultPolicy())
	var changes atomic.Int32
	f.admin.Trust = &trust.Service{Store: f.store, Decide: g.Decide, Changed: func() { changes.Add(1) }}
	f.h = f.admin.Handler()
	return &changes
}

// confirmBy records that each sender confirmed domain, as the validation page does.
func (f *adminFixture) confirmBy(t *testing.T, domain string, senders ...string) {
	t.Helper()
	for _, s := range senders {
		if err := f.store.Confirm(context.Background(), s, []string{domain}, f.id); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAdminTrustAddAndRemove(t *testing.T) {
	f := newAdminFixture(t)
	changes := f.withTrust(t)
	c := f.session(t, adminUser, adminPass)
	page := f.get(t, "/admin/trust", c)
	if page.code != http.StatusOK || !strings.Contains(page.body, "No domain is trusted") {
		t.Fatalf("empty page: %d\n%s", page.code, page.body)
	}
	tok := csrfOf(t, page.body)
	post := func(form url.Values) adminResp {
		t.Helper()
		return f.req(t, "POST", "/admin/trust", form, c, "192.0.2.44")
	}
	// Without the CSRF token nothing changes.
	if r := post(url.Values{"action": {"add"}, "domain": {"fabrikarn.com"}}); r.code != http.StatusForbidden {
		t.Fatalf("add without CSRF: %d", r.code)
	}
	r := post(url.Values{"action": {"add"}, "domain": {"Fabrikarn.COM"}, "note": {"our new supplier"}, "csrf": {tok}})
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/trust" {
		t.Fatalf("add: %d %v\n%s", r.code, r.hdr, r.body)
	}
	page = f.get(t, "/admin/trust", c)
	for _, s := range []string{"<td data-label=\"Domain\">fabrikarn.com</td>", "admin:root", "192.0.2.44", "our new supplier",
		"Remove fabrikarn.com", "<td data-label=\"Change\">trusted</td>"} {
		if !strings.Contains(page.body, s) {
			t.Errorf("page lacks %q:\n%s", s, page.body)
		}
	}
	if r := post(url.Values{"action": {"add"}, "domain": {"fabrikarn.com"}, "csrf": {tok}}); r.code != http.StatusConflict ||
		!strings.Contains(r.body, "trusted already") {
		t.Errorf("add twice: %d\n%s", r.code, r.body)
	}
	if r := post(url.Values{"action": {"add"}, "domain": {"bob@fabrikarn.com"}, "csrf": {tok}}); r.code != http.StatusBadRequest ||
		!strings.Contains(r.body, "Not a domain name") {
		t.Errorf("add an address: %d\n%s", r.code, r.body)
	}
	if r := post(url.Values{"action": {"add"}, "domain": {"x.com"}, "note": {strings.Repeat("n", 501)}, "csrf": {tok}}); r.code != http.StatusBadRequest {
		t.Errorf("add with a long note: %d", r.code)
	}
	if r := post(url.Values{"action": {"trustall"}, "csrf": {tok}}); r.code != http.StatusBadRequest {
		t.Errorf("unknown action: %d", r.code)
	}
	if r := post(url.Values{"action": {"remove"}, "domain": {"fabrikarn.com"}, "note": {"wrong supplier"}, "csrf": {tok}}); r.code != http.StatusSeeOther {
		t.Fatalf("remove: %d\n%s", r.code, r.body)
	}
	if r := post(url.Values{"action": {"remove"}, "domain": {"fabrikarn.com"}, "csrf": {tok}}); r.code != http.StatusConflict {
		t.Errorf("remove twice: %d", r.code)
	}
	page = f.get(t, "/admin/trust", c)
	if !strings.Contains(page.body, "No domain is trusted") || !strings.Contains(page.body, "withdrawn") ||
		!strings.Contains(page.body, "wrong supplier") {
		t.Errorf("after remove:\n%s", page.body)
	}
	if n := changes.Load(); n != 2 {
		t.Errorf("%d changes reported; want 2", n)
	}
	// Signed out: the page and the action are refused.
	if r := f.get(t, "/admin/trust", nil); r.code != http.StatusSeeOther {
		t.Errorf("page without a session: %d", r.code)
	}
	if r := f.req(t, "POST", "/admin/trust", url.Values{"action": {"add"}, "domain": {"x.com"}, "csrf": {tok}}, nil, ""); r.code != http.StatusForbidden {
		t.Errorf("action without a session: %d", r.code)
	}
}

// A lookalike of a protected domain is trusted only after an explicit second
// confirmation, and the page says why it asks.
func TestAdminTrustProtectedLookalikeNeedsSecondConfirmation(t *testing.T) {
	f := newAdminFixture(t)
	f.withTrust(t)
	c := f.session(t, adminUser, adminPass)
	tok := csrfOf(t, f.get(t, "/admin/trust", c).body)
	r := f.req(t, "POST", "/admin/trust", url.Values{"action": {"add"}, "domain": {"army.ml"}, "note": {"Mali"}, "csrf": {tok}}, c, "")
	if r.code != http.StatusConflict || !strings.Contains(r.body, "army.mil, which is protected") ||
		!strings.Contains(r.body, `name="force" value="yes"`) || !strings.Contains(r.body, "Trust army.ml anyway") {
		t.Fatalf("first add of army.ml: %d\n%s", r.code, r.body)
	}
	if l, _ := f.store.TrustedDomains(context.Background()); len(l) != 0 {
		t.Fatalf("trusted before the second confirmation: %+v", l)
	}
	r = f.req(t, "POST", "/admin/trust", url.Values{"action": {"add"}, "domain": {"army.ml"}, "note": {"Mali"}, "force": {"yes"},
		"csrf": {csrfOf(t, r.body)}}, c, "")
	if r.code != http.StatusSeeOther {
		t.Fatalf("confirmed add: %d\n%s", r.code, r.body)
	}
	l, _ := f.store.TrustedDomains(context.Background())
	if len(l) != 1 || l[0].Domain != "army.ml" || !l[0].Forced || l[0].Note != "Mali" {
		t.Fatalf("trusted %+v", l)
	}
	if page := f.get(t, "/admin/trust", c); !strings.Contains(page.body, "trusted despite a warning") {
		t.Errorf("the page does not say army.ml was trusted despite a warning:\n%s", page.body)
	}
}

// Proposals appear once enough distinct senders confirmed a domain, name the domain it
// looks like, and trust it in one click.
func TestAdminTrustProposals(t *testing.T) {
	f := newAdminFixture(t)
	f.withTrust(t)
	c := f.session(t, adminUser, adminPass)
	f.confirmBy(t, "fabrikarn.com", "a@example.org", "b@example.org")
	if page := f.get(t, "/admin/trust", c); strings.Contains(page.body, "Trust fabrikarn.com") || !strings.Contains(page.body, "No proposals") {
		t.Fatalf("proposed after 2 senders:\n%s", page.body)
	}
	f.confirmBy(t, "fabrikarn.com", "c@example.org")
	page := f.get(t, "/admin/trust", c)
	for _, s := range []string{"Trust fabrikarn.com", `<td data-label="Senders">3</td>`, `<td data-label="Looks like">fabrikam.com</td>`} {
		if !strings.Contains(page.body, s) {
			t.Fatalf("proposal lacks %q:\n%s", s, page.body)
		}
	}
	r := f.req(t, "POST", "/admin/trust", url.Values{"action": {"add"}, "domain": {"fabrikarn.com"},
		"note": {"proposed: confirmed by 3 senders"}, "csrf": {csrfOf(t, page.body)}}, c, "")
	if r.code != http.StatusSeeOther {
		t.Fatalf("one-click trust: %d\n%s", r.code, r.body)
	}
	if page := f.get(t, "/admin/trust", c); strings.Contains(page.body, "Trust fabrikarn.com") {
		t.Errorf("a trusted domain is still proposed")
	}
	// The message page links a flagged recipient's domain to the form.
	if m := f.get(t, "/admin/m/"+f.id, c); !strings.Contains(m.body, `href="/admin/trust?domain=arrny.mil#add"`) {
		t.Errorf("message page has no trust link:\n%s", m.body)
	}
}

func TestAdminTrustUnavailableWithoutTrust(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	if r := f.get(t, "/admin/trust", c); r.code != http.StatusServiceUnavailable {
		t.Errorf("page without Trust: %d", r.code)
	}
	if m := f.get(t, "/admin/m/"+f.id, c); strings.Contains(m.body, "/admin/trust?") {
		t.Errorf("trust link without Trust")
	}
}
