// Package panics keeps a panic in the goroutine that serves one connection from ending
// the daemon: the panic is logged with its stack and counted, the connection is closed,
// and every other connection and listener goes on. It owns no goroutine and decides
// nothing; each listener defers a recover and hands what it caught to Report.
package panics

import (
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Report logs the value p recovered from a panic while serving a connection of
// listener, with the stack, and calls count (when set). The caller closes the connection.
func Report(log *slog.Logger, listener string, p any, count func()) {
	if log != nil {
		log.Error("panic while serving a connection; closed it, the daemon goes on",
			"listener", listener, "panic", p, "stack", string(debug.Stack()))
	}
	if count != nil {
		count()
	}
}

// Handler recovers a panic in h: it is reported and the request's connection is
// aborted (the client sees the connection close), instead of net/http's own log line.
// http.ErrAbortHandler, which handlers use to abort on purpose, passes through uncounted.
func Handler(log *slog.Logger, listener string, count func(), h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p != http.ErrAbortHandler {
					Report(log, listener, p, count)
				}
				panic(http.ErrAbortHandler)
			}
		}()
		h.ServeHTTP(w, r)
	})
}
