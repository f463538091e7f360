package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// warned is a mixed-script lookalike the default policy warns about.
const warned = "bob@раypal.com"

const withPassword = "From: alice@contoso.com\r\nTo: bob@example.com\r\nSubject: access\r\n\r\nHello Bob,\r\n\r\nPassword: Tr0ub4dor&3x\r\n"
const withoutPassword = "From: alice@contoso.com\r\nTo: bob@example.com\r\nSubject: lunch\r\n\r\nLunch on Friday at noon?\r\n"

// contentResponse is the answer with its content fields.
type contentResponse struct {
	Verdict    string `json:"verdict"`
	Recipients []struct {
		Input   string `json:"input"`
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
	} `json:"recipients"`
	Checked *bool    `json:"content_checked"`
	Content []string `json:"content"`
	Skipped bool     `json:"content_skipped"`
	Note    string   `json:"content_note"`
	Error   string   `json:"error"`
}

func postContent(t *testing.T, url string, body any) (int, contentResponse) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"/api/v1/check", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out contentResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

// withContentRules turns the API's content rules on with the default settings.
func withContentRules(t *testing.T, a *API) {
	t.Helper()
	c := config.Default().Content
	c.Enabled = true
	cl, err := c.Classifier()
	if err != nil {
		t.Fatal(err)
	}
	a.Content, a.ContentRules = cl, c.Rules()
}

// TestCheckWithAMessageEscalates: a warned lookalike with a message that carries a
// password is held, and the answer names the category; without the message, or with one
// that carries nothing, it is warned.
func TestCheckWithAMessageEscalates(t *testing.T) {
	a, srv := newAPI(t)
	withContentRules(t, a)
	logs := &testenv.SyncBuffer{}
	a.Logger = slog.New(slog.NewTextHandler(logs, nil))
	code, out := postContent(t, srv.URL, map[string]any{"recipients": []string{warned, "ann@army.mil"}, "message": withPassword})
	if l := logs.String(); !strings.Contains(l, "verdict=hold") || !strings.Contains(l, "content=credentials") || strings.Contains(l, "Tr0ub4dor") {
		t.Errorf("log: %s", l)
	}
	if code != 200 || out.Verdict != "hold" || len(out.Recipients) != 2 || out.Recipients[0].Verdict != "hold" || out.Recipients[1].Verdict != "allow" {
		t.Fatalf("with a password: %d %+v", code, out)
	}
	if !strings.Contains(out.Recipients[0].Reason, "the message contains what looks like a password") {
		t.Errorf("reason %q", out.Recipients[0].Reason)
	}
	if out.Checked == nil || !*out.Checked || len(out.Content) != 1 || out.Content[0] != "credentials" || out.Skipped || out.Note != "" {
		t.Errorf("content fields %+v", out)
	}
	// The same in base64.
	code, out = postContent(t, srv.URL, map[string]any{"recipients": []string{warned}, "message_base64": base64.StdEncoding.EncodeToString([]byte(withPassword))})
	if code != 200 || out.Verdict != "hold" || len(out.Content) != 1 {
		t.Errorf("base64: %d %+v", code, out)
	}
	code, out = postContent(t, srv.URL, map[string]any{"recipients": []string{warned}})
	if code != 200 || out.Verdict != "warn" || out.Checked != nil || out.Content != nil {
		t.Errorf("without a message: %d %+v", code, out)
	}
	code, out = postContent(t, srv.URL, map[string]any{"recipients": []string{warned}, "message": withoutPassword})
	if code != 200 || out.Verdict != "warn" || out.Checked == nil || !*out.Checked || len(out.Content) != 0 {
		t.Errorf("with a harmless message: %d %+v", code, out)
	}
	// Nothing flagged: the content cannot matter, and is not read.
	code, out = postContent(t, srv.URL, map[string]any{"recipients": []string{"ann@army.mil"}, "message": withPassword})
	if code != 200 || out.Verdict != "allow" || out.Checked == nil || *out.Checked || !strings.Contains(out.Note, "cannot change the decision") {
		t.Errorf("nothing flagged: %d %+v", code, out)
	}
}

// TestCheckWithAMessageWhileContentRulesAreOff answers without content, and says so.
func TestCheckWithAMessageWhileContentRulesAreOff(t *testing.T) {
	_, srv := newAPI(t)
	code, out := postContent(t, srv.URL, map[string]any{"recipients": []string{warned}, "message": withPassword})
	if code != 200 || out.Verdict != "warn" || out.Checked == nil || *out.Checked || len(out.Content) != 0 || !strings.Contains(out.Note, "content rules are off") {
		t.Errorf("%d %+v", code, out)
	}
}

// TestCheckWithAMessageOverTheLimits: a body over the limit is a 413 naming it; a message
// the classifier finds over its own limit is answered without content, which says so.
func TestCheckWithAMessageOverTheLimits(t *testing.T) {
	a, srv := newAPI(t)
	withContentRules(t, a)
	a.MaxMessageBytes = 100 << 10
	big := withPassword + strings.Repeat("x", 2*int(a.MaxMessageBytes)+MaxBodyBytes)
	code, out := postContent(t, srv.URL, map[string]any{"recipients": []string{warned}, "message": big})
	if code != 413 || !strings.Contains(out.Error, "larger than") || !strings.Contains(out.Error, "a message may have at most 102400 bytes") {
		t.Errorf("body over the limit: %d %+v", code, out)
	}
	code, out = postContent(t, srv.URL, map[string]any{"recipients": []string{warned}, "message": withPassword + strings.Repeat("y", int(a.MaxMessageBytes))})
	if code != 413 || !strings.Contains(out.Error, "at most 102400") {
		t.Errorf("message over the limit: %d %+v", code, out)
	}
	// A message the classifier's own limit skips.
	c := config.Default().Content
	c.Enabled, c.MaxMessage = true, 4096
	if a.Content, _ = c.Classifier(); a.Content == nil {
		t.Fatal("no classifier")
	}
	code, out = postContent(t, srv.URL, map[string]any{"recipients": []string{warned}, "message": "Subject: notes\r\n\r\n" + strings.Repeat("filler line\r\n", 1000)})
	if code != 200 || out.Verdict != "warn" || !out.Skipped || out.Checked == nil || !*out.Checked || !strings.Contains(out.Note, "not checked for content") ||
		!strings.Contains(out.Recipients[0].Reason, "not checked for content") {
		t.Errorf("skipped: %d %+v", code, out)
	}
	// The password before the limit was read: it holds, and the rest was not checked.
	code, out = postContent(t, srv.URL, map[string]any{"recipients": []string{warned}, "message": withPassword + strings.Repeat("filler line\r\n", 1000)})
	if code != 200 || out.Verdict != "hold" || !out.Skipped || !strings.Contains(out.Note, "only in part") ||
		!strings.Contains(out.Recipients[0].Reason, "the rest of it was not checked for content") {
		t.Errorf("skipped after a password: %d %+v", code, out)
	}
}

// TestCheckRefusesABrokenMessage: both fields, bad base64, a message that is not a string.
func TestCheckRefusesABrokenMessage(t *testing.T) {
	a, srv := newAPI(t)
	withContentRules(t, a)
	for _, c := range []struct{ body, want string }{
		{`{"recipients":["` + warned + `"],"message":"x","message_base64":"eA=="}`, "not both"},
		{`{"recipients":["` + warned + `"],"message_base64":"not base64!"}`, "not valid base64"},
		{`{"recipients":["` + warned + `"],"message":{"body":"x"}}`, "not valid JSON"},
		{`{"recipients":["` + warned + `"],"message":"unterminated`, "not valid JSON"},
	} {
		code, out := post(t, srv.URL, c.body)
		if code != 400 || !strings.Contains(out.Error, c.want) {
			t.Errorf("%.60q: %d %q, want 400 %q", c.body, code, out.Error, c.want)
		}
	}
}
