package extract

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestZipNamesAndNestedText(t *testing.T) {
	inner := makeZip(t, entry{name: "deep/notes.txt", data: []byte("not read: two levels down")})
	doc := makeDocx(t, para("Password: swordfish"))
	data := makeZip(t,
		entry{name: "vault.kdbx", data: []byte{0x03, 0xd9, 0xa2, 0x9a, 0, 1, 2}},
		entry{name: "keys/id.pem", data: []byte("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")},
		entry{name: "report.docx", data: doc},
		entry{name: "inner.zip", data: inner},
		entry{name: "photo.jpg", data: []byte{0xff, 0xd8, 0xff}},
	)
	got, info, err := run(t, data, Sniff("x.zip", data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := "vault.kdbx\n" +
		"keys/id.pem\n-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n" +
		"report.docx\nPassword: swordfish\n" +
		"inner.zip\ndeep/notes.txt\n" +
		"photo.jpg\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if info.Encrypted || info.Truncated {
		t.Fatalf("info %+v", info)
	}
}

func TestZipEncryptedEntry(t *testing.T) {
	data := makeZip(t, entry{name: "secret.txt", data: []byte("xx"), enc: true}, entry{name: "readme.txt", data: []byte("hello")})
	got, info, err := run(t, data, Zip, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Encrypted || got != "secret.txt\nreadme.txt\nhello\n" {
		t.Fatalf("%q %+v", got, info)
	}
}

func TestZipBombQuick(t *testing.T) {
	zeros := make([]byte, 40<<20)
	data := makeZip(t, entry{name: "zeros.txt", data: zeros})
	t.Logf("bomb: %d bytes compressed", len(data))
	start := time.Now()
	_, _, err := run(t, data, Zip, Limits{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "zeros.txt") {
		t.Fatalf("err %v, want ErrTooLarge naming zeros.txt", err)
	}
	d := time.Since(start)
	if d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	t.Logf("bomb refused in %v", d)
}

// A bomb whose headers lie about the uncompressed size is caught by the
// bytes actually inflated.
func TestZipBombLyingSize(t *testing.T) {
	zeros := make([]byte, 10<<20)
	data := makeZip(t, entry{name: "zeros.txt", data: zeros})
	// Rewrite the uncompressed size (local header offset 22, central
	// directory offset 24 from its signature) to 1000.
	patch := func(sig []byte, off int) {
		i := bytes.LastIndex(data, sig)
		if i < 0 {
			t.Fatal("no signature")
		}
		copy(data[i+off:], []byte{0xe8, 0x03, 0, 0})
	}
	patch([]byte("PK\x01\x02"), 24)
	_, _, err := run(t, data, Zip, Limits{})
	t.Logf("lying size: %v", err)
	if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err %v, want ErrTooLarge or ErrCorrupt", err)
	}
}

func TestZipTruncatedAndGarbage(t *testing.T) {
	good := makeZip(t, entry{name: "a.txt", data: bytes.Repeat([]byte("some text "), 1000)})
	garbage := append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0xa5, 0x17}, 500)...)
	for name, data := range map[string][]byte{
		"truncated": good[:len(good)/2],
		"garbage":   garbage,
		"empty":     nil,
	} {
		kind := Sniff("", data)
		if name == "empty" {
			kind = Zip
		}
		if kind != Zip {
			t.Fatalf("%s: sniffed %q", name, kind)
		}
		_, _, err := run(t, data, kind, Limits{})
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
}

func TestZipMaxEntries(t *testing.T) {
	var es []entry
	for i := 0; i < 50; i++ {
		es = append(es, entry{name: strings.Repeat("x", i+1) + ".bin", data: []byte{0}})
	}
	got, info, err := run(t, makeZip(t, es...), Zip, Limits{MaxEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(got, "\n"); n != 10 || !info.Truncated {
		t.Fatalf("%d lines, %+v", n, info)
	}
}

func TestMaxInput(t *testing.T) {
	data := makeZip(t, entry{name: "a.txt", data: []byte("hello")})
	_, _, err := run(t, data, Zip, Limits{MaxInput: 10})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		name string
		head string
		want Kind
	}{
		{"a.docx", "PK\x03\x04rest", Zip},
		{"", "%PDF-1.7\n", PDF},
		{"scan.pdf", "", PDF},
		{"Book.XLSX", "", Xlsx},
		{"a.pptx", "", Pptx},
		{"notes.csv", "a,b\n", Txt},
		{"noname", "plain words\n", Txt},
		{"image.png", "\x89PNG\r\n\x1a\n", ""},
		{"x.txt", "\x00\x01\x02", ""},
		{"noname", "", ""},
	} {
		if got := Sniff(c.name, []byte(c.head)); got != c.want {
			t.Errorf("Sniff(%q, %q) = %q, want %q", c.name, c.head, got, c.want)
		}
	}
}

func TestTextRows(t *testing.T) {
	got, info, err := run(t, []byte("a,b\nc,d\ne,f"), Txt, Limits{})
	if err != nil || got != "a,b\nc,d\ne,f" || info.Rows != 3 {
		t.Fatalf("%q %+v %v", got, info, err)
	}
}

// Many entries each under the ratio still stop at the job's inflate budget.
func TestZipInflateBudget(t *testing.T) {
	var es []entry
	for i := 0; i < 30; i++ {
		es = append(es, entry{name: strings.Repeat("n", i+1) + ".txt", data: bytes.Repeat([]byte("abcdefgh"), 512)})
	}
	data := makeZip(t, es...)
	_, _, err := run(t, data, Zip, Limits{MaxInput: int64(len(data))})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "inflated in all") {
		t.Fatalf("err %v", err)
	}
}

func TestPasswordProtectedOffice(t *testing.T) {
	// A compound file as Office writes for a password-protected document:
	// the magic, then (somewhere) the directory entry "EncryptionInfo".
	cfb := append(append([]byte{}, cfbMagic...), make([]byte, 70000)...)
	copy(cfb[65530:], utf16le("EncryptionInfo")) // across the 64 KiB read boundary
	kind := Sniff("Salaries.xlsx", cfb)
	if kind != Xlsx {
		t.Fatalf("sniffed %q", kind)
	}
	_, info, err := run(t, cfb, kind, Limits{})
	if !errors.Is(err, ErrEncrypted) || !info.Encrypted {
		t.Fatalf("%+v %v", info, err)
	}
	legacy := append(append([]byte{}, cfbMagic...), make([]byte, 4000)...)
	if _, info, err := run(t, legacy, Docx, Limits{}); !errors.Is(err, ErrUnsupported) || info.Encrypted {
		t.Fatalf("legacy: %+v %v", info, err)
	}
	if k := Sniff("old.doc", legacy); k != "" {
		t.Fatalf("old.doc sniffed %q", k)
	}
}
