package web

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"sync"

	"github.com/rcptguard/rcptguard/internal/smtptext"
)

const (
	maxAttachments = 50
	maxDepth       = 5
)

// attachments returns the file names of the message's attachments, best effort:
// an unreadable or unparsable message has none.
func (v *Validation) attachments(ctx context.Context, id string) []string {
	raw, err := v.Store.Raw(ctx, id)
	if err != nil {
		v.Logger.Debug("validation page: raw content", "id", id, "err", err)
		return nil
	}
	return attachmentNames(raw)
}

// attachmentNames lists the file names of a message's attachments.
func attachmentNames(raw []byte) []string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	var names []string
	walkPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Disposition"), msg.Body, 0, &names)
	return names
}

func walkPart(ctype, disp string, body io.Reader, depth int, names *[]string) {
	if len(*names) >= maxAttachments || depth > maxDepth {
		return
	}
	mt, params, _ := mime.ParseMediaType(ctype)
	multi := strings.HasPrefix(mt, "multipart/")
	if multi && params["boundary"] != "" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"), p, depth+1, names)
		}
	}
	var name string
	dispType, dp, _ := mime.ParseMediaType(disp)
	if name = dp["filename"]; name == "" {
		name = params["name"]
	}
	// Decoded (RFC 2047 words, which mail clients use though RFC 2231 says otherwise),
	// as one line of printable UTF-8.
	name = smtptext.HeaderText(name, maxAttachmentName)
	if name == "" {
		// A part that is an attachment, or names a file that could not be decoded (a
		// malformed parameter, an unknown RFC 2231 charset, bad percent escapes: the
		// parser drops such a parameter silently), is still listed, by its type.
		if multi || (dispType != "attachment" && !namesFile().MatchString(disp) && !namesFile().MatchString(ctype)) {
			return
		}
		name = "(unnamed attachment, " + typeLabel(ctype, mt) + ")"
	}
	*names = append(*names, name)
}

// namesFile matches a header field value with a file name parameter (name or filename,
// plain, RFC 2231 encoded or continued), whether or not it can be decoded.
var namesFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i);\s*(file)?name\s*(\*[0-9]*)?\*?\s*=`) })

// typeLabel is the content type of a part as shown: the media type the parser read,
// else the type/subtype the field begins with, else a note.
func typeLabel(ctype, mt string) string {
	if mt == "" {
		t, _, _ := strings.Cut(ctype, ";")
		if m, _, err := mime.ParseMediaType(t); err == nil {
			mt = m
		}
	}
	switch {
	case strings.TrimSpace(ctype) == "":
		return "type not given"
	case mt == "" || !strings.Contains(mt, "/"):
		return "unknown type"
	}
	return smtptext.HeaderText(mt, 100)
}

// maxAttachmentName bounds a shown attachment name.
const maxAttachmentName = 255
