package guard

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the decision as one JSON object, the format of `rcptguard check
// --json` and of the HTTP API:
// input, domain, display, verdict, intended, technique, score, reason, error, and the
// findings in detail (each with its technique and its slips: one, or two for a compound
// slip such as gnail.con), and, when DNS evidence added to the decision, "evidence".
func (d Decision) AppendJSON(b []byte) []byte {
	b = append(b, `{"input":`...)
	b = AppendJSONString(b, d.Input)
	b = append(b, `,"domain":`...)
	b = AppendJSONString(b, d.Address.Domain.ASCII)
	b = append(b, `,"display":`...)
	b = AppendJSONString(b, d.Address.Domain.Display)
	b = append(b, `,"verdict":`...)
	b = AppendJSONString(b, d.Verdict.String())
	b = append(b, `,"monitor":`...)
	b = strconv.AppendBool(b, d.Monitor)
	b = append(b, `,"intended":[`...)
	for i, f := range d.Findings {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, f.IntendedDisplay)
	}
	b = append(b, `],"technique":[`...)
	for i, t := range d.Techniques() {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, t.String())
	}
	b = append(b, `],"score":`...)
	b = strconv.AppendFloat(b, round(d.Score), 'f', -1, 64)
	b = append(b, `,"reason":`...)
	b = AppendJSONString(b, d.Reason)
	b = append(b, `,"error":`...)
	if d.Err != nil {
		b = AppendJSONString(b, d.Err.Error())
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"findings":[`...)
	for i, f := range d.Findings {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"intended":`...)
		b = AppendJSONString(b, f.Intended)
		b = append(b, `,"technique":`...)
		b = AppendJSONString(b, f.Technique.String())
		b = append(b, `,"slips":[`...)
		for i, t := range f.Slips() {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, t.String())
		}
		b = append(b, `],"situation":`...)
		b = AppendJSONString(b, f.Situation.String())
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, round(f.Score), 'f', -1, 64)
		b = append(b, `,"detail":`...)
		b = AppendJSONString(b, f.Detail())
		b = append(b, '}')
	}
	b = append(b, ']')
	if ev := d.Evidence; ev != nil {
		b = ev.appendJSON(append(b, `,"evidence":`...))
	}
	return append(b, '}')
}

// appendJSON appends the evidence as a JSON object: kind, live, hosts, and the farm host
// and how many lookalikes it serves, when one of the hosts is a farm.
func (ev *Evident) appendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = AppendJSONString(b, ev.Kind.String())
	b = append(b, `,"live":`...)
	b = strconv.AppendBool(b, ev.Live)
	b = append(b, `,"hosts":[`...)
	for i, h := range ev.Hosts {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, h)
	}
	b = append(b, ']')
	if ev.Farm != "" {
		b = append(b, `,"farm":`...)
		b = AppendJSONString(b, ev.Farm)
		b = append(b, `,"farm_lookalikes":`...)
		b = strconv.AppendInt(b, int64(ev.FarmCount), 10)
	}
	b = append(b, `,"verdict_before":`...)
	b = AppendJSONString(b, ev.Verdict.String())
	return append(b, '}')
}

func round(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json
// does; characters that break lines in JavaScript are escaped.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == 0x2028 || r == 0x2029:
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
