package extract

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// pdfStream is one stream object found by scanning the file.
type pdfStream struct {
	dict []byte // the dictionary text before "stream"
	data []byte
	at   int64 // offset of the data, for errors
}

// pdf reads the text of a PDF's content streams. The file is scanned for
// stream objects; the xref table is not used, so a broken xref does not
// stop the reading.
func (x *job) pdf(r io.ReaderAt, size int64) error {
	data := make([]byte, size)
	if n, err := r.ReadAt(data, 0); n < len(data) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("pdf: %w", err)
	}
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return fmt.Errorf("pdf: no %%PDF- header: %w", ErrCorrupt)
	}
	streams, encrypted, err := scanPDF(data)
	if encrypted {
		x.info.Encrypted = true
		return fmt.Errorf("pdf: /Encrypt in the trailer: %w", ErrEncrypted)
	}
	if err != nil {
		return err
	}
	var (
		images, cid, written int
		firstErr             error
	)
	for _, s := range streams {
		if skipStream(s.dict) {
			if bytes.Contains(s.dict, []byte("/Image")) {
				images++
			}
			continue
		}
		content, err := x.decodeStream(s)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return err
			}
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if content == nil {
			continue
		}
		before := x.out.left
		n, err := x.contentText(content)
		cid += n
		if x.out.left != before {
			written++
		}
		if err != nil {
			return err
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if written == 0 && cid > 0 {
		return fmt.Errorf("pdf: text in composite fonts needs their CMaps, not read: %w", ErrUnsupported)
	}
	if written == 0 && images > 0 {
		return fmt.Errorf("pdf: no text, only images (a scan?): %w", ErrUnsupported)
	}
	return nil
}

// scanPDF finds every stream object in one pass, and whether /Encrypt appears
// outside the streams (in a trailer or an xref stream's dictionary).
func scanPDF(data []byte) ([]pdfStream, bool, error) {
	var streams []pdfStream
	encrypted := false
	kwStream := []byte("stream")
	kwEnd := []byte("endstream")
	pos := 0
	for {
		k := bytes.Index(data[pos:], kwStream)
		if k < 0 {
			break
		}
		k += pos
		if k > 0 && data[k-1] == 'd' { // "endstream" without its stream
			if bytes.Contains(data[pos:k], []byte("/Encrypt")) {
				encrypted = true
			}
			pos = k + len(kwStream)
			continue
		}
		region := data[pos:k]
		if bytes.Contains(region, []byte("/Encrypt")) {
			encrypted = true
		}
		dict := region
		if o := bytes.LastIndex(region, []byte("obj")); o >= 0 {
			dict = region[o:]
		}
		start := k + len(kwStream)
		if start < len(data) && data[start] == '\r' {
			start++
		}
		if start < len(data) && data[start] == '\n' {
			start++
		}
		end := -1
		if n, ok := directLength(dict); ok && n >= 0 && start+n <= len(data) {
			rest := bytes.TrimLeft(data[start+n:], "\r\n \t")
			if bytes.HasPrefix(rest, kwEnd) {
				end = start + n
			}
		}
		if end < 0 {
			e := bytes.Index(data[start:], kwEnd)
			if e < 0 {
				return streams, encrypted, fmt.Errorf("pdf: stream at byte %d has no endstream: %w", start, ErrCorrupt)
			}
			end = start + e
			for end > start && (data[end-1] == '\n' || data[end-1] == '\r') {
				end--
			}
		}
		streams = append(streams, pdfStream{dict: dict, data: data[start:end], at: int64(start)})
		// Resume after the endstream keyword found.
		pos = end + bytes.Index(data[end:], kwEnd) + len(kwEnd)
	}
	if bytes.Contains(data[pos:], []byte("/Encrypt")) {
		encrypted = true
	}
	return streams, encrypted, nil
}

var lengthRE = regexp.MustCompile(`/Length\s+(\d+)(\s+\d+\s+R)?`)

// directLength is the stream's /Length when it is a number, not a reference.
func directLength(dict []byte) (int, bool) {
	m := lengthRE.FindSubmatch(dict)
	if m == nil || len(m[2]) > 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(m[1]))
	return n, err == nil
}

// skipStream says whether a stream holds no page text: images, fonts,
// metadata, object and xref streams.
func skipStream(dict []byte) bool {
	for _, s := range []string{"/Image", "/XRef", "/ObjStm", "/FontFile", "/Length1", "/Length2", "/Metadata", "/EmbeddedFile"} {
		if bytes.Contains(dict, []byte(s)) {
			return true
		}
	}
	return false
}

var filterRE = regexp.MustCompile(`/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)`)

// decodeStream returns the stream's bytes, inflated when FlateDecode; nil
// for filters that carry no text (or that are not read).
func (x *job) decodeStream(s pdfStream) ([]byte, error) {
	m := filterRE.FindSubmatch(s.dict)
	if m == nil {
		return s.data, nil
	}
	filters := bytes.Fields(bytes.Trim(m[1], "[]"))
	if len(filters) != 1 || string(filters[0]) != "/FlateDecode" && string(filters[0]) != "/Fl" {
		return nil, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(s.data))
	if err != nil {
		return nil, fmt.Errorf("pdf: stream at byte %d: flate: %v: %w", s.at, err, ErrCorrupt)
	}
	defer zr.Close()
	max := x.maxInflate(int64(len(s.data)))
	if hard := 4 * x.l.MaxInput; max > hard {
		max = hard
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(zr, max+1)); err != nil {
		return nil, fmt.Errorf("pdf: stream at byte %d: flate: %v: %w", s.at, err, ErrCorrupt)
	}
	if int64(buf.Len()) > max {
		return nil, fmt.Errorf("pdf: stream at byte %d: inflates past %dx its size (a zip bomb?): %w", s.at, x.l.MaxRatio, ErrTooLarge)
	}
	if err := x.spend(buf.Len(), fmt.Sprintf("pdf: stream at byte %d", s.at)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
