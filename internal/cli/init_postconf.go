package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
)

// postconfParams are the Postfix settings `rcptguard init` reads: the first ones name the
// organisation's mail domains, the others are where the policy service and the milter go.
var postconfParams = []string{
	"myhostname", "mydomain", "myorigin", "mydestination",
	"virtual_alias_domains", "virtual_mailbox_domains", "relay_domains",
	"smtpd_recipient_restrictions", "smtpd_end_of_data_restrictions",
	"smtpd_milters", "non_smtpd_milters",
}

// domainParams are the settings whose values are mail domains of this Postfix.
var domainParams = []string{"myorigin", "mydomain", "mydestination", "virtual_alias_domains", "virtual_mailbox_domains", "relay_domains"}

// postfixSettings is what `postconf` said: every setting's value as written (with its
// $name references), and the master.cf services.
type postfixSettings struct {
	values   map[string]string
	services []string // "name/type" of every master.cf service (postconf -M)
}

// maxPostconfOutput bounds what is read from postconf.
const maxPostconfOutput = 4 << 20

// readPostconf runs postconf (with -c dir when dir is set) and parses what it prints.
func readPostconf(dir string) (postfixSettings, error) {
	bin, err := exec.LookPath("postconf")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/postconf"); serr != nil {
			return postfixSettings{}, fmt.Errorf("postconf not found (is Postfix installed?): %w", err)
		}
		bin = "/usr/sbin/postconf"
	}
	run := func(args ...string) ([]byte, error) {
		if dir != "" {
			args = append([]string{"-c", dir}, args...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("postconf %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		if stdout.Len() > maxPostconfOutput {
			return nil, fmt.Errorf("postconf %s: more than %d bytes of output", strings.Join(args, " "), maxPostconfOutput)
		}
		return stdout.Bytes(), nil
	}
	out, err := run(postconfParams...)
	if err != nil {
		return postfixSettings{}, err
	}
	s := postfixSettings{values: parsePostconf(out)}
	if out, err = run("-M"); err != nil {
		return postfixSettings{}, err
	}
	s.services = parseMasterServices(out)
	return s, nil
}

// parsePostconf reads `postconf` output: one "name = value" line per setting. Lines
// that are not of that form are ignored (postconf prints warnings on stderr).
func parsePostconf(out []byte) map[string]string {
	values := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), maxPostconfOutput)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t$") {
			continue
		}
		values[name] = strings.TrimSpace(value)
	}
	return values
}

// parseMasterServices reads `postconf -M` output ("name type private unpriv chroot
// wakeup maxproc command...") and returns "name/type" for each service.
func parseMasterServices(out []byte) []string {
	var services []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), maxPostconfOutput)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 8 && !strings.HasPrefix(f[0], "#") {
			services = append(services, f[0]+"/"+f[1])
		}
	}
	return services
}

// skipped is one item of a Postfix domain list that is not proposed, and why.
type skipped struct{ item, why string }

// proposeDomains returns the mail domains that the domain settings of this Postfix name,
// in the order first seen, and the items it left out with the reason. It expands
// $name and ${name} references as `postconf -x` does, from the values read; it leaves
// out the host's own name ($myhostname), localhost, lookup tables (hash:/etc/...: their
// contents are not read), and whatever is not a domain name of two labels or more.
func proposeDomains(values map[string]string) (domains []string, left []skipped) {
	seen := map[string]bool{}
	skip := func(item, why string) {
		if !seen["skip:"+item] {
			seen["skip:"+item] = true
			left = append(left, skipped{item, why})
		}
	}
	var walk func(value string, depth int)
	walk = func(value string, depth int) {
		for _, item := range splitPostfixList(value) {
			name, whole := reference(item)
			switch {
			case whole && name == "myhostname":
				skip(item, "the host's own name, not a mail domain")
			case whole && depth < 8:
				v, known := values[name]
				if !known {
					skip(item, "refers to a setting that is not known")
					continue
				}
				walk(v, depth+1)
			case strings.Contains(item, ":") || strings.HasPrefix(item, "/"):
				skip(item, "a lookup table: rcptguard does not read it; add its domains yourself")
			default:
				d, ok := expand(item, values, 0)
				if !ok {
					skip(item, "refers to a setting that is not known")
					continue
				}
				d = strings.ToLower(strings.TrimSuffix(d, "."))
				if why := notAMailDomain(d); why != "" {
					skip(item, why)
					continue
				}
				es, err := config.ParseList(d)
				if err != nil || len(es) != 1 || es[0].Namespace {
					skip(item, "not a domain name")
					continue
				}
				if n := es[0].String(); !seen[n] {
					seen[n] = true
					domains = append(domains, n)
				}
			}
		}
	}
	for _, p := range domainParams {
		walk(values[p], 0)
	}
	return domains, left
}

// notAMailDomain says why d is not one of the organisation's mail domains, "" when it
// may be.
func notAMailDomain(d string) string {
	if d == "localhost" || strings.HasPrefix(d, "localhost.") {
		return "local only"
	}
	last := d[strings.LastIndexByte(d, '.')+1:]
	switch last {
	case "localdomain", "local", "localhost":
		return "not a public domain"
	}
	if !strings.Contains(d, ".") {
		return "a single label, not a mail domain"
	}
	return ""
}

// splitPostfixList splits a Postfix list value at commas and white space.
func splitPostfixList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// reference reports whether item is one whole $name or ${name} reference, and the name.
func reference(item string) (string, bool) {
	if name, ok := strings.CutPrefix(item, "${"); ok {
		if name, ok = strings.CutSuffix(name, "}"); ok && isParamName(name) {
			return name, true
		}
		return "", false
	}
	if name, ok := strings.CutPrefix(item, "$"); ok && isParamName(name) {
		return name, true
	}
	return "", false
}

func isParamName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// expand replaces the $name and ${name} references in s with the values read, as
// `postconf -x` does; false when one names a setting that was not read or the
// expansion goes too deep (a loop).
func expand(s string, values map[string]string, depth int) (string, bool) {
	if depth > 8 {
		return "", false
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		var name string
		switch {
		case strings.HasPrefix(s, "$"): // $$ is a literal $
			b.WriteByte('$')
			s = s[1:]
			continue
		case strings.HasPrefix(s, "{") || strings.HasPrefix(s, "("):
			end := strings.IndexAny(s, "})")
			if end < 0 {
				return "", false
			}
			name, s = s[1:end], s[end+1:]
		default:
			n := 0
			for n < len(s) && isParamName(s[n:n+1]) {
				n++
			}
			name, s = s[:n], s[n:]
		}
		v, ok := values[name]
		if !ok || !isParamName(name) {
			return "", false
		}
		v, ok = expand(v, values, depth+1)
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
}
