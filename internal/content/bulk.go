package content

import (
	"strings"
)

// Category bulk.
//
// Evidence, counted per part (the body, or one CSV or spreadsheet
// attachment):
//   - "rows with e-mail addresses": at least bulkMinRows lines that each hold
//     an e-mail address.
//   - "rows of names": a header line naming people's columns ("name",
//     "first name", "last name", "surname", "nom", "prénom", "Vorname",
//     "Nachname", "nombre", "apellido", "naam", "e-mail") followed by at
//     least bulkMinRows delimited rows (comma, semicolon or tab).
//
// Tuning: bulkMinRows.
const (
	evEmailRows = "rows with e-mail addresses"
	evNameRows  = "rows of names"

	bulkMinRows = 50
)

var (
	emailRe     = lazy(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	nameColumns = lazy(`(?i)(?:^|[,;\t"])\s*(?:full ?name|first ?name|last ?name|given ?name|family ?name|surname|name|nom|prénom|prenom|vorname|nachname|nombre|apellidos?|naam|achternaam|voornaam|e-?mail|email address)\s*(?:["]?\s*(?:[,;\t]|$))`)
)

type bulkState struct {
	emailRows int
	header    byte // the delimiter of a names header, 0 before one
	nameRows  int
}

func (b *bulkState) line(l *lineText) {
	if l.is(flagAt) && emailRe.MatchString(l.raw) {
		b.emailRows++
	}
	if b.header == 0 {
		if len(l.raw) > 400 || !l.has(hintName) {
			return
		}
		if d := delimiter(l.raw); d != 0 && nameColumns.MatchString(l.raw) {
			b.header = d
		}
		return
	}
	if strings.Count(l.raw, string(b.header)) >= 1 {
		b.nameRows++
	}
}

// delimiter is the field separator of a line that looks like a table row.
func delimiter(s string) byte {
	for _, d := range []byte{'\t', ';', ','} {
		if strings.Count(s, string(d)) >= 1 {
			return d
		}
	}
	return 0
}

func (b *bulkState) end(t tally) {
	switch {
	case b.emailRows >= bulkMinRows:
		t.add(Bulk, evEmailRows, b.emailRows)
	case b.nameRows >= bulkMinRows:
		t.add(Bulk, evNameRows, b.nameRows)
	}
}
