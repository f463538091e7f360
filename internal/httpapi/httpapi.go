// Package httpapi is the HTTP door: POST /api/v1/check for mail-client add-ins and web
// forms (the same decision and JSON as `rcptguard check --json`, with content rules
// applied to a message the request may carry), /metrics for Prometheus and /healthz. It is thin: it turns requests into guard calls and decisions into JSON.
package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/metrics"
)

// API serves the HTTP endpoints.
type API struct {
	Guard    *guard.Current
	Metrics  *metrics.Metrics // may be nil
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Ready, if set, is asked by /healthz whether the stores answer (the quarantine).
	Ready func(ctx context.Context) error
	// Content, when set (content rules on), classifies the message a check request may
	// carry, and ContentRules apply what it carries to the decision (docs/content.md).
	Content      *content.Classifier
	ContentRules guard.ContentRules
	// MaxMessageBytes bounds the message a request carries (DefaultMaxMessageBytes
	// when 0); the request body may then be up to 64 KiB + twice that.
	MaxMessageBytes int64
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

func (a *API) check(w http.ResponseWriter, r *http.Request) {
	g := a.Guard.Load()
	if g == nil {
		writeError(w, http.StatusServiceUnavailable, "rcptguard is starting; try again")
		return
	}
	maxMessage := a.MaxMessageBytes
	if maxMessage <= 0 {
		maxMessage = DefaultMaxMessageBytes
	}
	req, msg, err := parseRequest(http.MaxBytesReader(w, r.Body, maxBody(maxMessage)+1), maxMessage)
	if err != nil {
		code := http.StatusBadRequest
		var re *requestError
		if errors.As(err, &re) {
			code = re.code
		}
		writeError(w, code, err.Error())
		return
	}
	start := time.Now()
	md := g.Inspect(guard.Envelope{Adapter: "http", Sender: req.Sender, ClientAddr: r.RemoteAddr, Recipients: req.Recipients})
	var cn contentNote
	if msg != nil {
		md, cn = a.applyContent(r.Context(), g, md, msg)
	}
	took := time.Since(start)
	if a.Metrics != nil && cn.checked {
		a.Metrics.ContentRead("http", md.Content, md.ContentSkipped)
	}
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
			attrs := []any{"adapter", "http", "client", r.RemoteAddr, "recipient", d.Input,
				"verdict", d.Verdict.String(), "monitor", d.Monitor, "intended", strings.Join(d.Intended(), ",")}
			if len(md.Content) > 0 {
				attrs = append(attrs, "content", strings.Join(md.Content, ",")) // category names only
			}
			a.Logger.Info("decision", attrs...)
		}
	}
	b = append(b, ']')
	if msg != nil {
		b = cn.appendJSON(b, md)
	}
	b = append(b, "}\n"...)
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
