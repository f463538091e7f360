package httpapi

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTTPDocContentExample: the request docs/http.md shows with a message gets the
// content fields the page shows, with content rules on and off.
func TestHTTPDocContentExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "http.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "<!-- http-content-example: internal/httpapi/doc_test.go -->")
	if i < 0 {
		t.Fatal("docs/http.md has no http-content-example")
	}
	blocks := indentedBlocks(s[i:], 2)
	request, answer := blocks[0], blocks[1]
	offFields := between(t, s[i:], "With content rules off, the same request is warned, with\n`", "`.")
	a, srv := newAPI(t)
	withContentRules(t, a)
	body := postRaw(t, srv.URL, request)
	for _, want := range []string{`{"verdict":"hold","recipients":[{"input":"bob@раypal.com"`, `"verdict":"hold"`,
		`the message contains what looks like a password."`, `"content_checked":true,"content":["credentials"],"content_skipped":false}`} {
		if !strings.Contains(body, want) {
			t.Errorf("the answer lacks %s:\n%s", want, body)
		}
		if want = strings.TrimSuffix(want, `"`); !strings.Contains(strings.Join(strings.Fields(answer), ""), strings.Join(strings.Fields(want), "")) {
			t.Errorf("the documented answer lacks %s", want)
		}
	}
	a.Content = nil
	body = postRaw(t, srv.URL, request)
	if !strings.Contains(body, `"verdict":"warn"`) || !strings.HasSuffix(body, ","+offFields+"}\n") {
		t.Errorf("with content rules off the answer is\n%s\nnot ending with the documented\n%s", body, offFields)
	}
}

// indentedBlocks returns the first n blocks of lines indented by four spaces, joined.
func indentedBlocks(s string, n int) []string {
	var out []string
	var cur []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "    ") {
			cur = append(cur, strings.TrimPrefix(l, "    "))
			continue
		}
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
			cur = nil
			if len(out) == n {
				break
			}
		}
	}
	return out
}

func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("no %q", from)
	}
	s = s[i+len(from):]
	j := strings.Index(s, to)
	if j < 0 {
		t.Fatalf("no %q after %q", to, from)
	}
	return strings.ReplaceAll(s[:j], "\n", " ")
}

func postRaw(t *testing.T, url, body string) string {
	t.Helper()
	resp, err := http.Post(url+"/api/v1/check", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	return string(b)
}
