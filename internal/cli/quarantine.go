package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

const quarantineUsage = `Usage:
  rcptguard quarantine list [--state STATE] [--search TEXT] [--limit N] [--json]
      the held (or other) messages, newest first; STATE is held (the default),
      released-as-addressed, released-corrected, discarded, expired or all
  rcptguard quarantine show [--raw] [--json] ID
      one message: envelope, recipients and findings, delivery, notice, audit events;
      --raw writes the message exactly as received
  rcptguard quarantine release [--correct] ID
      send a held message as addressed, or with --correct to the suggested domains
  rcptguard quarantine discard ID
      do not send a held message
  rcptguard quarantine retry ID
      re-inject a released message whose delivery failed or whose outcome is unknown
  rcptguard quarantine purge [--older-than DURATION]
      delete the content of messages decided or expired before then (e.g. 30d, 12h;
      default quarantine.purge_after); held messages are never purged

Every command takes --config FILE (-c) and --db PATH. The database is
data_dir/quarantine.db of the config (default /var/lib/rcptguard with a config,
./rcptguard-data without); --db overrides it.
A running "rcptguard serve" re-injects what is released here within seconds.
Exit status: 0 done, 1 unknown message or already handled, 2 usage or configuration error.
`

// quarantineCmds are the subcommands of `rcptguard quarantine`.
var quarantineCmds = map[string]qcmdFunc{
	"list":    quarantineList,
	"show":    quarantineShow,
	"release": quarantineRelease,
	"discard": quarantineDiscard,
	"retry":   quarantineRetry,
	"purge":   quarantinePurge,
}

// qcmd is what every quarantine subcommand shares: its streams, config and store.
type qcmd struct {
	env     Env
	name    string
	cfgFile string
	dbPath  string
	cfg     config.Config
	store   quarantine.Store
	where   string // the database, for messages
	// group and arg name the command and its one argument in usage errors: "quarantine"
	// and "message ID" when empty.
	group, arg string
}

func runQuarantine(args []string, env Env) int {
	return runStoreCommand(args, env, storeGroup{name: "quarantine", usage: quarantineUsage, cmds: quarantineCmds,
		config: "the YAML config `FILE` (for data_dir)"})
}

// qcmdFunc is one subcommand of a group that works on the quarantine's database.
type qcmdFunc = func(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int

// storeGroup is a command whose subcommands work on the quarantine's database
// (quarantine, trust): their usage, and the flags they share.
type storeGroup struct {
	name, usage string
	cmds        map[string]qcmdFunc
	config      string // the help of --config
	// arg names the one argument in usage errors; "" for the quarantine's message ID.
	group, arg string
}

// runStoreCommand picks the subcommand of g that args name and runs it with the flags
// every such subcommand takes: --config (-c) and --db.
func runStoreCommand(args []string, env Env, g storeGroup) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, g.usage)
		return ExitUsage
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(env.Stdout, g.usage)
		return ExitOK
	}
	cmd, ok := g.cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "rcptguard: unknown %s command %q\n\n%s", g.name, args[0], g.usage)
		return ExitUsage
	}
	q := &qcmd{env: env, name: args[0], group: g.group, arg: g.arg}
	fs := flag.NewFlagSet(g.name+" "+args[0], flag.ContinueOnError)
	fs.StringVar(&q.cfgFile, "config", "", g.config)
	fs.StringVar(&q.cfgFile, "c", "", "short for --config")
	fs.StringVar(&q.dbPath, "db", "", "the quarantine database `PATH` (default data_dir/quarantine.db)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), g.usage, "\nFlags of "+g.name+" "+args[0]+":\n")
		fs.PrintDefaults()
	}
	return cmd(context.Background(), q, fs, args[1:])
}

// parse parses the subcommand's flags, which may come before or after its arguments, and
// checks it got want arguments; it reports an exit status when the command should stop.
func (q *qcmd) parse(fs *flag.FlagSet, args []string, want int) ([]string, int, bool) {
	fs.SetOutput(q.env.Stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, ExitOK, true
			}
			return nil, ExitUsage, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != want {
		group, arg := q.group, q.arg
		if group == "" {
			group, arg = "quarantine", "message ID"
		}
		switch want {
		case 0:
			return nil, fail(q.env, "%s %s takes no arguments (got %q)", group, q.name, strings.Join(pos, " ")), true
		default:
			return nil, fail(q.env, "%s %s needs exactly one %s", group, q.name, arg), true
		}
	}
	return pos, 0, false
}

// open loads the config and opens the quarantine database. It refuses to create one: a
// missing database means a wrong --config or --db, not an empty quarantine.
func (q *qcmd) open() (int, bool) {
	q.cfg = config.Default()
	if q.cfgFile != "" {
		var err error
		if q.cfg, err = config.Load(q.cfgFile); err != nil {
			return fail(q.env, "%v", err), true
		}
	}
	path, dsn := q.dbPath, ""
	q.where = path
	switch {
	case path == "" && q.cfg.Quarantine.Postgres != "":
		dsn, q.where = q.cfg.Quarantine.Postgres, "the PostgreSQL quarantine"
	case path == "" && q.cfg.DataDir == "":
		return fail(q.env, "no data_dir in the config: give the database with --db"), true
	case path == "":
		path = filepath.Join(q.cfg.DataDir, quarantine.FileName)
		q.where = path
	}
	if dsn == "" {
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fail(q.env, "no quarantine database at %s (check --config or --db)", path), true
			}
			return fail(q.env, "%v", err), true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := quarantine.Open(ctx, dsn, path)
	if err != nil {
		return fail(q.env, "%v", err), true
	}
	q.store = store
	return 0, false
}

func (q *qcmd) close() {
	if q.store != nil {
		q.store.Close()
	}
}

// actor is who acts from the command line: "cli:" and the login name.
func actor() string {
	u := os.Getenv("USER")
	if u == "" {
		u = os.Getenv("LOGNAME")
	}
	if u == "" {
		u = "unknown"
	}
	return "cli:" + u
}

// failMessage reports an error about message id: unknown, or already handled, are exit
// status 1; anything else is the store's trouble (2).
func (q *qcmd) failMessage(id string, err error) int {
	var ce *quarantine.ConflictError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintf(q.env.Stderr, "rcptguard: message %s was already handled: it is %s, not held; nothing was changed\n", id, ce.Current)
		return ExitFlagged
	case errors.Is(err, quarantine.ErrNotFound):
		fmt.Fprintf(q.env.Stderr, "rcptguard: no message %s in %s\n", id, q.where)
		return ExitFlagged
	}
	return fail(q.env, "%s: %v", id, err)
}

func quarantineRelease(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	correct := fs.Bool("correct", false, "send to the suggested domains instead of the flagged ones")
	return q.decide(ctx, fs, args, func() held.Choice {
		if *correct {
			return held.Correct
		}
		return held.Release
	})
}

func quarantineDiscard(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	return q.decide(ctx, fs, args, func() held.Choice { return held.Discard })
}

// held is the held-message workflow on the command's store, with the configuration's
// settings, as `rcptguard serve` builds it: the commands decide through the same service as
// the pages. The running serve does the rest (re-injection, notices), from the store.
func (q *qcmd) held() *held.Service {
	// The commands send nothing: a password file they cannot read does not stop them.
	st, _ := held.SettingsFrom(q.cfg)
	return &held.Service{Store: q.store, Settings: st}
}

// decide carries out the choice (read after the flags are parsed) about the message.
func (q *qcmd) decide(ctx context.Context, fs *flag.FlagSet, args []string, choice func() held.Choice) int {
	pos, code, stop := q.parse(fs, args, 1)
	if stop {
		return code
	}
	if code, stop := q.open(); stop {
		return code
	}
	defer q.close()
	id, c, who := pos[0], choice(), actor()
	if c == held.Correct {
		// Say why up front rather than with the service's generic error.
		m, err := q.store.Get(ctx, id)
		if err != nil {
			return q.failMessage(id, err)
		}
		if m.State == quarantine.Held && !held.Correctable(m) {
			fmt.Fprintf(q.env.Stderr, "rcptguard: message %s has no suggested domain to correct to; release it as addressed or discard it\n", id)
			return ExitFlagged
		}
	}
	if err := q.held().Decide(ctx, id, c, who, "cli"); err != nil {
		return q.failMessage(id, err)
	}
	m, err := q.store.Get(ctx, id)
	if err != nil {
		return fail(q.env, "%s: recorded, but reading it back failed: %v", id, err)
	}
	note := ""
	if evs, err := q.store.Audit(ctx, id); err == nil && len(evs) > 0 {
		note = evs[len(evs)-1].Note
	}
	out := q.env.Stdout
	fmt.Fprintf(out, "%s: %s by %s", id, m.State, who)
	if note != "" {
		fmt.Fprintf(out, " (%s)", printable(note))
	}
	fmt.Fprintln(out)
	if c == held.Discard {
		fmt.Fprintln(out, "The message will not be sent.")
		return ExitOK
	}
	fmt.Fprintf(out, "Release to: %s\n", printable(strings.Join(m.ReleaseTo, ", ")))
	fmt.Fprintf(out, "The running `rcptguard serve` re-injects it within seconds; check with `rcptguard quarantine show %s`.\n", id)
	return ExitOK
}

func quarantineRetry(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	pos, code, stop := q.parse(fs, args, 1)
	if stop {
		return code
	}
	if code, stop := q.open(); stop {
		return code
	}
	defer q.close()
	id := pos[0]
	if err := q.held().Retry(ctx, id, actor(), "cli"); err != nil {
		if errors.Is(err, quarantine.ErrDeliveryState) {
			d := "none"
			if m, err := q.store.Get(ctx, id); err == nil {
				d = deliveryName(m.Delivery)
			}
			fmt.Fprintf(q.env.Stderr, "rcptguard: message %s cannot be retried: its delivery is %s; only a failed or unknown delivery can be\n", id, d)
			return ExitFlagged
		}
		return q.failMessage(id, err)
	}
	fmt.Fprintf(q.env.Stdout, "%s: delivery pending again (retried by %s)\nThe running `rcptguard serve` re-injects it within seconds.\n", id, actor())
	return ExitOK
}

func quarantinePurge(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	olderThan := fs.String("older-than", "", "purge what was decided or expired more than `DURATION` ago (30d, 12h, ...; default quarantine.purge_after)")
	if _, code, stop := q.parse(fs, args, 0); stop {
		return code
	}
	var d time.Duration
	if *olderThan != "" {
		var err error
		if d, err = parseAge(*olderThan); err != nil {
			return fail(q.env, "--older-than: %v", err)
		}
	}
	if code, stop := q.open(); stop {
		return code
	}
	defer q.close()
	if *olderThan == "" {
		if d = q.cfg.Quarantine.PurgeAfter; d <= 0 {
			d = config.DefaultPurgeAfter
		}
	}
	before := time.Now().Add(-d).UTC()
	n, err := q.store.Purge(ctx, before)
	if err != nil {
		return fail(q.env, "%v", err)
	}
	fmt.Fprintf(q.env.Stdout, "purged %d messages decided or expired before %s UTC (held messages are never purged; audit events are kept)\n",
		n, before.Format("2006-01-02 15:04"))
	return ExitOK
}

// parseAge reads a duration such as "30d", "36h" or "90m": Go's durations with days.
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(n * 24 * float64(time.Hour))
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration (30d, 12h, 90m)", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}
