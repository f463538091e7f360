package content

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // charsets other than UTF-8 and ASCII
)

// maxHeader bounds one header block.
const maxHeader = 256 << 10

// walker walks the MIME tree of one message as it streams.
type walker struct {
	cl      *Classifier
	ctx     context.Context
	in      *input
	sc      *scanner
	parts   int
	notRead []NotRead
}

// over returns the limit the message went over, if any: the errors of the
// MIME reader do not always wrap the reader's.
func (w *walker) over(err error) error {
	if fatal(err) {
		return err
	}
	if w.ctx.Err() != nil {
		return errDeadline
	}
	if w.in.n > w.in.max {
		return limitErr{fmt.Sprintf("larger than the limit of %s", size(w.in.max))}
	}
	return nil
}

func (w *walker) skipPart(part, why string) {
	if len(w.notRead) < 100 {
		w.notRead = append(w.notRead, NotRead{Part: part, Why: why})
	}
}

// message reads a message (the top one or an attached message/rfc822).
func (w *walker) message(r io.Reader, depth int, name string) error {
	e, err := message.ReadWithOptions(r, &message.ReadOptions{MaxHeaderBytes: maxHeader})
	if e == nil {
		if f := w.over(err); f != nil {
			return f
		}
		if depth == 0 {
			return limitErr{"header not readable: " + clip(err.Error())}
		}
		w.skipPart(name, "header not readable: "+clip(err.Error()))
		return nil
	}
	if subj, serr := e.Header.Text("Subject"); serr == nil && subj != "" {
		w.sc.text(subj)
	}
	return w.entity(e, err, depth, name)
}

// entity reads one MIME entity whose header is read.
func (w *walker) entity(e *message.Entity, enc error, depth int, name string) error {
	w.parts++
	if w.parts > w.cl.limits.MaxParts {
		return limitErr{fmt.Sprintf("more than the limit of %d MIME parts", w.cl.limits.MaxParts)}
	}
	if depth > w.cl.limits.MaxDepth {
		return limitErr{fmt.Sprintf("MIME nested deeper than the limit of %d", w.cl.limits.MaxDepth)}
	}
	mt, params, cterr := e.Header.ContentType()
	if cterr != nil || mt == "" {
		mt = "text/plain"
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	fname := dparams["filename"]
	if fname == "" {
		fname = params["name"]
	}
	if message.IsUnknownEncoding(enc) {
		w.skipPart(partName(name, fname, mt), "unknown transfer encoding")
		return nil
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return w.multipart(e, mt, depth, name)
	case mt == "message/rfc822" || mt == "message/global":
		return w.message(e.Body, depth+1, name+" (attached message)")
	case (mt == "text/plain" || mt == "text/html") && disp != "attachment" && fname == "":
		if message.IsUnknownCharset(enc) {
			w.skipPart(partName(name, fname, mt), "unknown charset "+clip(params["charset"]))
			return nil
		}
		return w.text(e.Body, mt == "text/html", partName(name, fname, mt))
	}
	if message.IsUnknownCharset(enc) {
		w.skipPart(partName(name, fname, mt), "unknown charset "+clip(params["charset"]))
		return nil
	}
	return w.attachment(e, mt, disp, fname, name)
}

func partName(name, fname, mt string) string {
	if fname != "" {
		return "attachment " + clip(fname)
	}
	if name == "message" {
		return "body (" + mt + ")"
	}
	return name + " (" + mt + ")"
}

// clip bounds a name or error taken from the message.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

// multipart reads the parts of a multipart entity in order. Of a
// multipart/alternative it reads one alternative only: the first that is
// text or multipart, which is the plain one when it is there (RFC 2046 puts
// the plainest first); the others are passed over.
func (w *walker) multipart(e *message.Entity, mt string, depth int, name string) error {
	mr := e.MultipartReader()
	if mr == nil {
		return nil
	}
	alternative := mt == "multipart/alternative"
	readAlt := false
	for i := 1; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if p == nil {
			if f := w.over(err); f != nil {
				return f
			}
			w.skipPart(name, "broken MIME structure: "+clip(err.Error()))
			return nil
		}
		pname := fmt.Sprintf("%s part %d", name, i)
		if name == "message" {
			pname = fmt.Sprintf("part %d", i)
		}
		if alternative {
			pmt, _, _ := p.Header.ContentType()
			readable := pmt == "text/plain" || pmt == "text/html" || strings.HasPrefix(pmt, "multipart/")
			if readAlt || !readable {
				w.parts++
				continue
			}
			readAlt = true
		}
		if err := w.entity(p, err, depth+1, pname); err != nil {
			return err
		}
	}
}

// text reads one text part through the matchers.
func (w *walker) text(r io.Reader, isHTML bool, part string) error {
	var err error
	if isHTML {
		err = htmlText(w.sc, r)
	} else {
		_, err = io.Copy(w.sc, r)
	}
	w.sc.partEnd()
	if err != nil {
		if f := w.over(err); f != nil {
			return f
		}
		w.skipPart(part, "not decodable: "+clip(err.Error()))
	}
	return nil
}

// attachment reads an attachment: its name and type, and its text when an
// extractor can read it.
func (w *walker) attachment(e *message.Entity, mt, disp, fname, name string) error {
	part := partName(name, fname, mt)
	if keyFile(fname) {
		w.sc.t.add(Credentials, evKeyFile, 1)
	}
	br := bufio.NewReaderSize(e.Body, 512)
	head, herr := br.Peek(512)
	if herr != nil && herr != io.EOF && !errors.Is(herr, bufio.ErrBufferFull) {
		if f := w.over(herr); f != nil {
			return f
		}
		if len(head) == 0 {
			w.skipPart(part, "not decodable: "+clip(herr.Error()))
			return nil
		}
	}
	kind := sniff(fname, head)
	if kind == "" && (mt == "text/csv" || mt == "text/tab-separated-values" || mt == "text/plain") {
		kind = "text"
	}
	switch kind {
	case "":
		if e.Header.Get("Content-Id") == "" && disp != "inline" {
			w.skipPart(part, "no text read from "+clip(mt))
		}
		return nil
	case "text":
		return w.text(br, false, part)
	}
	return w.extract(br, kind, part)
}

// extract holds one attachment (at most Extract.MaxInput bytes) and has
// package extract write its text through the matchers.
func (w *walker) extract(r io.Reader, kind extractKind, part string) error {
	max := w.cl.limits.Extract.MaxInput
	buf, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		if f := w.over(err); f != nil {
			return f
		}
		w.skipPart(part, "not decodable: "+clip(err.Error()))
		return nil
	}
	if int64(len(buf)) > max {
		w.skipPart(part, "larger than the attachment limit of "+size(max))
		return nil
	}
	info, err := extractText(w.sc, bytesReaderAt(buf), int64(len(buf)), kind, w.cl.limits.Extract)
	w.sc.partEnd()
	if w.sc.err != nil {
		return w.sc.err
	}
	if info.Encrypted || errors.Is(err, errExtractEncrypted) {
		w.sc.t.add(Credentials, evEncrypted, 1)
		w.skipPart(part, "encrypted")
		return nil
	}
	if err != nil {
		w.skipPart(part, clip(err.Error()))
		return nil
	}
	if info.Truncated {
		w.skipPart(part, "text read only up to the limit of "+size(w.cl.limits.Extract.MaxText))
	}
	return nil
}
