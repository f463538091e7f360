package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/history"
	"github.com/rcptguard/rcptguard/internal/maillog"
	"github.com/rcptguard/rcptguard/internal/setup"
)

const historyUsage = `Usage:
  rcptguard history import [--config FILE] LOGFILE ...
      seed the history with the mail a Postfix log (plain or gzip) shows was delivered
  rcptguard history show [--config FILE] [--sender ADDRESS] DOMAIN ...
      what the history knows about domains; with --sender, what that sender's own
      history knows (the mail that sender sent to each domain)

The history is data_dir/history.db of the config (default /var/lib/rcptguard with a
config, ./rcptguard-data without; docs/install.md), or, with quarantine.postgres set, the
PostgreSQL database every node shares. Lookalikes of protected or much more frequent
domains are never learned, however often they were mailed.
An import does not seed the senders' own histories: a log shows mail that went out, not
mail its sender confirmed.
`

func runHistory(args []string, env Env) int {
	if len(args) == 0 || (args[0] != "import" && args[0] != "show") {
		fmt.Fprint(env.Stderr, historyUsage)
		return ExitUsage
	}
	fs := flag.NewFlagSet("history "+args[0], flag.ContinueOnError)
	cfgFile := fs.String("config", "", "the YAML config `FILE` (for data_dir and what is protected)")
	sender := fs.String("sender", "", "show this sender's own history (`ADDRESS`)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), historyUsage) }
	if code, stop := parseFlags(fs, args[1:], env); stop {
		return code
	}
	if fs.NArg() == 0 {
		return fail(env, "history %s needs at least one argument", args[0])
	}
	if *sender != "" && args[0] != "show" {
		return fail(env, "--sender is for history show")
	}
	if *sender != "" {
		if _, err := history.NormalSender(*sender); err != nil {
			return fail(env, "--sender %q: %v", *sender, err)
		}
	}
	cfg := config.Default()
	if *cfgFile != "" {
		var err error
		if cfg, err = config.Load(*cfgFile); err != nil {
			return fail(env, "%v", err)
		}
	}
	ctx := context.Background()
	if cfg.Quarantine.Postgres == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fail(env, "data folder: %v", err)
		}
	}
	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	store, err := history.Open(openCtx, cfg.Quarantine.Postgres, filepath.Join(cfg.DataDir, "history.db"))
	cancel()
	if err != nil {
		return fail(env, "%v", err)
	}
	defer store.Close()
	if args[0] == "show" && *sender != "" {
		return senderShow(ctx, store, *sender, fs.Args(), env)
	}
	if args[0] == "show" {
		return historyShow(ctx, store, fs.Args(), env)
	}
	// The learner checks against what the organisation protects, already knows, and
	// what these logs show: a first pass tallies them (see maillog.Tally).
	known, err := store.Known(ctx)
	if err != nil {
		return fail(env, "%v", err)
	}
	counts := map[string]int64{}
	for _, path := range fs.Args() {
		if err := tally(ctx, path, counts); err != nil {
			return fail(env, "%v", err)
		}
	}
	for name, n := range counts {
		if d, err := address.ParseDomain(name); err == nil {
			known = append(known, engine.KnownDomain{Domain: d, Count: n})
		}
	}
	g, err := setup.Guard(cfg, setup.Extra{Known: known})
	if err != nil {
		return fail(env, "%v", err)
	}
	learner := &history.Learner{Store: store, Check: func(d address.Domain) engine.Result { return g.Engine().Check(d) }}
	code := ExitOK
	for _, path := range fs.Args() {
		r, err := maillog.Open(path)
		if err != nil {
			fmt.Fprintf(env.Stderr, "rcptguard: %v\n", err)
			return ExitUsage
		}
		opts := maillog.Options{}
		if fi, err := os.Stat(path); err == nil {
			opts.Now = fi.ModTime()
		}
		st, err := maillog.Import(ctx, r, opts, learner)
		r.Close()
		fmt.Fprintf(env.Stdout, "%s: %d lines, %d deliveries, %d learned, %d not learned (lookalikes), %d ignored, %d lines skipped\n",
			path, st.Lines, st.Deliveries, st.Learned, st.Refused, st.Ignored, st.Skipped)
		if err != nil {
			fmt.Fprintf(env.Stderr, "rcptguard: %s: %v\n", path, err)
			code = ExitUsage
		}
	}
	return code
}

func historyShow(ctx context.Context, store history.Store, names []string, env Env) int {
	code := ExitOK
	for _, n := range names {
		st, ok, err := store.Domain(ctx, n)
		switch {
		case err != nil:
			fmt.Fprintf(env.Stderr, "rcptguard: %s: %v\n", n, err)
			code = ExitUsage
		case !ok:
			fmt.Fprintf(env.Stdout, "%s  never recorded\n", n)
			code = max(code, ExitFlagged)
		default:
			fmt.Fprintf(env.Stdout, "%s  %d messages, from %d sender domains, first %s, last %s\n",
				st.Domain, st.Count, st.Senders, st.FirstSeen.Format("2006-01-02 15:04"), st.LastSeen.Format("2006-01-02 15:04"))
		}
	}
	return code
}

func senderShow(ctx context.Context, store history.Store, sender string, names []string, env Env) int {
	code := ExitOK
	for _, n := range names {
		st, ok, err := store.Sender(ctx, sender, n)
		switch {
		case err != nil:
			fmt.Fprintf(env.Stderr, "rcptguard: %s: %v\n", n, err)
			code = ExitUsage
		case !ok:
			fmt.Fprintf(env.Stdout, "%s  never recorded from %s\n", n, sender)
			code = max(code, ExitFlagged)
		default:
			fmt.Fprintf(env.Stdout, "%s  %d messages from %s, first %s, last %s\n", st.Domain, st.Count, st.Sender,
				st.FirstSeen.Format("2006-01-02 15:04"), st.LastSeen.Format("2006-01-02 15:04"))
		}
	}
	return code
}

// tally adds the deliveries of the log at path to counts.
func tally(ctx context.Context, path string, counts map[string]int64) error {
	r, err := maillog.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	opts := maillog.Options{}
	if fi, err := os.Stat(path); err == nil {
		opts.Now = fi.ModTime()
	}
	if err := maillog.Tally(ctx, r, opts, counts); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
