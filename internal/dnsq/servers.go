package dnsq

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
)

// SystemServers reads the resolvers of a resolv.conf file (its "nameserver" lines, IPv4 or
// IPv6) as "host:port" with port 53.
func SystemServers(resolvConf string) ([]string, error) {
	f, err := os.Open(resolvConf)
	if err != nil {
		return nil, fmt.Errorf("dns: reading the system's resolvers: %w", err)
	}
	defer f.Close()
	servers, err := parseResolvConf(f)
	if err != nil {
		return nil, fmt.Errorf("dns: %s: %w", resolvConf, err)
	}
	return servers, nil
}

// parseResolvConf reads the nameserver lines; a line whose address does not parse is an
// error (a resolver silently left out would change what is asked).
func parseResolvConf(r io.Reader) ([]string, error) {
	var servers []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "nameserver" {
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("line %d: nameserver without an address", n)
		}
		a, err := netip.ParseAddr(fields[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: nameserver %q is not an IP address", n, cut(fields[1]))
		}
		servers = append(servers, netip.AddrPortFrom(a, 53).String())
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(servers) == 0 {
		return nil, errors.New("no nameserver line: give a resolver (--resolver ADDR)")
	}
	return servers, nil
}

// serverAddr checks a configured resolver, "host:port" or a bare IP address (port 53).
func serverAddr(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 53).String(), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" {
		return "", fmt.Errorf("dns: resolver %q is not host:port or an IP address", cut(s))
	}
	return s, nil
}

// cut shortens s to 64 bytes for an error text (which quotes it with %q).
func cut(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
