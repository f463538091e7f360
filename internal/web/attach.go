package web

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"

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
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"), p, depth+1, names)
		}
	}
	name := ""
	if _, dp, err := mime.ParseMediaType(disp); err == nil {
		name = dp["filename"]
	}
	if name == "" {
		name = params["name"]
	}
	// Decoded (RFC 2047 words, which mail clients use though RFC 2231 says otherwise),
	// as one line of printable UTF-8.
	if name = smtptext.HeaderText(name, maxAttachmentName); name == "" {
		return
	}
	*names = append(*names, name)
}

// maxAttachmentName bounds a shown attachment name.
const maxAttachmentName = 255
