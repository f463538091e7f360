package extract

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// part finds an entry by name.
func part(zr *zip.Reader, name string) *zip.File {
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// numbered lists the entries prefix<N>suffix (and prefix+suffix) in N order.
func numbered(zr *zip.Reader, prefix, suffix string) []*zip.File {
	var fs []*zip.File
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, prefix) && strings.HasSuffix(f.Name, suffix) && !strings.Contains(f.Name[len(prefix):], "/") {
			fs = append(fs, f)
		}
	}
	num := func(f *zip.File) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(f.Name[len(prefix):], suffix))
		return n
	}
	sort.SliceStable(fs, func(i, j int) bool { return num(fs[i]) < num(fs[j]) })
	return fs
}

// stream reads one XML part token by token (xmlScan), calling fn for each.
func (x *job) stream(kind Kind, f *zip.File, fn func(t *xmlTok) error) error {
	if len(x.xmlParts) >= x.l.MaxEntries {
		x.info.Truncated = true
		return nil
	}
	x.xmlParts = append(x.xmlParts, f.Name)
	rc, err := x.open(kind, f)
	if err != nil {
		return err
	}
	defer rc.Close()
	d := newXMLScan(rc)
	for {
		t, err := d.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrCorrupt) {
				return err
			}
			return fmt.Errorf("%s: %s: %v: %w", kind, f.Name, err, ErrCorrupt)
		}
		if err := fn(t); err != nil {
			return err
		}
	}
}

// docx writes the body, headers, footers, footnotes and comments: paragraphs
// as lines, table cells separated by tabs, table rows as lines.
func (x *job) docx(zr *zip.Reader) error {
	main := part(zr, "word/document.xml")
	if main == nil {
		return fmt.Errorf("docx: no word/document.xml: %w", ErrCorrupt)
	}
	parts := []*zip.File{main}
	parts = append(parts, numbered(zr, "word/header", ".xml")...)
	parts = append(parts, numbered(zr, "word/footer", ".xml")...)
	for _, n := range []string{"word/footnotes.xml", "word/endnotes.xml", "word/comments.xml"} {
		if f := part(zr, n); f != nil {
			parts = append(parts, f)
		}
	}
	for _, f := range parts {
		cells, inText := 0, false
		err := x.stream(Docx, f, func(t *xmlTok) error {
			switch t.kind {
			case xmlStart:
				switch t.name {
				case "t":
					inText = true
				case "tab":
					return x.out.str("\t")
				case "br", "cr":
					return x.out.str("\n")
				case "tc":
					cells++
				}
			case xmlEnd:
				switch t.name {
				case "t":
					inText = false
				case "p":
					if cells > 0 {
						return x.out.sep(' ')
					}
					return x.out.sep('\n')
				case "tc":
					cells--
					return x.out.sep('\t')
				case "tr":
					return x.out.sep('\n')
				}
			case xmlText:
				if inText {
					_, err := x.out.Write(t.text)
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := x.out.sep('\n'); err != nil {
			return err
		}
	}
	return nil
}

// pptx writes the text of every slide (and its notes), paragraphs as lines.
func (x *job) pptx(zr *zip.Reader) error {
	slides := numbered(zr, "ppt/slides/slide", ".xml")
	if len(slides) == 0 && part(zr, "ppt/presentation.xml") == nil {
		return fmt.Errorf("pptx: no ppt/presentation.xml: %w", ErrCorrupt)
	}
	slides = append(slides, numbered(zr, "ppt/notesSlides/notesSlide", ".xml")...)
	for _, f := range slides {
		inText := false
		err := x.stream(Pptx, f, func(t *xmlTok) error {
			switch t.kind {
			case xmlStart:
				switch t.name {
				case "t":
					inText = true
				case "br":
					return x.out.str("\n")
				}
			case xmlEnd:
				switch t.name {
				case "t":
					inText = false
				case "p":
					return x.out.sep('\n')
				}
			case xmlText:
				if inText {
					_, err := x.out.Write(t.text)
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := x.out.sep('\n'); err != nil {
			return err
		}
	}
	return nil
}
