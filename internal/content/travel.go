package content

import (
	"strings"
)

// Category travel.
//
// Evidence:
//   - "flight with date": a flight number of a major airline ("BA 117",
//     "LH400", "UA 9") within three lines of a date, before or after it. A flight-like token
//     without a date, or whose number looks like a year ("AI 2025"), does not
//     count.
//   - "booking reference": a six-character record locator (capitals, or
//     capitals and digits) within three lines of "booking reference", "PNR",
//     "record locator", "reservation code", "confirmation code",
//     "référence de réservation", "Buchungsnummer", "localizador"...
//   - "hotel confirmation": "confirmation number/no/#/code" followed by a
//     number with digits, within three lines of "hotel" or "check-in".
//
// Tuning: airlines lists the carrier codes taken as flight numbers.
const (
	evFlight  = "flight with date"
	evBooking = "booking reference"
	evHotel   = "hotel confirmation"
)

// airlines are IATA codes of large carriers that do not collide with common
// abbreviations (no AM, PR, CI, MS, SN, LG, AR...).
const airlines = `AA|UA|DL|WN|AS|B6|NK|F9|AC|WS|BA|VS|AF|KL|LH|LX|OS|IB|VY|FR|U2|AZ|SK|AY|EI|TP|LO|TK|EK|EY|QR|SV|ET|KQ|QF|NZ|VA|SQ|CX|BR|JL|NH|KE|OZ|CA|MU|CZ|HU|AI|6E|TG|MH|GA|VN|LA|AV|G3|JJ|DY|A3|OU|W6|4U|EW`

var (
	months = `(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|janv|févr|fevr|avr|mai|juin|juil|août|aout|déc|januar|februar|märz|maerz|juni|juli|okt|dez|ene|abr|ago|dic|mrt|mei)[a-zéû]*\.?`
	// dateFull is a date with a year.
	dateFull = lazy(`(?i)\b(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th|er)?\.? ?` + months + `,? (?:19|20)\d{2}|` + months + ` \d{1,2}(?:st|nd|rd|th)?,? (?:19|20)\d{2})\b`)
	// dateAny is dateFull or a day and month ("12 Mar", "12MAR", "Mar 12").
	dateAny      = lazy(`(?i)(?:\b\d{1,2}[./-]\d{1,2}\b|\b\d{1,2} ?` + months + `(?:\b|\d)|\b` + months + ` \d{1,2}\b)`)
	bookingWords = lazy(`(?i)(?:\b(?:booking (?:reference|ref|code|number|no)|pnr|record locator|reservation (?:code|number)|confirmation code|airline confirmation|flight confirmation|buchungs(?:nummer|code)|localizador|boekingsnummer|código de reserva)\b|référence de (?:réservation|dossier))`)
	locatorRe    = lazy(`\b[A-Z0-9]{6}\b`)
	hotelWords   = lazy(`(?i)\b(?:hotel|check-in|check in|hôtel)\b`)
	hotelConfirm = lazy(`(?i)\bconfirmation\s*(?:number|no\.?|#|code)\s*[:#]?\s*([A-Z0-9-]{6,16})\b`)
)

// notLocators are six-letter words that sit next to booking keywords.
var notLocators = map[string]bool{"NUMBER": true, "RECORD": true, "TICKET": true, "STATUS": true, "FLIGHT": true,
	"DEPART": true, "RETURN": true, "ARRIVE": true, "PLEASE": true, "BOOKED": true, "NUMÉRO": true, "CODIGO": true}

func travel(s *scanner, l *lineText) {
	p := &s.prt
	flights := 0
	date := false
	if l.digits > 0 {
		if l.is(flagUpper) { // every airline code has a capital
			flights = countFlights(l.raw)
		}
		if flights > 0 || p.flight.waiting() {
			date = hasDate(l.raw)
		}
		if flights > 0 && !date && (hasDate(p.prev[0]) || hasDate(p.prev[1])) {
			// The date was on one of the two lines before.
			s.t.add(Travel, evFlight, flights)
			flights = 0
		}
	}
	s.t.add(Travel, evFlight, p.flight.line(date, flights))

	bk := keyword(l, hintBooking, bookingWords)
	locs := 0
	if bk || p.booking.ctxAge < proxWindow {
		for _, m := range locatorRe.FindAllString(l.raw, -1) {
			if !notLocators[m] && hasUpper(m) {
				locs++
			}
		}
	}
	s.t.add(Travel, evBooking, p.booking.line(bk, locs))

	hc := 0
	if l.digits > 0 && l.is(flagConfirm) && strings.Contains(l.lower(), "confirmation") {
		for _, m := range hotelConfirm.FindAllStringSubmatch(l.raw, -1) {
			if countDigits(m[1]) > 0 {
				hc++
			}
		}
	}
	s.t.add(Travel, evHotel, p.hotel.line(keyword(l, hintHotel, hotelWords), hc))
}

// airlineSet has the airline codes by pairCode.
var airlineSet = func() (t [36 * 36]bool) {
	for _, c := range strings.Split(airlines, "|") {
		t[pairCode(c[0], c[1])] = true
	}
	return t
}()

// pairCode numbers two capitals or digits (0 to 36*36-1).
func pairCode(a, b byte) int { return code36(a)*36 + code36(b) }

func code36(c byte) int {
	if c <= '9' {
		return int(c - '0')
	}
	return int(c-'A') + 10
}

// countFlights counts flight numbers: an airline code at a word start, an
// optional space, 1 to 4 digits, an optional capital, then a word end. A
// number like a year ("AI 2025") or followed by ":" "." "," and a digit
// ("AA 10:30") is not one.
func countFlights(s string) int {
	n := 0
	for i := 0; i+2 < len(s); i++ {
		if !(isUpper(s[i]) || isDigit(s[i])) || !(isUpper(s[i+1]) || isDigit(s[i+1])) || (i > 0 && isWordByte(s[i-1])) {
			continue
		}
		if !airlineSet[pairCode(s[i], s[i+1])] {
			continue
		}
		j := i + 2
		if j < len(s) && s[j] == ' ' {
			j++
		}
		k := j
		for k < len(s) && k-j < 5 && isDigit(s[k]) {
			k++
		}
		digits := k - j
		if digits < 1 || digits > 4 {
			continue
		}
		num := s[j:k]
		if k < len(s) && s[k] >= 'A' && s[k] <= 'Z' {
			k++
		}
		if k < len(s) && isWordByte(s[k]) {
			continue
		}
		if digits == 4 && (strings.HasPrefix(num, "19") || strings.HasPrefix(num, "20")) {
			continue
		}
		if k+1 < len(s) && (s[k] == ':' || s[k] == '.' || s[k] == ',') && isDigit(s[k+1]) {
			continue
		}
		n++
		i = k - 1
	}
	return n
}

// hasDate says whether a line has a date, with or without a year.
func hasDate(s string) bool {
	return s != "" && (dateFull.MatchString(s) || dateAny.MatchString(s))
}

func isWordByte(b byte) bool {
	return b == '_' || isDigit(b) || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z'
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
