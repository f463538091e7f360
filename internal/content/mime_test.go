package content

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/extract"
)

const hdr = "From: a@example.com\r\nTo: b@example.net\r\nSubject: test\r\nMIME-Version: 1.0\r\n"

func classify(t testing.TB, c *Classifier, msg string) Result {
	t.Helper()
	return c.Classify(context.Background(), strings.NewReader(msg))
}

func notRead(r Result, part, why string) bool {
	for _, n := range r.NotRead {
		if strings.Contains(n.Part, part) && strings.Contains(n.Why, why) {
			return true
		}
	}
	return false
}

func TestTransferEncodingsAndCharsets(t *testing.T) {
	c := classifier(t, Config{})
	b64 := base64.StdEncoding.EncodeToString([]byte("Password: Tr0ub4dor&3\n"))
	for name, msg := range map[string]string{
		"base64":           hdr + "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64 + "\r\n",
		"quoted-printable": hdr + "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nPass=\r\nword: Tr0ub4dor=263\r\n",
		"latin1":           hdr + "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncontrase=F1a: Verano2024\r\n",
		"subject":          "Subject: =?utf-8?q?Password=3A_Tr0ub4dor=263?=\r\n\r\nhello\r\n",
	} {
		if r := classify(t, c, msg); !r.Has(Credentials) {
			t.Errorf("%s: password not found: %+v", name, r)
		}
	}
}

func TestUnknownCharsetIsNotRead(t *testing.T) {
	c := classifier(t, Config{})
	msg := hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\nPassword: Tr0ub4dor&3\r\n--b\r\nContent-Type: text/plain\r\n\r\nSSN 536-22-1234\r\n--b--\r\n"
	r := classify(t, c, msg)
	if r.Has(Credentials) || !notRead(r, "part 1", "unknown charset") {
		t.Errorf("part with an unknown charset was read or not listed: %+v", r)
	}
	if !r.Has(Personal) || r.Skipped {
		t.Errorf("the rest of the message was not read: %+v", r)
	}
}

func TestBrokenBase64IsNotReadRestIs(t *testing.T) {
	c := classifier(t, Config{})
	msg := hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!not*base64$$$$\r\n--b\r\nContent-Type: text/plain\r\n\r\nSSN 536-22-1234\r\n--b--\r\n"
	r := classify(t, c, msg)
	if !notRead(r, "part 1", "not decodable") {
		t.Errorf("broken base64 part not listed: %+v", r)
	}
	if !r.Has(Personal) || r.Skipped {
		t.Errorf("the rest of the message was not read: %+v", r)
	}
}

func TestNestedMessageAndHTML(t *testing.T) {
	c := classifier(t, Config{})
	inner := "Subject: fwd\r\nContent-Type: text/html\r\n\r\n<html><body><p>Mot de passe&nbsp;: <b>Soleil2024</b></p><script>Password: notthis1</script></body></html>\r\n"
	msg := hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "--b--\r\n"
	r := classify(t, c, msg)
	if !r.Has(Credentials) {
		t.Fatalf("password in nested HTML message not found: %+v", r)
	}
	if n := r.Findings[0].Evidence[evPassword]; n != 1 {
		t.Errorf("password lines = %d, want 1 (script text must not count)", n)
	}
}

func TestAlternativeReadsOnePart(t *testing.T) {
	c := classifier(t, Config{})
	alt := func(plain, html string) string {
		return hdr + "Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\n" + plain +
			"\r\n--a\r\nContent-Type: text/html\r\n\r\n" + html + "\r\n--a--\r\n"
	}
	// The same password in both alternatives counts once.
	r := classify(t, c, alt("Password: Tr0ub4dor&3", "<p>Password: Tr0ub4dor&amp;3</p>"))
	if !r.Has(Credentials) || r.Findings[0].Evidence[evPassword] != 1 {
		t.Errorf("want one password line from one alternative: %+v", r)
	}
	// Only the plain alternative is read.
	r = classify(t, c, alt("hello", "<p>Password: Tr0ub4dor&amp;3</p>"))
	if r.Has(Credentials) {
		t.Errorf("second alternative was read: %+v", r)
	}
}

func TestAttachments(t *testing.T) {
	c := classifier(t, Config{})
	att := func(name, ctype, body string) string {
		return hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: " + ctype +
			"\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString([]byte(body)) + "\r\n--b--\r\n"
	}
	if r := classify(t, c, att("id.p12", "application/x-pkcs12", "\x30\x82\x01")); !r.Has(Credentials) {
		t.Errorf(".p12 attachment not found: %+v", r)
	}
	if r := classify(t, c, att("notes.txt", "text/plain", "Passwort: Geheim#99\n")); !r.Has(Credentials) {
		t.Errorf("password in a text attachment not found: %+v", r)
	}
	if r := classify(t, c, att("logo.png", "image/png", "\x89PNG\r\n")); r.Has(Credentials) || !notRead(r, "logo.png", "no text") {
		t.Errorf("image attachment: %+v", r)
	}
}

// attach wraps one attachment in a message.
func attach(name, ctype string, body []byte) string {
	return hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: " + ctype +
		"\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		wrap(base64.StdEncoding.EncodeToString(body)) + "\r\n--b--\r\n"
}

// docx builds a minimal Word document whose body is one paragraph per line.
func docx(t testing.TB, lines ...string) []byte {
	fail := func(err error) {
		if t == nil {
			panic(err)
		}
		t.Fatal(err)
	}
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	add := func(name, body string) {
		w, err := z.Create(name)
		if err != nil {
			fail(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			fail(err)
		}
	}
	add("[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`)
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, l := range lines {
		doc.WriteString("<w:p><w:r><w:t>" + l + "</w:t></w:r></w:p>")
	}
	doc.WriteString("</w:body></w:document>")
	add("word/document.xml", doc.String())
	if err := z.Close(); err != nil {
		fail(err)
	}
	return b.Bytes()
}

func TestOfficeAndPDFAttachments(t *testing.T) {
	c := classifier(t, Config{Limits: Limits{Extract: extract.Limits{MaxInput: 64 << 10}}})
	docxType := "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	if r := classify(t, c, attach("access.docx", docxType, docx(t, "VPN access", "Password: Tr0ub4dor&amp;3"))); !r.Has(Credentials) {
		t.Errorf("password in a .docx not found: %+v", r)
	}
	if r := classify(t, c, attach("minutes.docx", docxType, docx(t, "Minutes of the meeting", "Next meeting on Monday"))); len(r.Findings) != 0 || len(r.NotRead) != 0 {
		t.Errorf("ordinary .docx: %+v", r)
	}
	encPDF := "%PDF-1.4\n1 0 obj\n<< /Filter /Standard /V 2 /R 3 /O (x) /U (y) /P -4 >>\nendobj\ntrailer\n<< /Root 2 0 R /Encrypt 1 0 R >>\n%%EOF\n"
	if r := classify(t, c, attach("scan.pdf", "application/pdf", []byte(encPDF))); !r.Has(Credentials) || !notRead(r, "scan.pdf", "encrypted") {
		t.Errorf("encrypted PDF is not evidence: %+v", r)
	}
	big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 70<<10)...)
	if r := classify(t, c, attach("big.pdf", "application/pdf", big)); !notRead(r, "big.pdf", "larger than the attachment limit of 64 KiB") {
		t.Errorf("attachment over MaxInput not listed: %+v", r)
	}
	// A zip whose entry is encrypted (general purpose flag bit 0).
	var zb bytes.Buffer
	z := zip.NewWriter(&zb)
	w, err := z.CreateHeader(&zip.FileHeader{Name: "secret.txt", Method: zip.Store, Flags: 0x1})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("\x00\x01encrypted bytes"))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if r := classify(t, c, attach("files.zip", "application/zip", zb.Bytes())); !r.Has(Credentials) || r.Findings[0].Evidence[evEncrypted] != 1 {
		t.Errorf("password-protected zip is not evidence: %+v", r)
	}
}

// TestExtractorErrorsAreNotRead: whatever the extractor answers, the part is
// listed and the rest of the message is read.
func TestExtractorErrorsAreNotRead(t *testing.T) {
	old := extractText
	defer func() { extractText = old }()
	extractText = func(io.Writer, io.ReaderAt, int64, extractKind, extract.Limits) (extract.Info, error) {
		return extract.Info{}, fmt.Errorf("xref: %w", extract.ErrCorrupt)
	}
	c := classifier(t, Config{})
	r := classify(t, c, attach("scan.pdf", "application/pdf", []byte("%PDF-1.4 ...")))
	if !notRead(r, "scan.pdf", "corrupt") || r.Skipped {
		t.Errorf("corrupt attachment not listed: %+v", r)
	}
}

func TestLimits(t *testing.T) {
	nested := func(depth int) string {
		var b strings.Builder
		b.WriteString(hdr)
		for i := 0; i < depth; i++ {
			b.WriteString("Content-Type: multipart/mixed; boundary=b" + itoa(i) + "\r\n\r\n--b" + itoa(i) + "\r\n")
		}
		b.WriteString("Content-Type: text/plain\r\n\r\nhi\r\n")
		for i := depth - 1; i >= 0; i-- {
			b.WriteString("--b" + itoa(i) + "--\r\n")
		}
		return b.String()
	}
	many := hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n", 20) + "--b--\r\n"
	huge := hdr + "X-Big: " + strings.Repeat("a", 300<<10) + "\r\n\r\nhi\r\n"
	for _, tc := range []struct {
		name string
		cfg  Limits
		msg  string
		why  string
	}{
		{"size", Limits{MaxMessage: 1 << 10}, hdr + "\r\n" + strings.Repeat("Password: Tr0ub4dor&3\r\n", 100), "larger than the limit of 1 KiB"},
		{"parts", Limits{MaxParts: 10}, many, "more than the limit of 10 MIME parts"},
		{"depth", Limits{MaxDepth: 5}, nested(8), "nested deeper than the limit of 5"},
		{"header", Limits{}, huge, "header not readable"},
	} {
		c := classifier(t, Config{Limits: tc.cfg})
		r := classify(t, c, tc.msg)
		if !r.Skipped || !notRead(r, "message", tc.why) {
			t.Errorf("%s: want skipped with %q, got %+v", tc.name, tc.why, r)
		}
		// The passwords in the first KiB were read before the limit: they stay found.
		if found := r.Has(Credentials); found != (tc.name == "size") || tc.name != "size" && len(r.Findings) != 0 {
			t.Errorf("%s: findings %+v", tc.name, r.Findings)
		}
	}
	// Within the limits the same shapes are read.
	if r := classify(t, classifier(t, Config{}), nested(8)); r.Skipped {
		t.Errorf("depth 8 skipped with defaults: %+v", r)
	}
}

func TestTimeLimit(t *testing.T) {
	c := classifier(t, Config{Limits: Limits{MaxTime: 50 * time.Millisecond, MaxMessage: 1 << 40}})
	done := make(chan Result, 1)
	go func() {
		done <- c.Classify(context.Background(), io.MultiReader(strings.NewReader(hdr+"\r\n"), endless{}))
	}()
	select {
	case r := <-done:
		if !r.Skipped || !notRead(r, "message", "time limit of 50ms") {
			t.Errorf("want skipped for time, got %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Classify did not return after its time limit")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := c.Classify(ctx, strings.NewReader(hdr+"\r\nhi\r\n")); !r.Skipped {
		t.Errorf("cancelled context not skipped: %+v", r)
	}
}

// endless is a message body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	const line = "Meeting notes, Password: Tr0ub4dor&3, SSN 536-22-1234\r\n"
	n := 0
	for n+len(line) <= len(p) {
		n += copy(p[n:], line)
	}
	if n == 0 {
		n = copy(p, line)
	}
	return n, nil
}

func TestLongLinesAreBounded(t *testing.T) {
	c := classifier(t, Config{})
	msg := hdr + "\r\n" + strings.Repeat("x", 5<<20) + " Password: Tr0ub4dor&3\r\nSSN 536-22-1234\r\n"
	r := classify(t, c, msg)
	if r.Skipped || !r.Has(Personal) {
		t.Errorf("long line: %+v", r)
	}
}

func TestZipBombIsNotRead(t *testing.T) {
	var zb bytes.Buffer
	z := zip.NewWriter(&zb)
	w, err := z.Create("zeros.txt")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for i := 0; i < 40; i++ {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	c := classifier(t, Config{})
	msg := attach("bomb.zip", "application/zip", zb.Bytes())
	msg = strings.Replace(msg, "see attached", "SSN 536-22-1234", 1)
	r := classify(t, c, msg)
	if r.Skipped || !notRead(r, "bomb.zip", "too large") || !r.Has(Personal) {
		t.Errorf("zip bomb: want it not read and the rest read, got %+v", r)
	}
}

// xlsx builds a one-sheet workbook with inline strings.
func xlsx(t testing.TB, rows [][]string) []byte {
	t.Helper()
	var sheet strings.Builder
	sheet.WriteString(`<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for _, row := range rows {
		sheet.WriteString("<row>")
		for _, v := range row {
			sheet.WriteString(`<c t="inlineStr"><is><t>` + v + `</t></is></c>`)
		}
		sheet.WriteString("</row>")
	}
	sheet.WriteString("</sheetData></worksheet>")
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for name, body := range map[string]string{
		"[Content_Types].xml":      `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"xl/workbook.xml":          `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>`,
		"xl/worksheets/sheet1.xml": sheet.String(),
	} {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSpreadsheetBulk(t *testing.T) {
	people := [][]string{{"First name", "Last name", "Unit"}}
	items := [][]string{{"Item", "Qty", "Price"}}
	for i := 0; i < 60; i++ {
		people = append(people, []string{"Given" + itoa(i%10), "Family" + itoa(i/10), "Logistics"})
		items = append(items, []string{"Widget " + itoa(i%10), itoa(i % 7), "9.99"})
	}
	c := classifier(t, Config{})
	xlsxType := "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	if r := classify(t, c, attach("roster.xlsx", xlsxType, xlsx(t, people))); !r.Has(Bulk) {
		t.Errorf("roster spreadsheet not bulk: %+v", r)
	}
	if r := classify(t, c, attach("stock.xlsx", xlsxType, xlsx(t, items))); r.Has(Bulk) || len(r.NotRead) != 0 {
		t.Errorf("stock spreadsheet: %+v", r)
	}
}
