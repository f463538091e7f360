package cli

import (
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/config"
)

// FuzzInitFromPostconf: whatever postconf prints (the main.cf it reads is the
// administrator's, and anything may be in it), `rcptguard init` writes a config that
// loads, proposes only domains the config accepts, and prints its Postfix lines without
// failing.
func FuzzInitFromPostconf(f *testing.F) {
	for _, s := range []string{
		"mydomain = contoso.test\nmydestination = $myhostname, localhost.$mydomain, localhost, $mydomain\n",
		"myorigin = $mydomain\nmydomain = $myorigin\n",
		"virtual_alias_domains = hash:/etc/postfix/virtual, ${mydomain?x}, $(mydomain), $$x\n",
		"relay_domains = a..b -x.test .mil ümlaut.test xn--zz.com\x00\n",
		"smtpd_recipient_restrictions = permit_mynetworks,\n    reject\nnon_smtpd_milters = inet:1.2.3.4:5\n",
		"mydestination = # comment: x\n: = \n = \n",
		"mydomain = \"quoted\".test\nmyorigin = 'x'.test\n",
		"mydestination = " + strings.Repeat("$mydomain.", 50) + "\nmydomain = a.test\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		values := parsePostconf(out)
		domains, _ := proposeDomains(values)
		for _, d := range domains {
			es, err := config.ParseList(d)
			if err != nil || len(es) != 1 || es[0].String() != d || es[0].Namespace {
				t.Fatalf("proposed %q, which own_domains does not take as it is: %v", d, err)
			}
		}
		c := initConfig{values: values, domains: domains, reinject: len(out)%2 == 0}
		_, c.left = proposeDomains(values)
		text := c.render()
		if _, err := config.Parse([]byte(text), "/etc/rcptguard/rcptguard.yaml"); err != nil {
			t.Fatalf("the config does not load: %v\n%s", err, text)
		}
		_ = postfixLines(postfixSettings{values: values, services: parseMasterServices(out)})
	})
}
