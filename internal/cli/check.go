package cli

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/setup"
)

func runCheck(args []string, env Env) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var (
		cfgFile     = fs.String("config", "", "read the YAML config `FILE` (flags add to it)")
		protect     = fs.String("protect", "", "protect these domains; a leading dot is a namespace (`LIST`, comma-separated)")
		known       = fs.String("known", "", "known correspondents, one \"DOMAIN [COUNT]\" per line (`FILE`)")
		allow       = fs.String("allow", "", "never flag these domains or namespaces (`LIST`)")
		block       = fs.String("block", "", "refuse these domains or namespaces (`LIST`)")
		noProviders = fs.Bool("no-providers", false, "leave out the built-in list of major mailbox providers")
		asJSON      = fs.Bool("json", false, "print one JSON object per input")
	)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: rcptguard check [flags] [INPUT ...]\n\nINPUT is an address or a domain; with none, one per line is read from standard input.\nExit status: 0 all allowed, 1 some not allowed or invalid, 2 usage or configuration error.\n\n")
		fs.PrintDefaults()
	}
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	cfg := config.Default()
	if *cfgFile != "" {
		var err error
		if cfg, err = config.Load(*cfgFile); err != nil {
			return fail(env, "%v", err)
		}
	}
	for _, l := range []struct {
		flag, value string
		dst         *[]config.Entry
	}{{"--protect", *protect, &cfg.Protect}, {"--allow", *allow, &cfg.Allow}, {"--block", *block, &cfg.Block}} {
		if l.value == "" {
			continue
		}
		es, err := config.ParseList(l.value)
		if err != nil {
			return fail(env, "%s: %v", l.flag, err)
		}
		*l.dst = append(*l.dst, es...)
	}
	if *noProviders {
		cfg.Providers = false
	}
	if err := cfg.Validate(); err != nil {
		return fail(env, "%v", err)
	}
	var extra setup.Extra
	if *known != "" {
		extra.KnownFiles = append(extra.KnownFiles, *known)
	}
	g, err := setup.Guard(cfg, extra)
	if err != nil {
		return fail(env, "%v", err)
	}

	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	w := writer{out: out, json: *asJSON}
	flagged := false
	answer := func(input string) {
		d := g.Check(input)
		flagged = flagged || d.Verdict != guard.Allow
		w.write(d)
	}
	if fs.NArg() > 0 {
		for _, in := range fs.Args() {
			answer(in)
		}
	} else if err := eachLine(env.Stdin, out, answer); err != nil {
		out.Flush()
		fmt.Fprintf(env.Stderr, "rcptguard: reading standard input: %v\n", err)
		return ExitUsage
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(env.Stderr, "rcptguard: writing: %v\n", err)
		return ExitUsage
	}
	if flagged {
		return ExitFlagged
	}
	return ExitOK
}

// eachLine calls f for every non-blank line of r, in constant memory. A line longer than
// an address can be is answered as invalid, not read whole. Output is flushed whenever
// the input has nothing more buffered, so an interactive caller gets each answer as soon
// as its line is read.
func eachLine(r io.Reader, out *bufio.Writer, f func(string)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		if br.Buffered() == 0 {
			if err := out.Flush(); err != nil {
				return err
			}
		}
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// Far longer than any address: answer it as too long (unless it is blank) and
			// skip the rest without keeping it.
			head := make([]byte, 0, address.MaxInput+1)
			for {
				if len(head) == 0 {
					line = bytes.TrimLeft(line, " \t\r\n\v\f")
				}
				head = append(head, line[:min(len(line), cap(head)-len(head))]...)
				if err != bufio.ErrBufferFull {
					break
				}
				line, err = br.ReadSlice('\n')
			}
			if t := bytes.TrimSpace(head); len(t) > 0 {
				f(string(head))
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			f(string(t))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
