package testenv

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// PolicyClient speaks Postfix's policy delegation protocol on one connection, as smtpd
// does.
type PolicyClient struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
	n  int
}

// DialPolicy connects to the policy service at addr; the connection closes with the test.
func DialPolicy(t testing.TB, addr string) *PolicyClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &PolicyClient{t: t, c: c, br: bufio.NewReader(c)}
}

// Ask sends one request (attrs: name=value lines) and returns the action.
func (p *PolicyClient) Ask(attrs string) string {
	p.t.Helper()
	p.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(p.c, "request=smtpd_access_policy\n"+attrs+"\n"); err != nil {
		p.t.Fatal(err)
	}
	line, err := p.br.ReadString('\n')
	if err != nil {
		p.t.Fatal(err)
	}
	if blank, err := p.br.ReadString('\n'); err != nil || blank != "\n" {
		p.t.Fatalf("the answer %q does not end with an empty line: %q %v", line, blank, err)
	}
	return strings.TrimPrefix(strings.TrimSuffix(line, "\n"), "action=")
}

// Message asks about one message with one recipient as Postfix does (RCPT, then
// END-OF-MESSAGE when RCPT let it through) and returns the two actions. Each message has
// an instance and a queue ID of its own.
func (p *PolicyClient) Message(sender, rcpt string) (atRcpt, atEOM string) {
	p.t.Helper()
	p.n++
	id := fmt.Sprintf("%d.%d", time.Now().UnixNano(), p.n)
	common := fmt.Sprintf("instance=i.%s\nqueue_id=Q%s\nsender=%s\nrecipient=%s\nclient_address=127.0.0.1\n",
		id, strings.ReplaceAll(id, ".", "N"), sender, rcpt)
	atRcpt = p.Ask("protocol_state=RCPT\n" + common)
	if !strings.HasPrefix(atRcpt, "DUNNO") && !strings.HasPrefix(atRcpt, "PREPEND") {
		return atRcpt, ""
	}
	return atRcpt, p.Ask("protocol_state=END-OF-MESSAGE\nrecipient_count=1\n" + common)
}
