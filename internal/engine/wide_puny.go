package engine

import "unicode/utf8"

// appendPunycode appends the Punycode of the UTF-8 label s (RFC 3492, without the "xn--"
// prefix) to dst. It is what idna.Punycode.ToASCII gives for a label that is not ASCII,
// without its allocations (TestAppendPunycode compares the two); ok is false if a delta
// overflows, which no label of a domain's length can do.
func appendPunycode(dst, s []byte) (_ []byte, ok bool) {
	const (
		base, tmin, tmax = 36, 1, 26
		skew, damp       = 38, 700
	)
	// Only the characters that are not ASCII are kept, with where they stand (in
	// characters): every ASCII one is below n at every step, so the ASCII ones between two
	// of them are counted, not walked.
	type wide struct {
		r   rune
		pos int32
	}
	var ws [16]wide
	wides := ws[:0]
	basic, count := 0, int32(0)
	for i := 0; i < len(s); count++ {
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, c)
			basic++
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		wides = append(wides, wide{r, count})
		i += n
	}
	if basic > 0 {
		dst = append(dst, '-')
	}
	n, delta, bias := rune(0x80), int32(0), int32(72)
	for h := basic; h < int(count); {
		m := rune(0x7fffffff)
		for _, w := range wides {
			if w.r >= n && w.r < m {
				m = w.r
			}
		}
		d := int64(m-n) * int64(h+1)
		if int64(delta)+d > 0x7fffffff {
			return dst, false
		}
		delta += int32(d)
		n = m
		prev := int32(-1)
		for _, w := range wides {
			delta += w.pos - prev - 1 // the ASCII characters since the last
			prev = w.pos
			if w.r < n {
				delta++
			}
			if w.r != n {
				continue
			}
			q := delta
			for k := int32(base); ; k += base {
				t := k - bias
				if t < tmin {
					t = tmin
				} else if t > tmax {
					t = tmax
				}
				if q < t {
					break
				}
				dst = append(dst, punyDigit(t+(q-t)%(base-t)))
				q = (q - t) / (base - t)
			}
			dst = append(dst, punyDigit(q))
			// adapt
			dd := delta
			if h == basic {
				dd /= damp
			} else {
				dd /= 2
			}
			dd += dd / int32(h+1)
			k := int32(0)
			for dd > ((base-tmin)*tmax)/2 {
				dd /= base - tmin
				k += base
			}
			bias = k + (base-tmin+1)*dd/(dd+skew)
			delta = 0
			h++
		}
		delta += count - prev - 1
		delta++
		n++
	}
	return dst, true
}

func punyDigit(d int32) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}
