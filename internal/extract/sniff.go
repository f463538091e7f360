package extract

import (
	"bytes"
	"path"
	"strings"
	"unicode/utf8"
)

// Sniff tells the kind of an attachment by its first bytes, then by its name;
// "" when unknown. A zip is "zip" whatever its name: Text tells a .docx,
// .xlsx or .pptx from an archive by its entries. A compound file named
// .docx, .xlsx or .pptx keeps its Office kind: Text reports it encrypted.
func Sniff(name string, head []byte) Kind {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return Zip
	case bytes.Contains(head[:min(len(head), 1024)], []byte("%PDF-")):
		return PDF
	}
	ext := strings.ToLower(path.Ext(name))
	if bytes.HasPrefix(head, cfbMagic) {
		// A password-protected Office document is a compound file: Text
		// says so (ErrEncrypted).
		switch ext {
		case ".docx", ".docm", ".dotx":
			return Docx
		case ".xlsx", ".xlsm", ".xltx":
			return Xlsx
		case ".pptx", ".pptm", ".ppsx":
			return Pptx
		}
		return ""
	}
	if len(head) > 0 && !looksText(head) {
		return ""
	}
	switch ext {
	case ".docx", ".docm", ".dotx":
		return Docx
	case ".xlsx", ".xlsm", ".xltx":
		return Xlsx
	case ".pptx", ".pptm", ".ppsx":
		return Pptx
	case ".pdf":
		return PDF
	case ".zip":
		return Zip
	case ".txt", ".text", ".csv", ".tsv", ".md", ".log", ".json", ".xml", ".yaml", ".yml",
		".ini", ".conf", ".cfg", ".env", ".pem", ".key", ".crt", ".asc", ".sql", ".rtf":
		return Txt
	}
	if len(head) > 0 {
		return Txt
	}
	return ""
}

// looksText says whether head is UTF-8 text without control characters (a
// rune cut at the end of head is allowed).
func looksText(head []byte) bool {
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n <= 1 {
			if len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				return true
			}
			return false
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return false
		}
		i += n
	}
	return true
}
