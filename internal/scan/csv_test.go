package scan

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestM365MessageTrace(t *testing.T) {
	recs, probs, err := readSource(t, M365Format, "m365-messagetrace.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantTriples(t, recs,
		"alice@contoso.com>bob@army.ml=sent",
		"alice@contoso.com>dave@x.example=bounced",
		"erin@contoso.com>gina@slow.example=deferred",
		"hank@contoso.com>ivy@gmai.com=bounced", // quarantined: did not leave
	)
	// The last row has a field too few: a Problem on its line, the rest read.
	if len(probs) != 1 || probs[0].Line != 8 || !strings.Contains(probs[0].Text, "9 fields") {
		t.Errorf("problems %+v", probs)
	}
	bob := findRecord(t, recs, "bob@army.ml")
	if want := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC); !bob.Time.Equal(want) || bob.Message != "<abc@contoso.com>" || bob.Line != 2 || bob.Relay != "1.2.3.4" {
		t.Errorf("bob: %+v", bob)
	}
	if gina := findRecord(t, recs, "gina@slow.example"); gina.Line != 4 {
		t.Errorf("gina on line %d, want 4 (the record spans lines 4-5)", gina.Line)
	}
}

// TestM365ReorderedColumns: columns in another order, other spellings, extra columns.
func TestM365ReorderedColumns(t *testing.T) {
	recs, probs, err := readSource(t, M365Format, "m365-reordered.csv", nil)
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	wantTriples(t, recs, "alice@contoso.com>bob@army.ml=sent", "alice@contoso.com>dave@x.example=bounced")
	if bob := findRecord(t, recs, "bob@army.ml"); !bob.Time.Equal(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("bob's time %v", bob.Time)
	}
}

func TestM365HistoricalSearch(t *testing.T) {
	recs, probs, err := readSource(t, M365Format, "m365-historical.csv", nil)
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	wantTriples(t, recs,
		"alice@contoso.com>bob@army.ml=sent",
		"alice@contoso.com>dave@x.example=bounced",
		"erin@contoso.com>gina@slow.example=deferred",
		"hank@contoso.com>frank@contoso.com=sent",
	)
}

// TestCSVMissingColumn: an export without a column the format needs is an error naming
// the file and the column.
func TestCSVMissingColumn(t *testing.T) {
	_, _, err := readSource(t, M365Format, "m365-missing-status.csv", nil)
	if err == nil || !strings.Contains(err.Error(), "m365-missing-status.csv") || !strings.Contains(err.Error(), `"Status"`) {
		t.Errorf("err %v", err)
	}
	_, _, err = readSource(t, WorkspaceFormat, "ws.csv", []byte("Message ID,Sender,Subject\n<a@b>,a@b.example,hi\n"))
	if err == nil || !strings.Contains(err.Error(), "ws.csv") || !strings.Contains(err.Error(), `"Recipient address"`) {
		t.Errorf("err %v", err)
	}
	_, _, err = readSource(t, ExchangeFormat, "ex.csv", []byte("date-time,event-id,recipient-address\n2026-12-04T10:00:00Z,SEND,a@b.example\n"))
	if err == nil || !strings.Contains(err.Error(), "ex.csv") || !strings.Contains(err.Error(), `"sender-address"`) {
		t.Errorf("err %v", err)
	}
}

func TestExchangeTrackingLog(t *testing.T) {
	recs, probs, err := readSource(t, ExchangeFormat, "exchange-tracking.log", nil)
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	wantTriples(t, recs,
		"alice@contoso.com>bob@army.ml=sent",
		"alice@contoso.com>dave@x.example=bounced",
		"erin@contoso.com>gina@slow.example=sent", // deferred, then sent
		"hank@contoso.com>ivy@down.example=deferred",
		"judy@contoso.com>frank@contoso.com=sent",
	)
	dave := findRecord(t, recs, "dave@x.example")
	if dave.Reply != "550 5.1.1 User unknown" || dave.Message != "abc@contoso.com" || dave.Line != 8 ||
		!dave.Time.Equal(time.Date(2026, 12, 4, 10, 0, 2, 300e6, time.UTC)) {
		t.Errorf("dave: %+v", dave)
	}
	if ivy := findRecord(t, recs, "ivy@down.example"); ivy.Line != 11 || ivy.Source != "exchange-tracking.log" {
		t.Errorf("ivy: %+v", ivy)
	}
}

func TestExchangeExport(t *testing.T) {
	recs, probs, err := readSource(t, ExchangeFormat, "exchange-export.csv", nil)
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	wantTriples(t, recs,
		"alice@contoso.com>bob@army.ml=sent",
		"alice@contoso.com>carol@army.ml=sent",
		"alice@contoso.com>dave@x.example=bounced",
	)
}

func TestWorkspaceExport(t *testing.T) {
	recs, probs, err := readSource(t, WorkspaceFormat, "workspace-els.csv", nil)
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	wantTriples(t, recs,
		"alice@contoso.com>bob@army.ml=sent", // once: the SMTP_IN row is the arrival
		"alice@contoso.com>dave@x.example=bounced",
		"erin@contoso.com>gina@slow.example=deferred",
		"hank@contoso.com>frank@contoso.com=sent",
		"judy@contoso.com>kate@gmai.com=sent", // no status: the reply code says
	)
	dave := findRecord(t, recs, "dave@x.example")
	if dave.Reply != "550 5.1.1 User unknown" || dave.Message != "abc@contoso.com" || dave.Relay != "5.6.7.8" ||
		!dave.Time.Equal(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("dave: %+v", dave)
	}
}

// TestCSVDetect: each export is taken by its own format and by no other.
func TestCSVDetect(t *testing.T) {
	formats := []Format{EximFormat, SendmailFormat, M365Format, ExchangeFormat, WorkspaceFormat}
	for name, want := range map[string]string{
		"m365-messagetrace.csv": "m365", "m365-reordered.csv": "m365", "m365-historical.csv": "m365",
		"m365-missing-status.csv": "m365", "exchange-tracking.log": "exchange", "exchange-export.csv": "exchange",
		"workspace-els.csv": "workspace", "exim-mainlog.log": "exim", "sendmail-maillog.log": "sendmail",
	} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range formats {
			if f.Detect(data) {
				got = append(got, f.Name)
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s detected as %v, want %s", name, got, want)
		}
	}
}

// TestCSVBadInput: invalid UTF-8, an overlong record, an unterminated quote: Problems
// with their lines, the other rows read.
func TestCSVBadInput(t *testing.T) {
	data := "Received,SenderAddress,RecipientAddress,Status\n" +
		"2026-12-04T10:00:00Z,a@contoso.com,b\xff@x.example,Delivered\n" +
		"2026-12-04T10:00:00Z,a@contoso.com,\"" + strings.Repeat("x\n", 600_000) + "\",Delivered\n" +
		"2026-12-04T10:00:00Z,a@contoso.com,c@army.ml,Delivered\n" +
		"2026-12-04T10:00:00Z,a@contoso.com,\"d@army.ml,Delivered\n"
	recs, probs, err := readSource(t, M365Format, "bad.csv", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	wantTriples(t, recs, "a@contoso.com>c@army.ml=sent")
	var lines []int64
	for _, p := range probs {
		lines = append(lines, p.Line)
	}
	if len(lines) != 3 || lines[0] != 2 || lines[1] != 3 || lines[2] != 600_005 {
		t.Errorf("%d problems on lines %v", len(lines), lines[:min(len(lines), 10)])
	}
	if c := findRecord(t, recs, "c@army.ml"); c.Line != 600_004 {
		t.Errorf("c read on line %d", c.Line)
	}
}

// TestCSVUTF16: an export saved as UTF-16 (with its byte order mark) is detected and read.
func TestCSVUTF16(t *testing.T) {
	for _, name := range []string{"m365-reordered.csv", "exchange-tracking.log"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		enc := []byte{0xff, 0xfe}
		for _, r := range string(data) {
			enc = append(enc, byte(r), byte(r>>8)) // the samples are ASCII
		}
		format := M365Format
		if strings.HasPrefix(name, "exchange") {
			format = ExchangeFormat
		}
		if !format.Detect(enc) {
			t.Errorf("%s in UTF-16 not detected as %s", name, format.Name)
		}
		want, _, _ := readSource(t, format, name, data)
		got, probs, err := readSource(t, format, name, enc)
		if err != nil || len(probs) != 0 {
			t.Fatalf("%s in UTF-16: err %v, problems %v", name, err, probs)
		}
		if g, w := triples(got), triples(want); !slices.Equal(g, w) || len(g) == 0 {
			t.Errorf("%s in UTF-16: %q, want %q", name, g, w)
		}
	}
}

// TestCSVSemicolons: a spreadsheet saved with ";" between fields (European locales).
func TestCSVSemicolons(t *testing.T) {
	data := "Sender;Recipient address;Message ID;Event status\n" +
		"alice@contoso.com;\"bob@army.ml, carol@army.ml\";<abc@contoso.com>;Delivered\n"
	if !WorkspaceFormat.Detect([]byte(data)) {
		t.Error("not detected")
	}
	recs, probs, err := readSource(t, WorkspaceFormat, "semi.csv", []byte(data))
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	wantTriples(t, recs, "alice@contoso.com>bob@army.ml=sent", "alice@contoso.com>carol@army.ml=sent")
}
