package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/setup"
	"github.com/rcptguard/rcptguard/internal/trust"
)

const trustUsage = `Usage:
  rcptguard trust add [--note TEXT] [--force] DOMAIN
      trust DOMAIN for every sender of the organisation: mail to it is allowed. A
      lookalike of a protected domain or namespace, or a blocked domain, is refused
      with the reason unless --force is given
  rcptguard trust remove [--note TEXT] DOMAIN
      withdraw the trust of DOMAIN
  rcptguard trust list [--json]
      the trusted domains: since when, by whom, from where, the note
  rcptguard trust proposals [--json]
      the domains that learning.propose_after distinct senders confirmed on the
      validation page, not trusted yet

Every command takes --config FILE (-c) and --db PATH, as "rcptguard quarantine" does:
the trust is kept in the quarantine's database. Changes are recorded in the trust audit
log as cli:$USER; a running "rcptguard serve" applies them within 15 seconds (at once
when made on the admin page). Messages already held are not released by a trust.
Exit status: 0 done, 1 refused (a protected lookalike without --force, already
trusted, not trusted), 2 usage or configuration error.
`

// trustCmds are the subcommands of `rcptguard trust`.
var trustCmds = map[string]qcmdFunc{
	"add":       trustAdd,
	"remove":    trustRemove,
	"list":      trustList,
	"proposals": trustProposals,
}

func runTrust(args []string, env Env) int {
	return runStoreCommand(args, env, storeGroup{name: "trust", usage: trustUsage, cmds: trustCmds,
		config: "the YAML config `FILE` (for data_dir and the detection settings)", group: "trust", arg: "domain"})
}

// trustService opens the store and builds the trust workflow with the configuration's
// guard (without the history: it decides only whether a domain looks like a protected
// or blocked one, which the configuration says).
func (q *qcmd) trustService() (*trust.Service, int, bool) {
	if code, stop := q.open(); stop {
		return nil, code, true
	}
	ts, ok := q.store.(quarantine.TrustStore)
	if !ok {
		q.close()
		return nil, fail(q.env, "%s keeps no trusted domains", q.where), true
	}
	g, err := setup.Guard(q.cfg, setup.Extra{})
	if err != nil {
		q.close()
		return nil, fail(q.env, "%v", err), true
	}
	return &trust.Service{Store: ts, Decide: g.Decide, ProposeAfter: q.cfg.Learning.ProposeAfter}, 0, false
}

// withTrust parses a trust subcommand's flags and its one domain argument, opens the
// trust workflow and runs f with it, closing the store afterwards.
func (q *qcmd) withTrust(fs *flag.FlagSet, args []string, f func(svc *trust.Service, domain string) int) int {
	pos, code, stop := q.parse(fs, args, 1)
	if stop {
		return code
	}
	svc, code, stop := q.trustService()
	if stop {
		return code
	}
	defer q.close()
	return f(svc, pos[0])
}

func trustAdd(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	note := fs.String("note", "", "why the domain is legitimate (recorded in the trust audit log)")
	force := fs.Bool("force", false, "trust it even if it looks like a protected domain or is blocked")
	return q.withTrust(fs, args, func(svc *trust.Service, domain string) int { return q.trustAdd(ctx, svc, domain, *note, *force) })
}

func (q *qcmd) trustAdd(ctx context.Context, svc *trust.Service, domain, note string, force bool) int {
	who := actor()
	a, err := svc.Add(ctx, domain, who, "cli", note, force)
	var re *trust.RefusedError
	switch {
	case errors.As(err, &re):
		fmt.Fprintf(q.env.Stderr, "rcptguard: %s.\nNothing was changed; give --force to trust it all the same.\n", printable(err.Error()))
		return ExitFlagged
	case errors.Is(err, quarantine.ErrAlreadyTrusted):
		fmt.Fprintf(q.env.Stderr, "rcptguard: %s is trusted already; nothing was changed\n", a.Domain.Display)
		return ExitFlagged
	case errors.Is(err, trust.ErrBadDomain):
		return fail(q.env, "trust add: %s", printable(err.Error()))
	case err != nil:
		return fail(q.env, "%v", err)
	}
	out := q.env.Stdout
	fmt.Fprintf(out, "%s: trusted by %s", a.Domain.Display, who)
	if a.Dangerous {
		fmt.Fprintf(out, " despite the warning (%s)", printable(a.Why))
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Mail to it is allowed for every sender; a running `rcptguard serve` applies this within 15 seconds.")
	fmt.Fprintln(out, "Messages already held for it stay held: release them with `rcptguard quarantine release`.")
	return ExitOK
}

func trustRemove(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	note := fs.String("note", "", "why the trust is withdrawn (recorded in the trust audit log)")
	return q.withTrust(fs, args, func(svc *trust.Service, domain string) int { return q.trustRemove(ctx, svc, domain, *note) })
}

func (q *qcmd) trustRemove(ctx context.Context, svc *trust.Service, domain, note string) int {
	who := actor()
	err := svc.Remove(ctx, domain, who, "cli", note)
	switch {
	case errors.Is(err, quarantine.ErrNotTrusted):
		fmt.Fprintf(q.env.Stderr, "rcptguard: %s is not trusted; nothing was changed\n", printable(domain))
		return ExitFlagged
	case errors.Is(err, trust.ErrBadDomain):
		return fail(q.env, "trust remove: %s", printable(err.Error()))
	case err != nil:
		return fail(q.env, "%v", err)
	}
	fmt.Fprintf(q.env.Stdout, "%s: trust withdrawn by %s\n", printable(strings.ToLower(domain)), who)
	return ExitOK
}

// trustedJSON is a trusted domain in `trust list --json`.
type trustedJSON struct {
	Domain string `json:"domain"`
	At     string `json:"trusted_at"`
	Actor  string `json:"actor"`
	Remote string `json:"remote"`
	Note   string `json:"note"`
	Forced bool   `json:"forced"`
}

func trustList(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	asJSON := fs.Bool("json", false, "print one JSON object per domain")
	if _, code, stop := q.parse(fs, args, 0); stop {
		return code
	}
	svc, code, stop := q.trustService()
	if stop {
		return code
	}
	defer q.close()
	l, err := svc.List(ctx)
	if err != nil {
		return fail(q.env, "%v", err)
	}
	out := bufio.NewWriter(q.env.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for _, t := range l {
		if *asJSON {
			enc.Encode(trustedJSON{Domain: t.Domain, At: *jsonTime(t.At), Actor: t.Actor, Remote: t.Remote, Note: t.Note, Forced: t.Forced})
			continue
		}
		note := t.Note
		if t.Forced {
			note = strings.TrimSpace("(despite a warning) " + note)
		}
		fmt.Fprintf(out, "%s  %s  %s  %s  %s\n", t.Domain, t.At.UTC().Format("2006-01-02 15:04 UTC"),
			printable(t.Actor), printable(orDash(t.Remote)), printable(orDash(note)))
	}
	return ExitOK
}

// proposalJSON is a proposal in `trust proposals --json`.
type proposalJSON struct {
	Domain   string   `json:"domain"`
	Senders  int      `json:"senders"`
	First    string   `json:"first_confirmed"`
	Last     string   `json:"last_confirmed"`
	Intended []string `json:"intended"`
}

func trustProposals(ctx context.Context, q *qcmd, fs *flag.FlagSet, args []string) int {
	asJSON := fs.Bool("json", false, "print one JSON object per proposal")
	if _, code, stop := q.parse(fs, args, 0); stop {
		return code
	}
	svc, code, stop := q.trustService()
	if stop {
		return code
	}
	defer q.close()
	l, err := svc.Proposals(ctx, 0)
	if err != nil {
		return fail(q.env, "%v", err)
	}
	out := bufio.NewWriter(q.env.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for _, p := range l {
		if *asJSON {
			enc.Encode(proposalJSON{Domain: p.Domain, Senders: p.Senders, First: *jsonTime(p.First), Last: *jsonTime(p.Last),
				Intended: nonNil(p.Assessment.Intended)})
			continue
		}
		fmt.Fprintf(out, "%s  %d senders  first %s  last %s", p.Domain, p.Senders,
			p.First.UTC().Format("2006-01-02 15:04"), p.Last.UTC().Format("2006-01-02 15:04"))
		if len(p.Assessment.Intended) > 0 {
			fmt.Fprintf(out, "  looks like %s", strings.Join(p.Assessment.Intended, ", "))
		}
		fmt.Fprintln(out)
	}
	return ExitOK
}
