package dnsq

import (
	"strconv"
	"strings"
)

// maxHostLen is the longest host name kept (RFC 1035: 255 octets on the wire, 253 in text).
const maxHostLen = 253

// hostName turns a name as the DNS library presents it (absolute, with \DDD and \X escapes
// for bytes that are not plain text) into the text every report and reason shows: lower
// case, without the final dot. ok is false when the name is not a plain host name (a label
// with a byte other than a letter, a digit, '-' or '_', an empty label, a label over 63
// bytes, or over 253 bytes in all); the text returned then escapes every such byte as \DDD
// and is cut to 253 bytes, so it is printable ASCII without spaces and cannot pass for the
// name of another host. The root name "." and a name with an empty label (which cannot come
// from a DNS message) give "", not ok.
func hostName(s string) (host string, ok bool) {
	labels, ok := splitLabels(s)
	var b strings.Builder
	for i, l := range labels {
		if i > 0 {
			b.WriteByte('.')
		}
		if len(l) == 0 {
			return "", false
		}
		if len(l) > 63 {
			ok = false
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			switch {
			case 'A' <= c && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
				b.WriteByte(c)
			default:
				ok = false
				b.WriteByte('\\')
				d := strconv.Itoa(int(c))
				b.WriteString(strings.Repeat("0", 3-len(d)) + d)
			}
		}
	}
	host = b.String()
	if host == "" {
		return "", false
	}
	if len(host) > maxHostLen {
		ok = false
		host = host[:maxHostLen]
		// Do not leave half an escape at the end.
		if i := strings.LastIndexByte(host, '\\'); i >= 0 && len(host)-i < 4 {
			host = host[:i]
		}
		host = strings.TrimRight(host, ".")
	}
	return host, ok
}

// splitLabels reads a presentation-format name into its labels' bytes: '.' separates labels,
// "\DDD" is the byte DDD and "\X" is X. A final dot is dropped. ok is false for an escape
// that is cut short or out of range (its backslash is then kept as a byte, which hostName
// escapes) and for an empty label.
func splitLabels(s string) (labels [][]byte, ok bool) {
	ok = true
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return nil, ok
	}
	var cur []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if len(cur) == 0 {
				ok = false
			}
			labels = append(labels, cur)
			cur = nil
		case c == '\\' && i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]):
			v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if v > 255 {
				ok = false
				cur = append(cur, '\\')
				continue
			}
			cur = append(cur, byte(v))
			i += 3
		case c == '\\' && i+1 < len(s) && !isDigit(s[i+1]):
			cur = append(cur, s[i+1])
			i++
		case c == '\\':
			ok = false
			cur = append(cur, c)
		default:
			cur = append(cur, c)
		}
	}
	return append(labels, cur), ok
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// normDomain is the form a domain is asked and cached under: lower case, without the final
// dot; ok is false when it is not a plain host name in ASCII (convert an IDN to A-labels
// first).
func normDomain(domain string) (string, bool) {
	if strings.ContainsRune(domain, '\\') {
		return "", false
	}
	return hostName(domain)
}
