package content

import (
	"strings"
)

// Category personal.
//
// Evidence:
//   - "social security number": a US SSN written 123-45-6789, or nine digits
//     (123456789, 123 45 6789) within three lines of "SSN" or "social
//     security". Invalid numbers never count: area 000, 666 or 900-999, group
//     00, serial 0000, and the published example numbers.
//   - "IBAN": an IBAN whose length fits its country and whose check digits
//     pass mod 97 (ISO 13616).
//   - "payment card number": 13 to 19 digits, unbroken or in the usual groups
//     (4-4-4-4, 4-6-5...), with an issuer prefix of the right length (Visa,
//     Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro) and a valid
//     Luhn check digit. An order number failing Luhn does not count.
//   - "date of birth": a full date within three lines of "date of birth",
//     "DOB", "born on", "né le", "date de naissance", "geboren",
//     "Geburtsdatum", "fecha de nacimiento", "geboortedatum".
//   - "passport number": 6 to 9 capitals and digits (4 digits or more) within
//     three lines of "passport", "passeport", "Reisepass", "pasaporte",
//     "paspoort".
//
// Tuning: none; one piece of evidence is enough. An invoice carrying the
// sender's own IBAN counts as personal: the category says what the message
// carries, the policy says what that risks.
const (
	evSSN      = "social security number"
	evIBAN     = "IBAN"
	evCard     = "payment card number"
	evDOB      = "date of birth"
	evPassport = "passport number"
)

var (
	ssnDashed  = lazy(`\b(\d{3})-(\d{2})-(\d{4})\b`)
	ssnPlain   = lazy(`\b(\d{3}) ?(\d{2}) ?(\d{4})\b`)
	ssnWords   = lazy(`(?i)\b(?:ssn|social security|soc\.? sec\.?)`)
	dobWords   = lazy(`(?i)(?:\b(?:date of birth|dob|d\.o\.b|birth ?date|born on|date de naissance|geboren|geburtsdatum|fecha de nacimiento|geboortedatum|nacido el|nacida el|data di nascita)\b|\bnée? le\b)`)
	passportWd = lazy(`(?i)\b(?:passport|passeport|reisepass|pasaporte|paspoort|passaporto)`)
	passportNo = lazy(`\b[A-Z0-9]{6,9}\b`)
)

// keyword says whether a line has one of a context's keywords: cheap
// substrings first, the regexp only when one is there.
func keyword(l *lineText, h hint, re *lazyRE) bool {
	return l.has(h) && re.MatchString(l.raw)
}

func personal(s *scanner, l *lineText) {
	p := &s.prt
	dobCtx := keyword(l, hintDOB, dobWords)
	passCtx := keyword(l, hintPassport, passportWd)
	ssnCtx := keyword(l, hintSSN, ssnWords)
	if l.digits == 0 {
		p.dob.line(dobCtx, 0)
		p.passport.line(passCtx, 0)
		p.ssn.line(ssnCtx, 0)
		return
	}
	if l.digits >= 9 && l.is(flagDash) {
		for _, m := range ssnDashed.FindAllStringSubmatch(l.raw, -1) {
			if validSSN(m[1], m[2], m[3]) {
				s.t.add(Personal, evSSN, 1)
			}
		}
	}
	plain := 0
	if l.digits >= 9 && p.ssn.near(ssnCtx) {
		for _, m := range ssnPlain.FindAllStringSubmatch(l.raw, -1) {
			if validSSN(m[1], m[2], m[3]) {
				plain++
			}
		}
	}
	s.t.add(Personal, evSSN, p.ssn.line(ssnCtx, plain))
	if l.digits >= 8 && l.is(flagUpperPair) {
		ibanCandidates(l.raw, func(m string) {
			if validIBAN(m) {
				s.t.add(Personal, evIBAN, 1)
			}
		})
	}
	if l.digits >= 13 {
		cardCandidates(l.raw, func(m string) {
			if validCard(m) {
				s.t.add(Personal, evCard, 1)
			}
		})
	}
	dates := 0
	if p.dob.near(dobCtx) {
		dates = len(dateFull.FindAllStringIndex(l.raw, -1))
	}
	s.t.add(Personal, evDOB, p.dob.line(dobCtx, dates))
	pn := 0
	if l.digits >= 4 && p.passport.near(passCtx) {
		for _, m := range passportNo.FindAllString(l.raw, -1) {
			if countDigits(m) >= 4 {
				pn++
			}
		}
	}
	s.t.add(Personal, evPassport, p.passport.line(passCtx, pn))
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// validSSN applies the SSA's rules for numbers that are never issued.
func validSSN(area, group, serial string) bool {
	if area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000" {
		return false
	}
	switch area + group + serial {
	case "078051120", "219099999", "123456789":
		return false
	}
	return true
}

var ibanLen = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
	"FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
	"HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
	"LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27,
	"MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24,
	"RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TL": 23, "TN": 24, "TR": 26,
	"UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// validIBAN checks the country's length and the mod-97 check digits of a
// candidate (spaces allowed; characters past the country's length ignored).
func validIBAN(m string) bool {
	c := strings.ReplaceAll(m, " ", "")
	n, ok := ibanLen[c[:2]]
	if !ok || len(c) < n {
		return false
	}
	c = c[:n]
	r := c[4:] + c[:4]
	rem := 0
	for i := 0; i < len(r); i++ {
		ch := r[i]
		switch {
		case ch >= '0' && ch <= '9':
			rem = (rem*10 + int(ch-'0')) % 97
		case ch >= 'A' && ch <= 'Z':
			rem = (rem*100 + int(ch-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// cardGroups are the ways card numbers are written in groups.
var cardGroups = map[string]bool{"4-4-4-4": true, "4-4-4-4-3": true, "4-6-5": true, "4-6-4": true, "4-4-4-1": true, "4-4-4-4-1": true, "4-4-4-4-2": true, "4-4-4-3": true}

// validCard checks grouping, issuer prefix and length, then Luhn.
func validCard(m string) bool {
	var digits []byte
	var groups []string
	run := 0
	for i := 0; i < len(m); i++ {
		if m[i] >= '0' && m[i] <= '9' {
			digits = append(digits, m[i])
			run++
			continue
		}
		groups = append(groups, itoa(run))
		run = 0
	}
	if len(groups) > 0 {
		groups = append(groups, itoa(run))
		if !cardGroups[strings.Join(groups, "-")] {
			return false
		}
	}
	return cardPrefix(string(digits)) && luhn(digits)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}

func cardPrefix(d string) bool {
	n := len(d)
	p2 := atoi(d[:2])
	p3 := atoi(d[:3])
	p4 := atoi(d[:4])
	switch {
	case d[0] == '4':
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p4 == 6011, p2 == 65, p3 >= 644 && p3 <= 649:
		return n >= 16 && n <= 19
	case p4 >= 3528 && p4 <= 3589:
		return n >= 16 && n <= 19
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39:
		return n >= 14 && n <= 19
	case p2 == 62:
		return n >= 16 && n <= 19
	case p4 == 5018, p4 == 5020, p4 == 5038, p4 == 5893, p4 == 6304, p4 == 6759, p4 >= 6761 && p4 <= 6763:
		return n >= 13 && n <= 19
	}
	return false
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		x := int(d[i] - '0')
		if double {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
		double = !double
	}
	return sum%10 == 0
}
