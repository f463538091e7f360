package panics

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHandlerRecoversCountsAndAbortsTheConnection(t *testing.T) {
	var logs bytes.Buffer
	var n atomic.Int32
	log := slog.New(slog.NewTextHandler(&logs, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("boom in a handler") })
	mux.HandleFunc("/abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "fine") })
	srv := httptest.NewUnstartedServer(Handler(log, "web", func() { n.Add(1) }, mux))
	srv.Config.ErrorLog = nil
	srv.Start()
	defer srv.Close()

	if _, err := http.Get(srv.URL + "/boom"); err == nil {
		t.Fatalf("GET /boom: err = %v, want the connection closed without an answer", err)
	}
	if n.Load() != 1 || !strings.Contains(logs.String(), "boom in a handler") || !strings.Contains(logs.String(), "panics_test.go") {
		t.Errorf("count = %d, log = %s", n.Load(), logs.String())
	}
	if _, err := http.Get(srv.URL + "/abort"); err == nil {
		t.Fatal("GET /abort answered")
	}
	if n.Load() != 1 {
		t.Errorf("ErrAbortHandler counted: %d", n.Load())
	}
	resp, err := http.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "fine" {
		t.Errorf("after the panics: %q", body)
	}
}
