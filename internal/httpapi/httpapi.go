// Package httpapi is the HTTP door: POST /api/v1/check for mail-client add-ins and web
// forms (the same decision and JSON as `rcptguard check --json`), /metrics for Prometheus
// and /healthz. It is thin: it turns requests into guard calls and decisions into JSON.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/metrics"
)

// Limits on one check request.
const (
	MaxBodyBytes  = 64 << 10
	MaxRecipients = 1000
)

// API serves the HTTP endpoints.
type API struct {
	Guard    *guard.Current
	Metrics  *metrics.Metrics // may be nil
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Ready, if set, is asked by /healthz whether the stores answer (the quarantine).
	Ready func(ctx context.Context) error
}

// Handler returns the routes.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/check", a.check)
	mux.HandleFunc("/api/v1/check", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "use POST with a JSON body such as {\"recipients\":[\"alice@army.ml\"]}")
	})
	mux.HandleFunc("GET /healthz", a.health)
	if a.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	}
	return mux
}

// checkRequest is the body of POST /api/v1/check: recipients, or one recipient.
type checkRequest struct {
	Recipients []string `json:"recipients"`
	Recipient  string   `json:"recipient"`
	Sender     string   `json:"sender"`
}

func (a *API) check(w http.ResponseWriter, r *http.Request) {
	g := a.Guard.Load()
	if g == nil {
		writeError(w, http.StatusServiceUnavailable, "rcptguard is starting; try again")
		return
	}
	var req checkRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "the body is not valid JSON of the form {\"recipients\":[...]}: "+err.Error())
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "the body has data after the JSON object")
		return
	}
	if req.Recipient != "" {
		req.Recipients = append(req.Recipients, req.Recipient)
	}
	switch {
	case len(req.Recipients) == 0:
		writeError(w, http.StatusBadRequest, "no recipients: send {\"recipients\":[\"alice@army.ml\"]}")
		return
	case len(req.Recipients) > MaxRecipients:
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("at most %d recipients in one request", MaxRecipients))
		return
	}
	start := time.Now()
	md := g.Inspect(guard.Envelope{Adapter: "http", Sender: req.Sender, ClientAddr: r.RemoteAddr, Recipients: req.Recipients})
	took := time.Since(start)
	b := make([]byte, 0, 512*len(md.Recipients))
	b = append(b, `{"verdict":`...)
	b = guard.AppendJSONString(b, md.Verdict.String())
	b = append(b, `,"recipients":[`...)
	for i, d := range md.Recipients {
		if i > 0 {
			b = append(b, ',')
		}
		b = d.AppendJSON(b)
		if a.Metrics != nil {
			a.Metrics.Observe("http", d, took/time.Duration(len(md.Recipients)))
		}
		if a.Logger != nil && d.Verdict != guard.Allow {
			a.Logger.Info("decision", "adapter", "http", "client", r.RemoteAddr, "recipient", d.Input,
				"verdict", d.Verdict.String(), "monitor", d.Monitor, "intended", strings.Join(d.Intended(), ","))
		}
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	if a.Guard.Load() == nil {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	if a.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		err := a.Ready(ctx)
		cancel()
		if err != nil {
			if a.Logger != nil {
				a.Logger.Error("health check", "err", err)
			}
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b := append([]byte(`{"error":`), guard.AppendJSONString(nil, msg)...)
	w.Write(append(b, "}\n"...))
}
