package scan

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The CSV exports (Microsoft 365 message trace, Exchange message tracking, Google
// Workspace email log search) are read by their header row: columns are found by name,
// in any order, among extra columns; a required column missing ends the source with an
// error naming it. A row with the wrong number of fields is a Problem.

// csvMaxColumns bounds a header: the exports have a few dozen columns.
const csvMaxColumns = 1000

// csvColumn is one column a CSV format reads, under any of its names.
type csvColumn struct {
	role     string
	names    []string // as written in the exports; compared by normalizeColumn
	required bool
}

// csvKind is one CSV format.
type csvKind struct {
	name    string
	columns []csvColumn
	// check reports a requirement the columns found do not meet (beyond required ones), "".
	check func(c csvRow) string
	// row turns one row into records; a non-empty return is a Problem for the row.
	row func(c csvRow, emit func(Record)) string
	// flush is called at the end of the source (for state kept between rows).
	flush func(emit func(Record))
}

// csvRow is one row seen through the header.
type csvRow struct {
	idx    map[string]int
	fields []string
	source string
	line   int64
	skip   func(Problem)
}

func (c csvRow) has(role string) bool { _, ok := c.idx[role]; return ok }

func (c csvRow) get(role string) string {
	if i, ok := c.idx[role]; ok && i < len(c.fields) {
		return strings.TrimSpace(c.fields[i])
	}
	return ""
}

// normalizeColumn makes "Sender address", "sender_address", "SenderAddress" and
// "sender-address" one name: lower-case letters and digits only.
func normalizeColumn(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// csvHeader finds the header of a CSV export in head (its first bytes): a BOM is dropped,
// comment lines ("#Software: ...", "#TYPE ...") skipped, and an Exchange tracking log's
// "#Fields: " line is its header. It returns the header's fields, the separator, and the
// number of lines up to and including the header.
func csvHeader(head []byte) (fields []string, sep byte, lines int64, ok bool) {
	head = bytes.TrimPrefix(csvDecodeHead(head), utf8BOM)
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		lines++
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if line[0] == '#' {
			if f, found := bytes.CutPrefix(line, []byte("#Fields:")); found {
				return splitCSVLine(string(bytes.TrimSpace(f)), ','), ',', lines, true
			}
			continue
		}
		sep = guessSeparator(string(line))
		return splitCSVLine(string(line), sep), sep, lines, true
	}
	return nil, 0, 0, false
}

// guessSeparator picks the most frequent of comma, semicolon and tab outside quotes.
func guessSeparator(line string) byte {
	counts := map[byte]int{}
	quoted := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	sep, best := byte(','), counts[',']
	for _, c := range []byte{';', '\t'} {
		if counts[c] > best {
			sep, best = c, counts[c]
		}
	}
	return sep
}

// splitCSVLine splits one physical line (for headers and detection).
func splitCSVLine(line string, sep byte) []string {
	var p csvParser
	p.sep = sep
	p.feed(line)
	return p.finish()
}

// csvParser assembles RFC 4180 records from physical lines: quoted fields may hold the
// separator, doubled quotes and line breaks. It is lenient where exports are sloppy (a
// quote inside an unquoted field is kept as is).
type csvParser struct {
	sep      byte
	fields   []string
	cur      []byte
	quoted   bool // inside a quoted field
	wasQuote bool // the field began with a quote
	size     int
	discard  bool // the record is too long: its end is looked for, its text dropped
}

// feed adds a line; it reports whether the record is still open (inside quotes).
func (p *csvParser) feed(line string) bool {
	p.size += len(line) + 1
	for i := 0; i < len(line); i++ {
		c := line[i]
		if p.quoted {
			if c == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					p.cur = append(p.cur, '"')
					i++
				} else {
					p.quoted = false
				}
				continue
			}
			if !p.discard {
				p.cur = append(p.cur, c)
			}
			continue
		}
		switch {
		case c == p.sep:
			p.fields = append(p.fields, string(p.cur))
			p.cur, p.wasQuote = p.cur[:0], false
		case c == '"' && len(p.cur) == 0 && !p.wasQuote:
			p.quoted, p.wasQuote = true, true
		default:
			if !p.discard {
				p.cur = append(p.cur, c)
			}
		}
	}
	if p.quoted && !p.discard {
		p.cur = append(p.cur, '\n')
	}
	if p.size > boundedLineMax && !p.discard {
		p.discard, p.fields, p.cur = true, nil, p.cur[:0]
	}
	return p.quoted
}

func (p *csvParser) finish() []string {
	f := append(p.fields, string(p.cur))
	p.fields, p.cur, p.quoted, p.wasQuote, p.size, p.discard = nil, p.cur[:0], false, false, 0, false
	if cap(p.cur) > boundedLineMax {
		p.cur = nil
	}
	return f
}

// csvReader reads one CSV export of a kind.
type csvReader struct{ kind *csvKind }

func (c *csvReader) Read(r io.Reader, name string, emit func(Record), skip func(Problem)) error {
	var (
		header  map[string]int
		ncols   int
		p       csvParser
		start   int64
		lineErr error
		first   = true
	)
	err := readBoundedLines(csvDecode(r), name, skip, func(b []byte, n int64) {
		if lineErr != nil {
			return
		}
		if first {
			b = bytes.TrimPrefix(b, utf8BOM)
			first = false
		}
		line := string(b)
		if header == nil {
			if strings.TrimSpace(line) == "" || (line[0] == '#' && !strings.HasPrefix(line, "#Fields:")) {
				return
			}
			fields, sep, _, _ := csvHeader([]byte(line))
			p.sep = sep
			if len(fields) > csvMaxColumns {
				lineErr = fmt.Errorf("%s: line %d: a header of %d columns: not a %s export", name, n, len(fields), c.kind.name)
				return
			}
			roles := make(map[string]string) // normalized name → role
			for _, col := range c.kind.columns {
				for _, want := range col.names {
					roles[normalizeColumn(want)] = col.role
				}
			}
			header = make(map[string]int)
			for i, f := range fields {
				if role, found := roles[normalizeColumn(f)]; found {
					if _, done := header[role]; !done {
						header[role] = i
					}
				}
			}
			ncols = len(fields)
			for _, col := range c.kind.columns {
				if _, found := header[col.role]; col.required && !found {
					lineErr = fmt.Errorf("%s: line %d: the %s export has no %q column (header: %.200s)",
						name, n, c.kind.name, col.names[0], strings.Join(fields, ","))
					return
				}
			}
			if c.kind.check != nil {
				if msg := c.kind.check(csvRow{idx: header}); msg != "" {
					lineErr = fmt.Errorf("%s: line %d: %s", name, n, msg)
				}
			}
			return
		}
		if !p.quoted {
			if strings.TrimSpace(line) == "" || line[0] == '#' {
				return
			}
			start = n
		}
		if p.feed(line) {
			return
		}
		if p.discard {
			p.finish()
			skip(Problem{Source: name, Line: start, Text: "CSV record longer than 1 MiB skipped"})
			return
		}
		fields := p.finish()
		if len(fields) != ncols {
			skip(Problem{Source: name, Line: start, Text: fmt.Sprintf("row has %d fields, the header %d: skipped", len(fields), ncols)})
			return
		}
		for _, f := range fields {
			if !utf8.ValidString(f) {
				skip(Problem{Source: name, Line: start, Text: "invalid UTF-8: row skipped"})
				return
			}
		}
		row := csvRow{idx: header, fields: fields, source: name, line: start, skip: skip}
		if msg := c.kind.row(row, func(rec Record) {
			if rec.Line == 0 {
				rec.Source, rec.Line = name, start
			}
			emit(rec)
		}); msg != "" {
			skip(Problem{Source: name, Line: start, Text: msg})
		}
	})
	if lineErr != nil {
		return lineErr
	}
	if p.quoted {
		skip(Problem{Source: name, Line: start, Text: "unterminated quoted field at the end: last row skipped"})
	}
	if c.kind.flush != nil {
		c.kind.flush(func(rec Record) {
			if rec.Source == "" {
				rec.Source = name
			}
			emit(rec)
		})
	}
	if err == nil && header == nil {
		return fmt.Errorf("%s: no header row: not a %s export", name, c.kind.name)
	}
	return err
}

// detectCSV reports whether head's header has every column in all and at least one name
// of each group in any, and none in none.
func detectCSV(head []byte, all []string, none []string) bool {
	fields, _, _, ok := csvHeader(head)
	if !ok {
		return false
	}
	have := map[string]bool{}
	for _, f := range fields {
		have[normalizeColumn(f)] = true
	}
	for _, a := range all {
		alt := false
		for _, n := range strings.Split(a, "|") {
			alt = alt || have[normalizeColumn(n)]
		}
		if !alt {
			return false
		}
	}
	for _, n := range none {
		if have[normalizeColumn(n)] {
			return false
		}
	}
	return true
}

// csvTime reads the time stamps the exports write; zero when none fits. Stamps without a
// zone are UTC (the exports say so).
func csvTime(s string) time.Time {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, " UTC")
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.9999999",
		"2006-01-02 15:04:05.9999999",
		"2006-01-02 15:04:05",
		"2006/01/02 15:04:05",
		"2006-01-02T15:04:05",
		"1/2/2006 3:04:05 PM",
		"1/2/2006 3:04 PM",
		"1/2/2006 15:04:05",
		"1/2/2006 15:04",
		"2006-01-02 15:04",
		"Jan 2, 2006, 3:04:05 PM",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// csvAddresses splits a cell that may hold several addresses ("a@x; b@y", "{a@x, b@y}").
func csvAddresses(s string) []string {
	s = strings.Trim(strings.TrimSpace(s), "{}")
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
}

// csvEmitRecipients emits rec once per address in cell; unreadable ones are a Problem text.
func csvEmitRecipients(cell string, rec Record, emit func(Record)) string {
	bad := 0
	for _, a := range csvAddresses(cell) {
		addr, ok := cleanAddress(a)
		if !ok {
			bad++
			continue
		}
		rec.Recipient = addr
		emit(rec)
	}
	if bad > 0 || strings.TrimSpace(cell) == "" {
		return "row without a readable recipient address"
	}
	return ""
}
