package scan

import (
	"bufio"
	"bytes"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Windows tools save CSV as UTF-16 with a byte order mark (PowerShell's Out-File and
// Excel's "Unicode text"): such a source is read as the UTF-8 it stands for.

func utf16BOM(head []byte) bool {
	return bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff})
}

// csvDecodeHead returns head as UTF-8 when it is UTF-16 (a code unit cut at the end of
// head is dropped).
func csvDecodeHead(head []byte) []byte {
	if !utf16BOM(head) {
		return head
	}
	out, _, _ := transform.Bytes(unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder(), head[:len(head)&^1])
	return out
}

// csvDecode returns r as UTF-8 when it begins with a UTF-16 byte order mark.
func csvDecode(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); utf16BOM(head) {
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder())
	}
	return br
}
