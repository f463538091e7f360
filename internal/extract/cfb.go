package extract

import (
	"bytes"
	"fmt"
	"io"
)

// cfbMagic starts an OLE compound file: legacy Office, and the container of
// a password-protected .docx, .xlsx or .pptx.
var cfbMagic = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}

// encryptionInfo is the UTF-16LE name of the stream that an encrypted Office
// document's compound file holds.
var encryptionInfo = utf16le("EncryptionInfo")

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

func isCFB(r io.ReaderAt, size int64) bool {
	head := make([]byte, len(cfbMagic))
	n, _ := r.ReadAt(head, 0)
	return n == len(head) && bytes.Equal(head, cfbMagic)
}

// cfb tells a password-protected Office document (ErrEncrypted) from a
// legacy binary one (ErrUnsupported) by scanning for the EncryptionInfo
// stream's name.
func (x *job) cfb(r io.ReaderAt, size int64, kind Kind) error {
	buf := make([]byte, 64<<10)
	keep := len(encryptionInfo) - 1
	var off int64
	for off < size {
		n, err := r.ReadAt(buf[keep:min(int64(len(buf)), int64(keep)+size-off)], off)
		if bytes.Contains(buf[:keep+n], encryptionInfo) {
			x.info.Encrypted = true
			return fmt.Errorf("%s: password-protected Office document: %w", kind, ErrEncrypted)
		}
		if n == 0 || err != nil && err != io.EOF {
			break
		}
		copy(buf[:keep], buf[n:keep+n])
		off += int64(n)
	}
	return fmt.Errorf("%s: a compound (legacy binary Office) file, not read: %w", kind, ErrUnsupported)
}
