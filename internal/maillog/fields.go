package maillog

import "bytes"

// QueueID splits "4F2A31234: payload" into the queue id and the payload. Postfix queue
// ids are hexadecimal (short form) or alphanumeric (enable_long_queue_ids); NOQUEUE is
// what smtpd logs for mail it did not queue. (The scan's Postfix reader uses it too.)
func QueueID(msg []byte) (qid, payload []byte, ok bool) {
	i := 0
	for i < len(msg) && i <= 32 && isAlnum(msg[i]) {
		i++
	}
	if i < 5 || i > 32 || len(msg) < i+2 || msg[i] != ':' || msg[i+1] != ' ' || string(msg[:i]) == "NOQUEUE" {
		return nil, nil, false
	}
	return msg[:i], msg[i+2:], true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// Angle reads "<address>" at the start of b and returns the address and what follows.
// The address may hold a quoted local part with '>' or ',' in it; the closing '>' is the
// first one outside quotes that ends the field (followed by ',' or the end).
func Angle(b []byte) (addr, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '<' {
		return nil, nil, false
	}
	quoted := false
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '>' && !quoted && (i+1 == len(b) || b[i+1] == ','):
			return b[1:i], b[i+1:], true
		}
	}
	return nil, nil, false
}

// fields are the parts of a delivery line that we keep.
type fields struct {
	to, origTo, relay, status []byte
}

// deliveryFields parses "to=<a@b>, orig_to=<c@d>, relay=r, delay=1, ..., status=sent (text)".
// Only to= and status= are required.
func deliveryFields(b []byte) (fs fields, ok bool) {
	var rest []byte
	if fs.to, rest, ok = Angle(b[len("to="):]); !ok || len(fs.to) == 0 {
		return fs, false
	}
	for len(rest) > 0 {
		if !hasPrefix(rest, ", ") {
			return fs, false
		}
		rest = rest[2:]
		eq := bytes.IndexByte(rest, '=')
		if eq <= 0 {
			return fs, false
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		switch string(key) {
		case "orig_to":
			if fs.origTo, rest, ok = Angle(rest); !ok {
				return fs, false
			}
			continue
		case "status":
			// The last field: a word, then the reason, which may hold anything.
			end := bytes.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return fs, false
			}
			fs.status = rest[:end]
			return fs, true
		}
		end := bytes.Index(rest, []byte(", "))
		if end < 0 {
			end = len(rest)
		}
		if string(key) == "relay" {
			fs.relay = rest[:end]
		}
		rest = rest[end:]
	}
	return fs, false // no status
}
