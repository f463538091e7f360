package cli

import (
	"bufio"
	"flag"
	"fmt"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
)

func runPermute(args []string, env Env) int {
	fs := flag.NewFlagSet("permute", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per lookalike")
	techs := fs.String("techniques", "", "only these techniques (`LIST`, comma-separated; default all)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: rcptguard permute [--json] [--techniques LIST] DOMAIN ...\n\nPrints every lookalike of each DOMAIN that rcptguard would flag, with its technique.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nTechniques: %v\n", engine.Techniques())
	}
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	var ts []engine.Technique
	if *techs != "" {
		var err error
		if ts, err = engine.ParseTechniques(*techs); err != nil {
			return fail(env, "--techniques: %v", err)
		}
	}
	if fs.NArg() == 0 {
		return fail(env, "permute needs at least one DOMAIN")
	}
	doms := make([]address.Domain, 0, fs.NArg())
	for _, a := range fs.Args() {
		d, err := address.ParseDomain(a)
		if err != nil {
			return fail(env, "%s: %v", a, err)
		}
		doms = append(doms, d)
	}
	out := bufio.NewWriter(env.Stdout)
	var b []byte
	for _, d := range doms {
		for _, v := range engine.Permute(d, ts) {
			b = b[:0]
			if *asJSON {
				b = append(b, `{"of":`...)
				b = guard.AppendJSONString(b, d.ASCII)
				b = append(b, `,"domain":`...)
				b = guard.AppendJSONString(b, v.Domain.ASCII)
				b = append(b, `,"display":`...)
				b = guard.AppendJSONString(b, v.Domain.Display)
				b = append(b, `,"technique":`...)
				b = guard.AppendJSONString(b, v.Technique.String())
				b = append(b, '}')
			} else {
				b = append(b, v.Domain.Display...)
				b = append(b, "  "...)
				b = append(b, v.Technique.String()...)
				if v.Domain.Display != v.Domain.ASCII {
					b = append(b, "  "...)
					b = append(b, v.Domain.ASCII...)
				}
			}
			b = append(b, '\n')
			out.Write(b)
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(env.Stderr, "rcptguard: writing: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}
