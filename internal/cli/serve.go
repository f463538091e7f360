package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rcptguard/rcptguard/internal/daemon"
)

func runServe(args []string, env Env) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgFile := fs.String("config", "", "read the YAML config `FILE` (default: built-in defaults, listeners on loopback)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: rcptguard serve [--config FILE]\n\nRuns the listeners the config enables. SIGHUP reloads the config; SIGTERM and SIGINT stop gracefully.\n\n")
		fs.PrintDefaults()
	}
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, nil))
	// Catch the signals before anything listens: a SIGHUP sent as soon as the listeners
	// are logged must reload, not kill the process (the default action).
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	d := &daemon.Daemon{ConfigPath: *cfgFile, Logger: logger}
	if err := d.Start(); err != nil {
		return fail(env, "%v", err)
	}
	code := ExitOK
	for running := true; running; {
		select {
		case s := <-sig:
			if s == syscall.SIGHUP {
				d.RequestReload() // never waits: SIGTERM is still heard during a long reload
				continue
			}
			logger.Info("stopping", "signal", s.String())
			running = false
		case err := <-d.Errors():
			logger.Error("listener failed", "err", err)
			code, running = ExitUsage, false
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Shutdown(ctx); err != nil {
		logger.Error("shutdown", "err", err)
	}
	return code
}
