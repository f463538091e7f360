package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/scan"
	"github.com/rcptguard/rcptguard/internal/setup"
)

func runScan(args []string, env Env) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	var (
		cfgFile   = fs.String("config", "", "decide with the policy of the YAML config `FILE`")
		sinceS    = fs.String("since", "", "count only mail from `DATE` on (YYYY-MM-DD or RFC 3339)")
		untilS    = fs.String("until", "", "count only mail before the end of `DATE` (YYYY-MM-DD) or before an RFC 3339 time")
		format    = fs.String("format", "text", "the report's `FORMAT`: text, json, csv, html, or csv-messages (the flagged messages and their content, with --content)")
		aliases   = fs.Bool("aliases", false, "read every SOURCE as forwards and aliases (alias and virtual maps, .forward, Sieve redirect, member lists)")
		outFile   = fs.String("o", "", "write the report to `FILE` instead of standard output")
		progress  = fs.String("progress", "auto", "progress on standard error: auto (on a terminal), always or never")
		redact    = fs.Bool("redact-senders", false, "replace senders' local parts by a keyed hash")
		redactKey = fs.String("redact-key", "", "the hash's key, read from `FILE` (default: a random key per run)")
		contentS  = fs.String("content", "auto", "classify the content of flagged messages in mail archives (mbox, Maildir, .eml): auto (when the config has content.enabled), on or off")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: rcptguard scan [flags] SOURCE ...\n\nSOURCE is a mail log, an export or an archive (a file, a directory, or - for standard input),\nplain or compressed (gzip, bzip2, xz, zstd); its format is told by its content: %s.\nExit status: 0 nothing flagged, 1 mail to lookalike domains found, 2 usage, configuration or source error.\n\n", scan.FormatNames())
		fs.PrintDefaults()
	}
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return ExitUsage
	}
	var since, until time.Time
	var err error
	if *sinceS != "" {
		if since, err = scan.ParseDate(*sinceS, false); err != nil {
			return fail(env, "--since: %v", err)
		}
	}
	if *untilS != "" {
		if until, err = scan.ParseDate(*untilS, true); err != nil {
			return fail(env, "--until: %v", err)
		}
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return fail(env, "--since %s is not before --until %s", *sinceS, *untilS)
	}
	write := map[string]func(io.Writer, scan.Report) error{"text": scan.WriteText, "json": scan.WriteJSON, "csv": scan.WriteCSV,
		"html": scan.WriteHTML, "csv-messages": scan.WriteMessagesCSV}[*format]
	if write == nil {
		return fail(env, "--format: %q is not text, json, csv, html or csv-messages", *format)
	}
	switch *contentS {
	case "auto", "on", "off":
	default:
		return fail(env, "--content: %q is not auto, on or off", *contentS)
	}
	var showProgress bool
	if showProgress, err = progressFlag(*progress, env.Stderr); err != nil {
		return fail(env, "%v", err)
	}
	var redactor func(string) string
	if *redactKey != "" && !*redact {
		return fail(env, "--redact-key is for --redact-senders")
	}
	if *redact {
		var key []byte
		if *redactKey != "" {
			if key, err = os.ReadFile(*redactKey); err != nil {
				return fail(env, "--redact-key: %v", err)
			}
			if len(key) < 16 {
				return fail(env, "--redact-key: %s holds %d bytes; a key needs at least 16", *redactKey, len(key))
			}
		}
		redactor = scan.NewRedactor(key)
	}
	stdinUses := 0
	for _, s := range fs.Args() {
		if s == "-" {
			stdinUses++
		}
	}
	if stdinUses > 1 {
		return fail(env, "standard input (-) can be read only once")
	}

	cfg := config.Default()
	if *cfgFile != "" {
		if cfg, err = config.Load(*cfgFile); err != nil {
			return fail(env, "%v", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return fail(env, "%v", err)
	}
	g, err := setup.Guard(cfg, setup.Extra{})
	if err != nil {
		return fail(env, "%v", err)
	}

	// Open the output before reading for hours, so that a wrong path fails at once.
	out, err := openReport(*outFile, env.Stdout)
	if err != nil {
		return fail(env, "%v", err)
	}

	tally := scan.NewTally(g, since, until)
	ro := scan.RunOptions{Stdin: env.Stdin}
	if *contentS == "on" || *contentS == "auto" && cfg.Content.Enabled {
		// The configuration's content settings (limits, markings, custom categories) and
		// rules, even when content.enabled is off (docs/scan.md, "Content").
		if ro.Content, err = content.New(cfg.Content.ClassifierConfig()); err != nil {
			return fail(env, "content: %v", err)
		}
		tally.ContentRules = cfg.Content.Rules()
	} else if *format == "csv-messages" {
		return fail(env, "--format csv-messages lists the content of the flagged messages: it needs --content on, or content.enabled in the configuration")
	}
	if *aliases {
		ro.Force = &scan.AliasesFormat
	}
	if showProgress {
		ro.Progress = scan.NewProgress(env.Stderr, time.Second)
	}
	results := scan.Run(fs.Args(), tally, ro)
	if ro.Progress != nil {
		ro.Progress.Stop()
	}
	report := scan.Build(tally, results, scan.Options{Since: since, Until: until, Redact: redactor})

	if err := out.write(func(w io.Writer) error { return write(w, report) }); err != nil {
		return fail(env, "writing the report: %v", err)
	}
	code := ExitOK
	if report.Totals.FlaggedDomains > 0 {
		code = ExitFlagged
	}
	for _, s := range results {
		if s.Error != "" {
			fmt.Fprintf(env.Stderr, "rcptguard: %s\n", s.Error)
			code = ExitUsage
		}
	}
	return code
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
