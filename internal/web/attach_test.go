package web

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/token"
)

// malformedNames is a message whose attachments have file names the parsers cannot
// decode, next to a body part and a well-named attachment.
const malformedNames = "From: alice@example.org\r\n" +
	"To: bob@arrny.mil\r\n" +
	"Subject: Orders\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
	// An unterminated quoted string: the whole parameter list is refused.
	"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"orders.pdf\r\n\r\nJVBERi0=\r\n" +
	// Bad percent escapes in RFC 2231: the parameter is dropped without an error.
	"--b1\r\nContent-Type: application/vnd.ms-excel; name*=UTF-8''%ZZ.xls\r\n\r\nx\r\n" +
	// A charset nobody knows, and a duplicate parameter in Content-Type.
	"--b1\r\nContent-Type: image/png; name=a.png; name=b.png\r\nContent-Disposition: inline; filename*=x-bogus''abc\r\n\r\nx\r\n" +
	"--b1\r\nContent-Type: text/csv; name=\"prices.csv\"\r\nContent-Disposition: attachment; filename=\"prices.csv\"\r\n\r\na,b\r\n" +
	"--b1--\r\n"

func TestAttachmentNamesMalformedAreListedUnnamed(t *testing.T) {
	got := attachmentNames([]byte(malformedNames))
	want := []string{
		"(unnamed attachment, application/pdf)",
		"(unnamed attachment, application/vnd.ms-excel)",
		"(unnamed attachment, image/png)",
		"prices.csv",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("attachmentNames = %q, want %q", got, want)
	}
	// An attachment without any name, and one whose type cannot be read either.
	for raw, want := range map[string]string{
		"Content-Disposition: attachment\r\nContent-Type: application/zip\r\n\r\nx":       "(unnamed attachment, application/zip)",
		"Content-Disposition: attachment; filename=\"\"\r\n\r\nx":                         "(unnamed attachment, type not given)",
		"Content-Type: garbage; name=\"x\r\n\r\nx":                                        "(unnamed attachment, unknown type)",
		"Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: inline\r\n\r\nx": "",
	} {
		got := attachmentNames([]byte(raw))
		if (want == "" && len(got) != 0) || (want != "" && !slices.Equal(got, []string{want})) {
			t.Errorf("attachmentNames(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestSummaryListsAttachmentWithMalformedName(t *testing.T) {
	f := newFixture(t, "Orders")
	m := sampleMessage("Malformed names")
	m.Received, m.ExpiresAt = f.clk.Now(), f.clk.Now().Add(7*24*time.Hour)
	id, err := f.store.Hold(context.Background(), m, strings.NewReader(malformedNames))
	if err != nil {
		t.Fatal(err)
	}
	r := f.get(t, f.sign(id, m.Sender, token.View, time.Hour))
	want(t, r, 200, "Malformed names", "<li>(unnamed attachment, application/pdf)</li>",
		"<li>(unnamed attachment, application/vnd.ms-excel)</li>", "<li>(unnamed attachment, image/png)</li>",
		"<li>prices.csv</li>")
}
