package extract

import (
	"archive/zip"
	"fmt"
	"strconv"
	"strings"
)

// xlsx writes every sheet's rows as lines, cells separated by tabs, and
// counts the rows with a value in Info.Rows.
func (x *job) xlsx(zr *zip.Reader) error {
	if part(zr, "xl/workbook.xml") == nil {
		return fmt.Errorf("xlsx: no xl/workbook.xml: %w", ErrCorrupt)
	}
	shared, err := x.sharedStrings(zr)
	if err != nil {
		return err
	}
	for _, f := range numbered(zr, "xl/worksheets/sheet", ".xml") {
		if err := x.sheet(f, shared); err != nil {
			return err
		}
	}
	return nil
}

// sharedStrings reads the string table, holding at most MaxText bytes of it.
func (x *job) sharedStrings(zr *zip.Reader) ([]string, error) {
	f := part(zr, "xl/sharedStrings.xml")
	if f == nil {
		return nil, nil
	}
	var (
		shared []string
		cur    strings.Builder
		held   int64
		inT    bool
		skip   int // inside rPh (phonetic hints)
	)
	err := x.stream(Xlsx, f, func(t *xmlTok) error {
		switch t.kind {
		case xmlStart:
			switch t.name {
			case "si":
				cur.Reset()
			case "t":
				inT = true
			case "rPh":
				skip++
			}
		case xmlEnd:
			switch t.name {
			case "si":
				shared = append(shared, cur.String())
				held += int64(cur.Len()) + 16
			case "t":
				inT = false
			case "rPh":
				skip--
			}
		case xmlText:
			if inT && skip == 0 {
				if held+int64(cur.Len())+int64(len(t.text)) > x.l.MaxText {
					x.info.Truncated = true
					return nil
				}
				cur.Write(t.text)
			}
		}
		return nil
	})
	return shared, err
}

// sheet writes one worksheet.
func (x *job) sheet(f *zip.File, shared []string) error {
	var (
		typ      string
		val      []byte
		inV, inT bool
		cells    int // cells written in this row
	)
	return x.stream(Xlsx, f, func(t *xmlTok) error {
		switch t.kind {
		case xmlStart:
			switch t.name {
			case "row":
				cells = 0
			case "c":
				typ, val = "", val[:0]
				typ, _ = t.attr("t")
			case "v":
				inV = true
			case "t":
				inT = true
			}
		case xmlEnd:
			switch t.name {
			case "v":
				inV = false
			case "t":
				inT = false
			case "c":
				s := string(val)
				if typ == "s" {
					i, err := strconv.Atoi(strings.TrimSpace(s))
					if err != nil || i < 0 || i >= len(shared) {
						s = ""
					} else {
						s = shared[i]
					}
				}
				if strings.TrimSpace(s) == "" {
					return nil
				}
				if cells > 0 {
					if err := x.out.str("\t"); err != nil {
						return err
					}
				}
				cells++
				return x.out.str(s)
			case "row":
				if cells > 0 {
					x.info.Rows++
					return x.out.str("\n")
				}
			}
		case xmlText:
			if (inV || inT) && len(val) < 1<<16 {
				val = append(val, t.text...)
			}
		}
		return nil
	})
}
