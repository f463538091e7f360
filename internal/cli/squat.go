package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/history"
	"github.com/rcptguard/rcptguard/internal/setup"
	"github.com/rcptguard/rcptguard/internal/squat"
)

const squatUsage = `Usage: rcptguard squat [flags] [DOMAIN ...]

Generates every lookalike of each DOMAIN (default: the config's own and protected
domains, and with --known-top N the N known correspondents with the most mail), looks
each up in DNS and reports which are registered and can receive mail, at which MX hosts,
and which MX hosts serve many lookalikes (catch-all farms). With --watch every answer is
kept (watch.db in the data folder, or the quarantine's PostgreSQL) and the report says
what changed since the last watch run; --notify mails the changes. docs/squat.md.
Exit status: 0 no registered lookalike can receive mail, 1 some can, 2 usage,
configuration or DNS error (no lookup answered: no report is written).

`

func runSquat(args []string, env Env) int {
	fs := flag.NewFlagSet("squat", flag.ContinueOnError)
	var (
		cfgFile     = fs.String("config", "", "the YAML config `FILE` (its own and protected domains, its known file)")
		resolver    = fs.String("resolver", "", "ask the DNS server at `ADDR` (host or host:port; default: the servers of /etc/resolv.conf)")
		rate        = fs.Float64("rate", 0, "at most `N` DNS queries a second in all (0: no limit)")
		concurrency = fs.Int("concurrency", 32, "look up `N` lookalikes at once")
		format      = fs.String("format", "text", "the report's `FORMAT`: text, json, csv or html")
		outFile     = fs.String("o", "", "write the report to `FILE` instead of standard output")
		progress    = fs.String("progress", "auto", "progress on standard error: auto (on a terminal), always or never")
		knownTop    = fs.Int("known-top", 0, "also the `N` known correspondents with the most mail (known file and history)")
		wide        = fs.Bool("wide", false, "generate the wider set of lookalikes (at least dnstwist's)")
		farmMin     = fs.Int("farm-min", 3, "an MX host serving `N` lookalikes or more is a catch-all farm")
		exportBlock = fs.String("export-block", "", "write the lookalikes that can receive mail to `FILE` as a config block list")
		watchFlag   = fs.Bool("watch", false, "keep every answer in the data folder (or the quarantine's PostgreSQL) and report what changed since the last --watch run")
		notify      = fs.String("notify", "", "with --watch: mail the changes to `ADDR` through the notices' smarthost (none when nothing changed)")
		keepDays    = fs.Int("keep-days", watchKeepDays, "with --watch: delete the runs older than `N` days and the domains not answered for since (0: keep everything)")
	)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), squatUsage)
		fs.PrintDefaults()
	}
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	write := map[string]func(io.Writer, squat.Report) error{"text": squat.WriteText, "json": squat.WriteJSON,
		"csv": squat.WriteCSV, "html": squat.WriteHTML}[*format]
	if write == nil {
		return fail(env, "--format: %q is not text, json, csv or html", *format)
	}
	showProgress, err := progressFlag(*progress, env.Stderr)
	if err != nil {
		return fail(env, "%v", err)
	}
	switch {
	case *concurrency < 1 || *concurrency > 4096:
		return fail(env, "--concurrency: %d is not between 1 and 4096", *concurrency)
	case *rate < 0:
		return fail(env, "--rate: %g is negative", *rate)
	case *farmMin < 1:
		return fail(env, "--farm-min: %d is less than 1", *farmMin)
	case *knownTop < 0:
		return fail(env, "--known-top: %d is negative", *knownTop)
	case *notify != "" && !*watchFlag:
		return fail(env, "--notify needs --watch: only a watch run knows what changed")
	case *keepDays < 0 || *keepDays > maxKeepDays:
		return fail(env, "--keep-days: %d is not between 0 and %d", *keepDays, maxKeepDays)
	}

	cfg := config.Default()
	if *cfgFile != "" {
		if cfg, err = config.Load(*cfgFile); err != nil {
			return fail(env, "%v", err)
		}
	}
	targets, err := squatTargets(cfg, fs.Args(), *knownTop)
	if err != nil {
		return fail(env, "%v", err)
	}
	if len(targets) == 0 {
		return fail(env, "no domain to look at: name a DOMAIN, or give a --config with own_domains or protect")
	}
	servers, err := squatServers(*resolver)
	if err != nil {
		return fail(env, "%v", err)
	}
	res, err := dnsq.New(dnsq.Config{Servers: servers, Rate: *rate})
	if err != nil {
		return fail(env, "%v", err)
	}

	// Open the output before asking DNS for minutes, so that a wrong path fails at once.
	out, err := openReport(*outFile, env.Stdout)
	if err != nil {
		return fail(env, "%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := squat.Options{Concurrency: *concurrency, Wide: *wide, FarmMin: *farmMin, Shared: cfg.DNS.Shared()}
	var wt *squatWatch
	if *watchFlag {
		if wt, err = openSquatWatch(ctx, cfg, *notify); err != nil {
			out.abandon()
			return fail(env, "%v", err)
		}
		defer wt.close()
		opts.OnResult = wt.add
	}
	if showProgress {
		opts.Progress = squat.NewProgress(env.Stderr, time.Second)
	}
	report, err := squat.Run(ctx, targets, res, opts)
	if opts.Progress != nil {
		opts.Progress.Stop()
	}
	if err != nil {
		out.abandon()
		if errors.Is(err, squat.ErrNoAnswer) {
			return fail(env, "%v\nIs the resolver %s reachable? No report: a lookup without an answer says nothing about a lookalike.",
				err, strings.Join(servers, ", "))
		}
		return fail(env, "%v", err)
	}
	report.Resolver = strings.Join(servers, ", ")
	if wt != nil {
		if err := wt.record(ctx, targets, res, &report, time.Now()); err != nil {
			out.abandon()
			return fail(env, "%v", err)
		}
	}

	if err := out.write(func(w io.Writer) error { return write(w, report) }); err != nil {
		return fail(env, "writing the report: %v", err)
	}
	if *exportBlock != "" {
		data, err := squat.BlockList(report)
		if err == nil {
			err = os.WriteFile(*exportBlock, data, 0o644)
		}
		if err != nil {
			return fail(env, "--export-block: %v", err)
		}
	}
	if wt != nil {
		if err := wt.mail(ctx, time.Now()); err != nil {
			return fail(env, "%v (the report has the changes; the next --notify run mails them)", err)
		}
		if err := wt.prune(ctx, time.Now(), *keepDays); err != nil {
			return fail(env, "%v", err)
		}
	}
	if report.Totals.CanReceive > 0 {
		return ExitFlagged
	}
	return ExitOK
}

// squatTargets are the domains named, or the config's.
func squatTargets(cfg config.Config, args []string, knownTop int) ([]squat.Target, error) {
	if knownTop == 0 {
		cfg.KnownFile = "" // a million known domains, read for nothing
	}
	in, err := setup.Inputs(cfg, setup.Extra{})
	if err != nil {
		return nil, err
	}
	if knownTop > 0 {
		known, err := historyKnown(cfg)
		if err != nil {
			return nil, fmt.Errorf("--known-top: %w", err)
		}
		in.Known = append(in.Known, known...)
	}
	if len(args) == 0 {
		return squat.ConfigTargets(in, knownTop), nil
	}
	var ts []squat.Target
	seen := map[string]bool{}
	for _, a := range args {
		d, err := address.ParseDomain(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		if !seen[d.ASCII] {
			seen[d.ASCII] = true
			ts = append(ts, squat.Target{Domain: d, Why: "argument"})
		}
	}
	for _, k := range squat.TopKnown(in.Known, knownTop, seen) {
		ts = append(ts, squat.Target{Domain: k.Domain, Why: fmt.Sprintf("known (%d messages)", k.Count)})
	}
	return ts, nil
}

// historyKnown are the known domains of the config's history (PostgreSQL when configured,
// else data_dir/history.db when it exists; none otherwise: squat creates no history).
func historyKnown(cfg config.Config) ([]engine.KnownDomain, error) {
	path := filepath.Join(cfg.DataDir, "history.db")
	if cfg.Quarantine.Postgres == "" {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := history.Open(ctx, cfg.Quarantine.Postgres, path)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	return store.Known(ctx)
}

// squatServers is --resolver as host:port (port 53 by default), or the system's.
func squatServers(resolver string) ([]string, error) {
	if resolver == "" {
		s, err := dnsq.SystemServers("/etc/resolv.conf")
		if err != nil {
			return nil, fmt.Errorf("the system's resolver: %w (give one with --resolver)", err)
		}
		return s, nil
	}
	if _, _, err := net.SplitHostPort(resolver); err == nil {
		return []string{resolver}, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(resolver, "["), "]")
	if host == "" || strings.ContainsAny(host, " /") {
		return nil, fmt.Errorf("--resolver: %q is not a host or host:port", resolver)
	}
	return []string{net.JoinHostPort(host, "53")}, nil
}

// progressFlag reads --progress: whether to show progress on w.
func progressFlag(v string, w io.Writer) (bool, error) {
	switch v {
	case "auto":
		return isTerminal(w), nil
	case "always":
		return true, nil
	case "never":
		return false, nil
	}
	return false, fmt.Errorf("--progress: %q is not auto, always or never", v)
}
